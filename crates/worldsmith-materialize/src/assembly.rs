//! Assembly: one domain into one world directory. [`build`] plans the collections and
//! tools ([`crate::infer`]), generates the data ([`crate::data`]), self-checks every tool
//! ([`crate::self_check`]), hands failing ones to the model when there is one
//! ([`crate::refine`]), and keeps the world when enough tools pass; [`Draft`] writes a
//! world's files, its `world.json` built as the engine's typed
//! [`Manifest`](worldsmith_engine::manifest::Manifest).

use crate::MaterializeConfig;
use crate::infer::{self, Action, Collection, Planned};
use crate::refine::{self, Refiner};
use crate::report::{
    DataQuality, GeneratedWorld, ImplementationKind, Operation, Rejection, ToolFailure, ToolResult, WorldReport,
};
use crate::self_check::{self, Failure};
use crate::{data, round_trip, script};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::Origin;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::World;
use worldsmith_engine::manifest::{CollectionDecl, DataDecl, Effect, FORMAT, Manifest, Op, ToolDecl};
use worldsmith_graph::Domain;

/// Records by collection, then key.
pub(crate) type Data = BTreeMap<String, BTreeMap<String, Value>>;

/// What building one domain's world came to: the world when it is kept, the report line,
/// and the typed reasons the summary counts.
pub(crate) struct Built {
    /// The world's files, when it is kept.
    pub world: Option<GeneratedWorld>,
    /// The report line.
    pub report: WorldReport,
    /// Why the world was not kept (`None` when it was).
    pub rejection: Option<Rejection>,
    /// Why each failing tool failed, in tool order.
    pub failures: Vec<ToolFailure>,
}

/// A world being built: its inputs, and the schema, data, loaded world and model-written
/// scripts as they stand (refinement may add fields and scripts).
pub(crate) struct Workbench<'a> {
    /// The world's name.
    pub name: &'a str,
    /// The domain it comes from.
    pub domain: &'a Domain,
    /// The tool pool (planned tools index into it).
    pub tools: &'a [ToolSpec],
    /// Every tool planned for the world.
    pub planned: &'a [Planned],
    /// The data seed.
    pub seed: u64,
    /// The collections.
    pub collections: Vec<Collection>,
    /// The records.
    pub data: Data,
    /// The world loaded from all planned tools, on the current schema and data.
    pub world: World,
    /// Scripts a model wrote, by pool index.
    pub refined: BTreeMap<usize, String>,
}

impl Workbench<'_> {
    /// A draft of this world on the given schema and data.
    pub(crate) fn draft<'b>(&'b self, collections: &'b [Collection], data: &'b Data) -> Draft<'b> {
        Draft { name: self.name, domain: self.domain, collections, tools: self.tools, data }
    }

    /// Every planned tool, as [`Draft::files`] takes them.
    pub(crate) fn all(&self) -> Vec<&Planned> {
        self.planned.iter().collect()
    }
}

/// Builds, checks and (maybe) keeps one domain's world (`members` are pool indices).
pub(crate) fn build(
    tools: &[ToolSpec],
    domain: &Domain,
    members: &[usize],
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
) -> Built {
    let name = world_name(domain);
    let (mut collections, planned) = infer::plan(tools, members);
    keep_fitting_foreign_keys(&mut collections);
    let data = data::generate(&collections, config.records, config.seed);
    let mut report = WorldReport {
        domain: domain.id.clone(),
        world: name.clone(),
        kept: false,
        reason: None,
        collections: collections.len(),
        tools: planned.len(),
        passed: 0,
        results: Vec::new(),
        round_trips: Vec::new(),
        data: DataQuality::default(),
    };
    let all: Vec<&Planned> = planned.iter().collect();
    let no_scripts = BTreeMap::new();
    let draft = Draft { name: &name, domain, collections: &collections, tools, data: &data };
    let world = match self_check::load(&name, &draft.files(&all, &BTreeMap::new(), &no_scripts)) {
        Ok(w) => w,
        Err(e) => return rejected(report, Rejection::Load, e, Vec::new()),
    };
    let mut bench = Workbench {
        name: &name,
        domain,
        tools,
        planned: &planned,
        seed: config.seed,
        collections,
        data,
        world,
        refined: no_scripts,
    };
    let mut examples = BTreeMap::new();
    let mut failures = Vec::new();
    for p in &planned {
        let outcome = self_check::check_tool(&bench.world, p, &tools[p.tool], &bench.collections, config.seed);
        let c = bench.collections.iter().find(|c| c.name == p.collection).expect("planned on a collection");
        let mut result = ToolResult {
            tool: p.name.clone(),
            operation: operation(&p.action),
            implementation: implementation(p, c, &BTreeMap::new()).kind(),
            llm_attempts: 0,
            passed: outcome.is_ok(),
            reason: None,
        };
        let outcome = match (outcome, refiner) {
            (Err(failure), Some(r)) => {
                let (attempts, outcome) = refine::refine_tool(r, &mut bench, p, failure);
                result.llm_attempts = attempts;
                if outcome.is_ok() {
                    result.passed = true;
                    result.implementation = ImplementationKind::Llm;
                }
                outcome
            }
            (outcome, _) => outcome,
        };
        match outcome {
            Ok(args) => {
                examples.insert(p.tool, args);
            }
            Err(Failure { reason, message }) => {
                result.reason = Some(message);
                failures.push(reason);
            }
        }
        report.results.push(result);
    }
    // The share of tools that run decides whether the world is worth keeping.
    let mechanical = examples.len();
    // The semantic self-check: round trips between the passing tools of each collection; a
    // tool at fault in one is left out, so the kept tools agree with each other.
    // They run on the world as it will be written: the passing tools, with the scripts and
    // schema fixes a model contributed (a world that does not load is rejected below).
    let passing: Vec<&Planned> = planned.iter().filter(|p| examples.contains_key(&p.tool)).collect();
    let trips = self_check::load(
        &name,
        &bench.draft(&bench.collections, &bench.data).files(&passing, &examples, &bench.refined),
    )
    .map(|world| round_trip::round_trips(&world, &planned, &bench.collections, &examples))
    .unwrap_or_default();
    for trip in trips {
        if !trip.result.passed && examples.remove(&trip.blamed).is_some() {
            let name = &planned.iter().find(|p| p.tool == trip.blamed).expect("a planned tool").name;
            if let Some(result) = report.results.iter_mut().find(|r| &r.tool == name) {
                result.passed = false;
                result.reason = Some(format!(
                    "round trip ({}): {}",
                    trip.result.check.name(),
                    trip.result.reason.as_deref().unwrap_or_default()
                ));
            }
            failures.push(ToolFailure::RoundTrip(trip.result.check));
        }
        report.round_trips.push(trip.result);
    }
    report.passed = examples.len();
    #[allow(clippy::cast_precision_loss)]
    let rate = mechanical as f64 / report.tools.max(1) as f64;
    if rate < config.pass_rate || report.passed == 0 {
        let reason = format!("self-check: {mechanical} of {} tools passed", report.tools);
        return rejected(report, Rejection::SelfCheck, reason, failures);
    }
    report.data = DataQuality::of(bench.data.values().flat_map(BTreeMap::values));
    if report.data.mostly_placeholders() {
        let reason = format!("placeholders: {} of {} strings", report.data.placeholders, report.data.strings);
        return rejected(report, Rejection::Placeholders, reason, failures);
    }
    let kept: Vec<&Planned> = planned.iter().filter(|p| examples.contains_key(&p.tool)).collect();
    let files = bench.draft(&bench.collections, &bench.data).files(&kept, &examples, &bench.refined);
    match self_check::check_world(&name, &files) {
        Ok(()) => {
            report.kept = true;
            Built { world: Some(GeneratedWorld { name, files }), report, rejection: None, failures }
        }
        Err((rejection, reason)) => rejected(report, rejection, reason, failures),
    }
}

/// The outcome of a world that is not kept.
fn rejected(mut report: WorldReport, rejection: Rejection, reason: String, failures: Vec<ToolFailure>) -> Built {
    report.reason = Some(reason);
    Built { world: None, report, rejection: Some(rejection), failures }
}

/// Drops the foreign keys whose field cannot hold the target's keys (an integer field
/// referring to a collection with string keys).
fn keep_fitting_foreign_keys(collections: &mut [Collection]) {
    let numeric: BTreeMap<String, bool> = collections.iter().map(|c| (c.name.clone(), c.numeric_key)).collect();
    for c in collections {
        let fields = c.fields.clone();
        c.foreign_keys.retain(|f, target| {
            let kind = fields.get(f).map_or("string", |x| x.kind.as_str());
            kind == "string" || (numeric[target.as_str()] && kind == "integer")
        });
    }
}

/// A world name from a domain: `dom-0001-pet-owner` (lower case, `[a-z0-9_-]`).
fn world_name(domain: &Domain) -> String {
    let raw = format!("{}-{}", domain.id, domain.name);
    let s: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.chars().take(60).collect::<String>().trim_matches('-').to_owned()
}

/// What a planned action is reported as.
fn operation(action: &Action) -> Operation {
    match action {
        Action::Get { .. } => Operation::Get,
        Action::List { .. } => Operation::List,
        Action::Create { .. } => Operation::Create,
        Action::Update { .. } => Operation::Update,
        Action::Delete { .. } | Action::Clear { .. } => Operation::Delete,
        Action::Touch { .. } => Operation::Action,
        Action::Transition { .. } => Operation::Transition,
    }
}

/// How a tool is implemented.
enum Implementation {
    /// A declarative operation.
    Op(Op),
    /// Generated Starlark source.
    Script(String),
    /// Starlark source a model wrote.
    Llm(String),
}

impl Implementation {
    fn kind(&self) -> ImplementationKind {
        match self {
            Implementation::Op(_) => ImplementationKind::Op,
            Implementation::Script(_) => ImplementationKind::Script,
            Implementation::Llm(_) => ImplementationKind::Llm,
        }
    }
}

/// The implementation of a planned tool: a model's script when there is one, else generated
/// Starlark where one operation is not enough (a state transition, a wrapped list, a record
/// found only under its parents, arguments written under other fields' names, a create
/// that takes an optional caller's key, a delete by filter), else a declarative operation.
fn implementation(p: &Planned, c: &Collection, refined: &BTreeMap<usize, String>) -> Implementation {
    if let Some(source) = refined.get(&p.tool) {
        return Implementation::Llm(source.clone());
    }
    let writes = |fields: &[String]| -> Vec<(String, String)> {
        fields
            .iter()
            .map(|a| {
                let field = p.renames.iter().find(|(r, _)| r == a).map_or(a, |(_, f)| f);
                (a.clone(), field.clone())
            })
            .collect()
    };
    let scoped = !p.scope.is_empty();
    let renamed = !p.renames.is_empty();
    let script = match &p.action {
        Action::Transition { key, field, value } => Some(script::transition(&p.name, c, key, &p.scope, field, value)),
        Action::List { filters, wrap: Some(wrap) } => Some(script::wrapped_list(c, filters, wrap)),
        Action::Clear { filters, ids } => Some(script::clear(c, filters, ids.as_deref())),
        Action::Get { key } if scoped => Some(script::keyed(c, key, &p.scope, &script::Keyed::Get)),
        Action::Delete { key } if scoped => Some(script::keyed(c, key, &p.scope, &script::Keyed::Delete)),
        Action::Update { key, fields } if scoped || renamed => {
            let writes = writes(fields);
            Some(script::keyed(c, key, &p.scope, &script::Keyed::Update { writes: &writes, touch: None }))
        }
        Action::Touch { key } if scoped => {
            Some(script::keyed(c, key, &p.scope, &script::Keyed::Update { writes: &[], touch: Some(&p.name) }))
        }
        Action::Create { key, fields } if renamed || key.as_ref().is_some_and(|k| !required(p, k)) => {
            let prefix = if c.numeric_key { String::new() } else { format!("{}-", data::key_prefix(c)) };
            Some(script::create(c, key.as_deref(), &writes(fields), &prefix))
        }
        _ => None,
    };
    script.map_or_else(|| Implementation::Op(op_of(p, c)), Implementation::Script)
}

/// Whether a planned tool's argument is required.
fn required(p: &Planned, arg: &str) -> bool {
    infer::required(&p.parameters, arg)
}

/// The declarative operation of a planned tool.
fn op_of(p: &Planned, c: &Collection) -> Op {
    let collection = p.collection.clone();
    match &p.action {
        Action::Get { key } => Op::Get { collection, key: Some(key.clone()) },
        Action::List { filters, .. } => {
            Op::List { collection, filters: filters.iter().cloned().collect(), limit: None }
        }
        Action::Create { key, fields } => Op::Create {
            collection,
            fields: Some(fields.clone()),
            key: key.clone(),
            key_prefix: (key.is_none() && !c.numeric_key).then(|| format!("{}-", data::key_prefix(c))),
            set: Map::new(),
        },
        Action::Update { key, fields } => Op::Update {
            collection,
            key: Some(key.clone()),
            fields: Some(fields.clone()),
            set: Map::new(),
            require: Map::new(),
        },
        Action::Delete { key } => Op::Delete { collection, key: Some(key.clone()), require: Map::new() },
        Action::Touch { key } => Op::Update {
            collection,
            key: Some(key.clone()),
            fields: Some(Vec::new()),
            set: Map::from_iter([("last_action".to_owned(), Value::String(p.name.clone()))]),
            require: Map::new(),
        },
        Action::Transition { .. } | Action::Clear { .. } => {
            unreachable!("transitions and deletes by filter are generated Starlark (`implementation`)")
        }
    }
}

/// Whether a planned tool may change the state.
pub(crate) fn writes(p: &Planned) -> bool {
    !matches!(p.action, Action::Get { .. } | Action::List { .. })
}

/// A world's files: the manifest with the given tools (and their examples), their scripts,
/// and the data.
pub(crate) struct Draft<'a> {
    name: &'a str,
    domain: &'a Domain,
    collections: &'a [Collection],
    tools: &'a [ToolSpec],
    data: &'a Data,
}

impl Draft<'_> {
    /// `world.json` with the tools `planned` (their `examples`, and the model's scripts in
    /// `refined`), the scripts, and `data/<collection>.json`, as (relative path, text).
    pub(crate) fn files(
        &self,
        planned: &[&Planned],
        examples: &BTreeMap<usize, Value>,
        refined: &BTreeMap<usize, String>,
    ) -> Vec<(String, String)> {
        let (manifest, scripts) = self.manifest(planned, examples, refined);
        let mut files = vec![("world.json".to_owned(), pretty(&manifest))];
        files.extend(scripts);
        for (c, records) in self.data {
            files.push((format!("data/{c}.json"), pretty(records)));
        }
        files
    }

    /// The manifest of the world with the given tools (and their examples), and its scripts.
    fn manifest(
        &self,
        planned: &[&Planned],
        examples: &BTreeMap<usize, Value>,
        refined: &BTreeMap<usize, String>,
    ) -> (Manifest, Vec<(String, String)>) {
        let Draft { name, domain, collections, tools, .. } = *self;
        let mut scripts = Vec::new();
        let by_name: BTreeMap<&str, &Collection> = collections.iter().map(|c| (c.name.as_str(), c)).collect();
        let decls: IndexMap<String, CollectionDecl> =
            collections.iter().map(|c| (c.name.clone(), collection_decl(c))).collect();
        let names: BTreeSet<&str> = planned.iter().map(|p| p.name.as_str()).collect();
        let tool_decls: Vec<ToolDecl> = planned
            .iter()
            .map(|p| {
                let tool = &tools[p.tool];
                let mut decl = ToolDecl {
                    name: p.name.clone(),
                    description: if tool.description.trim().is_empty() {
                        tool.name.clone()
                    } else {
                        tool.description.clone()
                    },
                    effect: if writes(p) { Effect::Write } else { Effect::Read },
                    parameters: p.parameters.clone(),
                    op: None,
                    script: None,
                    function: None,
                    example: examples.get(&p.tool).cloned(),
                };
                match implementation(p, by_name[p.collection.as_str()], refined) {
                    Implementation::Op(op) => decl.op = Some(op),
                    Implementation::Script(source) | Implementation::Llm(source) => {
                        let path = format!("tools/{}.star", p.name);
                        decl.script = Some(path.clone());
                        decl.function = Some("run".to_owned());
                        scripts.push((path, source));
                    }
                }
                decl
            })
            .collect();
        let id_to_name: BTreeMap<&str, &str> =
            planned.iter().map(|p| (tools[p.tool].id.as_str(), p.name.as_str())).collect();
        let edges: Vec<(String, String)> = domain
            .edges
            .iter()
            .filter_map(|(a, b)| Some((*id_to_name.get(a.as_str())?, *id_to_name.get(b.as_str())?)))
            .filter(|(a, b)| names.contains(a) && names.contains(b))
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let collection_names: Vec<String> =
            collections.iter().map(|c| worldsmith_core::ident::phrase(&c.name)).collect();
        let title = title(planned.iter().map(|p| &tools[p.tool]));
        let manifest = Manifest {
            format: FORMAT,
            name: name.to_owned(),
            version: "1".to_owned(),
            origin: Origin::Generated,
            description: format!(
                "{} ({} operations) on {}.",
                capitalized(&title),
                planned.len(),
                worldsmith_core::prose::and_list(&collection_names)
            ),
            title,
            collections: decls,
            data: DataDecl { dir: Some("data".to_owned()), ..DataDecl::default() },
            tools: tool_decls,
            edges,
            limits: None,
        };
        (manifest, scripts)
    }
}

/// What people call a generated world: its tools' API by provider (and service), the most
/// common first, at most two: `the Jumpseller API`, `the Adyen Account Service and Stripe
/// APIs`. Never a path or a domain id, so the agent's prompt does not depend on them.
fn title<'a>(tools: impl Iterator<Item = &'a ToolSpec>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in tools {
        let provider = provider_name(&t.provenance.provider);
        let name = match t.provenance.service.as_deref().filter(|s| !s.is_empty()) {
            Some(service) => format!("{provider} {}", title_case(&worldsmith_core::ident::phrase(service))),
            None => provider,
        };
        if !name.trim().is_empty() {
            *counts.entry(name).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let names: Vec<String> = ranked.into_iter().take(2).map(|(n, _)| n).collect();
    match names.as_slice() {
        [] => "the API".to_owned(),
        [one] => format!("the {one} API"),
        _ => format!("the {} APIs", worldsmith_core::prose::and_list(&names)),
    }
}

/// A provider as people name it: `jumpseller.com` -> `Jumpseller`, `api.video` -> `Video`,
/// `1password.local` -> `1password`.
fn provider_name(provider: &str) -> String {
    const HOST_WORDS: &[&str] =
        &["com", "net", "org", "io", "local", "api", "www", "co", "dev", "app", "appspot", "googleapis", "cloud"];
    let words: Vec<String> = provider
        .split(['.', '-', '_', ' ', ':'])
        .filter(|w| !w.is_empty() && !HOST_WORDS.contains(&w.to_lowercase().as_str()) && w.len() > 1)
        .map(title_case)
        .collect();
    if words.is_empty() { title_case(provider) } else { words.join(" ") }
}

/// Each word with a capital first letter.
fn title_case(text: &str) -> String {
    text.split(' ').map(capitalized).collect::<Vec<_>>().join(" ")
}

/// The text with a capital first letter.
fn capitalized(text: &str) -> String {
    let mut c = text.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The manifest's declaration of an inferred collection.
fn collection_decl(c: &Collection) -> CollectionDecl {
    CollectionDecl {
        description: format!("{} records, keyed by {}", c.name, c.key),
        fields: c.fields.iter().map(|(f, field)| (f.clone(), infer::field_schema(field))).collect(),
        foreign_keys: c.foreign_keys.iter().map(|(f, t)| (f.clone(), t.clone())).collect(),
        ..CollectionDecl::new(c.key.clone())
    }
}

/// Pretty JSON with a final newline, as every file of a world is written.
fn pretty(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
