//! Materialization: each discovered domain becomes an executable world, deterministically.
//!
//! 1. [`infer`]: collections from resource paths (`/pets/{petId}` -> `pets` keyed by
//!    `petId`) or function names, fields from response schemas and body parameters,
//!    foreign keys from id-like names, and each tool classified (HTTP method, else the verb
//!    of its name) into a declarative operation: get, list, create, update, delete, or an
//!    update that records an action that fits no CRUD verb.
//! 2. [`data`]: seeded, schema-valid records whose foreign keys point at existing keys, with
//!    values chosen by field name, format and enum.
//! 3. Self-check: every tool is called on arguments drawn from the generated state; a write
//!    must change the digest, a read must not. A world is kept when at least
//!    [`MaterializeConfig::pass_rate`] of its tools pass; the failing ones are left out,
//!    the passing ones carry their arguments as `example`, and the world must then pass
//!    `world check`.
//!
//! The output is files in memory ([`GeneratedWorld::files`]); the caller writes them.

pub mod data;
pub mod infer;
pub mod refine;
pub mod script;

use infer::{Action, Collection, Planned};
use rayon::prelude::*;
use refine::Refiner;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::{MemFiles, World};
use worldsmith_graph::Domain;

/// How worlds are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaterializeConfig {
    /// Records per collection.
    pub records: usize,
    /// The data seed.
    pub seed: u64,
    /// Domains with fewer tools are skipped.
    pub min_tools: usize,
    /// The share of tools that must pass the self-check for the world to be kept.
    pub pass_rate: f64,
}

impl Default for MaterializeConfig {
    fn default() -> MaterializeConfig {
        MaterializeConfig { records: 20, seed: 0, min_tools: 3, pass_rate: 0.9 }
    }
}

/// One tool's self-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The tool's name.
    pub tool: String,
    /// `get`, `list`, `create`, `update`, `delete`, `action` or `transition`.
    pub operation: String,
    /// `op` (declarative), `script` (generated Starlark) or `llm` (Starlark a model wrote
    /// after the generated implementation failed).
    #[serde(default)]
    pub implementation: String,
    /// Requests made to the model for this tool (refinement only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub llm_attempts: usize,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One domain's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldReport {
    /// The domain.
    pub domain: String,
    /// The world's name.
    pub world: String,
    /// Whether the world was kept.
    pub kept: bool,
    /// Why it was not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Collections inferred.
    pub collections: usize,
    /// Tools in the domain.
    pub tools: usize,
    /// Tools that passed the self-check.
    pub passed: usize,
    /// Per tool.
    pub results: Vec<ToolResult>,
}

/// A world ready to be written: relative path -> contents.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedWorld {
    /// The world's name (its directory).
    pub name: String,
    /// `world.json` and `data/<collection>.json`.
    pub files: Vec<(String, String)>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Counts over all domains.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaterializeSummary {
    /// Domains read.
    pub domains: usize,
    /// Domains skipped for having fewer than `min_tools` known tools.
    pub skipped_small: usize,
    /// Worlds kept.
    pub kept: usize,
    /// Domains attempted but not kept, by reason.
    pub rejected: BTreeMap<String, usize>,
    /// Tools self-checked, and passed.
    pub tools_checked: usize,
    /// Tools that passed.
    pub tools_passed: usize,
    /// Failing tools by reason (the message up to its first `:`).
    pub tool_failures: BTreeMap<String, usize>,
    /// Tools implemented by generated Starlark.
    #[serde(default)]
    pub scripted_tools: usize,
    /// Tools that failed and that a model was asked to implement.
    #[serde(default)]
    pub refine_asked: usize,
    /// Tools a model's script made pass.
    #[serde(default)]
    pub refine_passed: usize,
    /// Requests made to the model.
    #[serde(default)]
    pub refine_requests: usize,
}

/// Materializes every domain (in parallel; the output follows domain order).
#[must_use]
///
/// With a [`Refiner`], tools that fail the self-check are given to a model to implement in
/// Starlark (see [`refine`]).
/// `progress` is called with the number of domains done, now and then.
pub fn materialize(
    tools: &[ToolSpec],
    domains: &[Domain],
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<GeneratedWorld>, Vec<WorldReport>, MaterializeSummary) {
    let index: BTreeMap<&str, usize> = tools.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Option<(Option<GeneratedWorld>, WorldReport)>> = domains
        .par_iter()
        .map(|d| {
            let members: Vec<usize> = d.tools.iter().filter_map(|id| index.get(id.as_str()).copied()).collect();
            let outcome = (members.len() >= config.min_tools).then(|| world_of(tools, d, &members, config, refiner));
            let count = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if count.is_multiple_of(16) {
                progress(count);
            }
            outcome
        })
        .collect();
    let mut summary = MaterializeSummary { domains: domains.len(), ..MaterializeSummary::default() };
    let mut worlds = Vec::new();
    let mut reports = Vec::new();
    for outcome in outcomes {
        let Some((world, report)) = outcome else {
            summary.skipped_small += 1;
            continue;
        };
        summary.tools_checked += report.results.len();
        summary.tools_passed += report.passed;
        for r in &report.results {
            summary.scripted_tools += usize::from(r.passed && r.implementation == "script");
            summary.refine_asked += usize::from(r.llm_attempts > 0);
            summary.refine_passed += usize::from(r.passed && r.implementation == "llm");
            summary.refine_requests += r.llm_attempts;
        }
        for r in report.results.iter().filter(|r| !r.passed) {
            let reason = r.reason.as_deref().unwrap_or("failed");
            *summary.tool_failures.entry(reason.split(':').next().unwrap_or(reason).to_owned()).or_default() += 1;
        }
        match world {
            Some(w) => {
                summary.kept += 1;
                worlds.push(w);
            }
            None => {
                let reason = report.reason.as_deref().unwrap_or("rejected");
                *summary.rejected.entry(reason.split(':').next().unwrap_or(reason).to_owned()).or_default() += 1;
            }
        }
        reports.push(report);
    }
    (worlds, reports, summary)
}

/// A world name from a domain: `dom-0001-pet-owner` (lower case, `[a-z0-9_-]`).
fn world_name(domain: &Domain) -> String {
    let raw = format!("{}-{}", domain.id, domain.name);
    let s: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.chars().take(60).collect::<String>().trim_matches('-').to_owned()
}

fn operation_name(action: &Action) -> &'static str {
    match action {
        Action::Get { .. } => "get",
        Action::List { .. } => "list",
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::Delete { .. } => "delete",
        Action::Touch { .. } => "action",
        Action::Transition { .. } => "transition",
    }
}

/// How a tool is implemented.
enum Implementation {
    /// A declarative operation.
    Op(Value),
    /// Generated Starlark source.
    Script(String),
    /// Starlark source a model wrote.
    Llm(String),
}

impl Implementation {
    fn kind(&self) -> &'static str {
        match self {
            Implementation::Op(_) => "op",
            Implementation::Script(_) => "script",
            Implementation::Llm(_) => "llm",
        }
    }
}

/// The implementation of a planned tool: a model's script when there is one, else generated
/// Starlark where one operation is not enough, else a declarative operation.
fn implementation(p: &Planned, c: &Collection, refined: &BTreeMap<usize, String>) -> Implementation {
    if let Some(source) = refined.get(&p.tool) {
        return Implementation::Llm(source.clone());
    }
    match &p.action {
        Action::Transition { key, field, value } => {
            Implementation::Script(script::transition(&p.name, c, key, field, value))
        }
        Action::List { filters, wrap: Some(wrap) } => Implementation::Script(script::wrapped_list(c, filters, wrap)),
        _ => Implementation::Op(op_json(p, c)),
    }
}

/// The declarative operation of a planned tool.
fn op_json(p: &Planned, c: &Collection) -> Value {
    let collection = &p.collection;
    match &p.action {
        Action::Get { key } => json!({"kind": "get", "collection": collection, "key": key}),
        Action::List { filters, .. } => {
            let filters: Map<String, Value> = filters.iter().map(|(f, a)| (f.clone(), json!(a))).collect();
            json!({"kind": "list", "collection": collection, "where": filters})
        }
        Action::Create { key, fields } => {
            let mut op = json!({"kind": "create", "collection": collection, "fields": fields});
            match key {
                Some(k) => op["key"] = json!(k),
                None if !c.numeric_key => op["key_prefix"] = json!(format!("{}-", data::key_prefix(c))),
                None => {}
            }
            op
        }
        Action::Update { key, fields } => {
            json!({"kind": "update", "collection": collection, "key": key, "fields": fields})
        }
        Action::Delete { key } => json!({"kind": "delete", "collection": collection, "key": key}),
        Action::Touch { key } => json!({
            "kind": "update", "collection": collection, "key": key, "fields": [],
            "set": {"last_action": p.name},
        }),
        Action::Transition { .. } => unreachable!("transitions are generated Starlark (`implementation`)"),
    }
}

/// Whether a planned tool may change the state.
fn writes(p: &Planned) -> bool {
    !matches!(p.action, Action::Get { .. } | Action::List { .. })
}

/// Records by collection, then key.
type Data = BTreeMap<String, BTreeMap<String, Value>>;

/// The collections and data with fields a model asked for (`collection -> field -> JSON
/// type`), each filled in every record; an unknown collection or type, or a field that
/// exists with another type, is an error the model reads.
fn with_fields(
    collections: &[Collection],
    data: &Data,
    add: &BTreeMap<String, BTreeMap<String, String>>,
    seed: u64,
) -> Result<(Vec<Collection>, Data), String> {
    let mut collections = collections.to_vec();
    let mut data = data.clone();
    for (name, fields) in add {
        let c = collections
            .iter_mut()
            .find(|c| &c.name == name)
            .ok_or_else(|| format!("schema fix: there is no collection `{name}`"))?;
        for (field, kind) in fields {
            if !matches!(kind.as_str(), "string" | "number" | "integer" | "boolean" | "array" | "object") {
                return Err(format!("schema fix: `{name}.{field}`: `{kind}` is not a JSON type"));
            }
            match c.fields.get(field) {
                Some(f) if &f.kind == kind => continue,
                Some(f) => return Err(format!("schema fix: `{name}.{field}` exists as {}, not {kind}", f.kind)),
                None => {}
            }
            let new = infer::Field { kind: kind.clone(), format: None, choices: Vec::new(), item: None };
            let mut rng = SplitMix64::for_stream(seed, &format!("{name}.{field}"));
            for (k, record) in data.entry(name.clone()).or_default().values_mut().enumerate() {
                if let Value::Object(m) = record {
                    m.insert(field.clone(), data::value(field, &new, k + 1, &mut rng));
                }
            }
            c.fields.insert(field.clone(), new);
        }
    }
    Ok((collections, data))
}

/// A world's files: the manifest with the given tools (and their examples), their scripts,
/// and the data.
struct Draft<'a> {
    name: &'a str,
    domain: &'a Domain,
    collections: &'a [Collection],
    tools: &'a [ToolSpec],
    data: &'a Data,
}

impl Draft<'_> {
    fn files(
        &self,
        planned: &[&Planned],
        examples: &BTreeMap<usize, Value>,
        refined: &BTreeMap<usize, String>,
    ) -> Vec<(String, String)> {
        let (manifest, scripts) = manifest(self, planned, examples, refined);
        let mut files = vec![("world.json".to_owned(), pretty(&manifest))];
        files.extend(scripts);
        for (c, records) in self.data {
            files.push((format!("data/{c}.json"), pretty(&json!(records))));
        }
        files
    }
}

/// The manifest of a world with the given tools (and their examples), and its scripts.
fn manifest(
    draft: &Draft<'_>,
    planned: &[&Planned],
    examples: &BTreeMap<usize, Value>,
    refined: &BTreeMap<usize, String>,
) -> (Value, Vec<(String, String)>) {
    let Draft { name, domain, collections, tools, .. } = *draft;
    let mut scripts = Vec::new();
    let by_name: BTreeMap<&str, &Collection> = collections.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut cols = Map::new();
    for c in collections {
        let fields: Map<String, Value> =
            c.fields.iter().map(|(f, field)| (f.clone(), infer::field_schema(field))).collect();
        cols.insert(
            c.name.clone(),
            json!({
                "key": c.key,
                "description": format!("{} records, keyed by {}", c.name, c.key),
                "fields": fields,
                "foreign_keys": c.foreign_keys,
            }),
        );
    }
    let names: BTreeSet<&str> = planned.iter().map(|p| p.name.as_str()).collect();
    let tool_decls: Vec<Value> = planned
        .iter()
        .map(|p| {
            let tool = &tools[p.tool];
            let mut decl = json!({
                "name": p.name,
                "description": if tool.description.trim().is_empty() { tool.name.clone() } else { tool.description.clone() },
                "effect": if writes(p) { "write" } else { "read" },
                "parameters": p.parameters,
            });
            match implementation(p, by_name[p.collection.as_str()], refined) {
                Implementation::Op(op) => decl["op"] = op,
                Implementation::Script(source) | Implementation::Llm(source) => {
                    let path = format!("tools/{}.star", p.name);
                    decl["script"] = json!(path);
                    decl["function"] = json!("run");
                    scripts.push((path, source));
                }
            }
            if let Some(example) = examples.get(&p.tool) {
                decl["example"] = example.clone();
            }
            decl
        })
        .collect();
    let id_to_name: BTreeMap<&str, &str> =
        planned.iter().map(|p| (tools[p.tool].id.as_str(), p.name.as_str())).collect();
    let edges: Vec<Value> = domain
        .edges
        .iter()
        .filter_map(|(a, b)| Some((*id_to_name.get(a.as_str())?, *id_to_name.get(b.as_str())?)))
        .filter(|(a, b)| names.contains(a) && names.contains(b))
        .map(|(a, b)| json!([a, b]))
        .collect();
    let manifest = json!({
        "format": 1,
        "name": name,
        "version": "1",
        "origin": "generated",
        "description": format!("A world generated from the `{}` domain ({} tools): {}.", domain.name, planned.len(), collections.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")),
        "collections": cols,
        "data": {"dir": "data"},
        "tools": tool_decls,
        "edges": edges,
    });
    (manifest, scripts)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn load(name: &str, files: &[(String, String)]) -> Result<World, String> {
    let mut mem = MemFiles::new(format!("generated:{name}"));
    for (path, text) in files {
        mem.insert(path.clone(), text.clone());
    }
    World::load(&mem).map_err(|e| {
        let text = e.to_string();
        let first_problem = text.lines().nth(1).unwrap_or(&text).trim().to_owned();
        format!("load: {first_problem}")
    })
}

/// Builds, checks and (maybe) keeps one domain's world.
fn world_of(
    tools: &[ToolSpec],
    domain: &Domain,
    members: &[usize],
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
) -> (Option<GeneratedWorld>, WorldReport) {
    let name = world_name(domain);
    let (mut collections, planned) = infer::plan(tools, members);
    // A foreign key must be able to hold its target's keys.
    let numeric: BTreeMap<String, bool> = collections.iter().map(|c| (c.name.clone(), c.numeric_key)).collect();
    for c in &mut collections {
        let fields = c.fields.clone();
        c.foreign_keys.retain(|f, target| {
            let kind = fields.get(f).map_or("string", |x| x.kind.as_str());
            kind == "string" || (numeric[target.as_str()] && kind == "integer")
        });
    }
    let mut data = data::generate(&collections, config.records, config.seed);
    let mut report = WorldReport {
        domain: domain.id.clone(),
        world: name.clone(),
        kept: false,
        reason: None,
        collections: collections.len(),
        tools: planned.len(),
        passed: 0,
        results: Vec::new(),
    };
    let all: Vec<&Planned> = planned.iter().collect();
    let no_scripts = BTreeMap::new();
    let load_all = |collections: &[Collection], data: &Data| {
        let draft = Draft { name: &name, domain, collections, tools, data };
        load(&name, &draft.files(&all, &BTreeMap::new(), &no_scripts))
    };
    let mut world = match load_all(&collections, &data) {
        Ok(w) => w,
        Err(e) => {
            report.reason = Some(e);
            return (None, report);
        }
    };
    let mut examples = BTreeMap::new();
    let mut refined = BTreeMap::new();
    for p in &planned {
        let outcome = self_check(&world, p, &tools[p.tool], &collections, config.seed);
        let c = collections.iter().find(|c| c.name == p.collection).expect("planned on a collection");
        let mut result = ToolResult {
            tool: p.name.clone(),
            operation: operation_name(&p.action).to_owned(),
            implementation: implementation(p, c, &no_scripts).kind().to_owned(),
            llm_attempts: 0,
            passed: outcome.is_ok(),
            reason: None,
        };
        match outcome {
            Ok(args) => {
                examples.insert(p.tool, args);
            }
            Err(e) => match refiner {
                Some(r) => {
                    // The model's script, on the collections with the fields it added; the
                    // schema of the last proposal that passed is kept.
                    let passed_schema = std::cell::RefCell::new(None);
                    let check = |proposal: &refine::Proposal| {
                        let (cols, rows) = with_fields(&collections, &data, &proposal.add_fields, config.seed)?;
                        let mut scripts = refined.clone();
                        scripts.insert(p.tool, proposal.script.clone());
                        let draft = Draft { name: &name, domain, collections: &cols, tools, data: &rows };
                        let world = load(&name, &draft.files(&[p], &BTreeMap::new(), &scripts))?;
                        let args = self_check(&world, p, &tools[p.tool], &cols, config.seed)?;
                        *passed_schema.borrow_mut() = Some((cols, rows));
                        Ok(args)
                    };
                    let outcome =
                        r.implement(&refine::Request::new(p, &tools[p.tool], &collections, &data, &e), &check);
                    result.llm_attempts = outcome.attempts;
                    match outcome.accepted {
                        Some((proposal, args)) => {
                            if !proposal.add_fields.is_empty()
                                && let Some((cols, rows)) = passed_schema.into_inner()
                                && let Ok(w) = load_all(&cols, &rows)
                            {
                                (collections, data, world) = (cols, rows, w);
                            }
                            refined.insert(p.tool, proposal.script);
                            examples.insert(p.tool, args);
                            result.passed = true;
                            result.implementation = "llm".to_owned();
                        }
                        None => result.reason = Some(outcome.last_error.unwrap_or(e)),
                    }
                }
                None => result.reason = Some(e),
            },
        }
        report.results.push(result);
    }
    report.passed = examples.len();
    #[allow(clippy::cast_precision_loss)]
    let rate = report.passed as f64 / report.tools.max(1) as f64;
    if rate < config.pass_rate || report.passed == 0 {
        report.reason = Some(format!("self-check: {} of {} tools passed", report.passed, report.tools));
        return (None, report);
    }
    let kept: Vec<&Planned> = planned.iter().filter(|p| examples.contains_key(&p.tool)).collect();
    let draft = Draft { name: &name, domain, collections: &collections, tools, data: &data };
    let files = draft.files(&kept, &examples, &refined);
    match load(&name, &files).map(|w| worldsmith_engine::check(&w)) {
        Ok(check) if check.passed() => {
            report.kept = true;
            (Some(GeneratedWorld { name, files }), report)
        }
        Ok(check) => {
            let failed = check.tools.iter().find(|t| !t.ok).map(|t| format!("{}: {}", t.tool, t.outcome));
            report.reason = Some(format!("world check: {}", failed.unwrap_or_else(|| "integrity".to_owned())));
            (None, report)
        }
        Err(e) => {
            report.reason = Some(e);
            (None, report)
        }
    }
}

/// The schema of a parameter, as a [`infer::Field`].
fn param_field(parameters: &Value, name: &str) -> infer::Field {
    infer::field_of(parameters["properties"].get(name).unwrap_or(&Value::Null))
}

/// Calls a tool on arguments drawn from the world's state; returns the arguments when the
/// call passes (a write changes the digest, a read does not).
fn self_check(
    world: &World,
    p: &Planned,
    tool: &ToolSpec,
    collections: &[Collection],
    seed: u64,
) -> Result<Value, String> {
    let state = world.initial_state();
    let c = collections.iter().find(|c| c.name == p.collection).ok_or("no collection")?;
    let mut rng = SplitMix64::for_stream(seed, &tool.name);
    let required: Vec<String> = p.parameters["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let mut keys: Vec<String> = state.keys(&c.name).map(str::to_owned).collect();
    if c.numeric_key {
        // In the order they were generated (the last ones are never referred to).
        keys.sort_by_key(|k| k.parse::<u64>().unwrap_or(u64::MAX));
    }
    let fill = |args: &mut Map<String, Value>, name: &str, rng: &mut SplitMix64| {
        if args.contains_key(name) {
            return;
        }
        let field = c.fields.get(name).cloned().unwrap_or_else(|| param_field(&p.parameters, name));
        let field = infer::Field { kind: param_field(&p.parameters, name).kind, ..field };
        let v = match c.foreign_keys.get(name) {
            Some(target) => {
                let t: Vec<&str> = state.keys(target).collect();
                t.first().map_or(Value::Null, |k| data::key_value(k, &field.kind))
            }
            None => data::value(name, &field, 9_000 + rng.below(1000) as usize, rng),
        };
        args.insert(name.to_owned(), v);
    };
    let key_kind = |k: &str| param_field(&p.parameters, k).kind;
    let mut candidates: Vec<Map<String, Value>> = Vec::new();
    match &p.action {
        Action::Get { key }
        | Action::Touch { key }
        | Action::Transition { key, .. }
        | Action::Update { key, .. }
        | Action::Delete { key } => {
            // Deletes try the last records first (the least likely to be referenced);
            // transitions, records not already in the target state.
            let order: Vec<&String> = match &p.action {
                Action::Delete { .. } => keys.iter().rev().take(5).collect(),
                Action::Transition { field, value, .. } => keys
                    .iter()
                    .filter(|k| {
                        state
                            .get(&c.name, k)
                            .is_none_or(|r| !worldsmith_core::canonical::json_eq(&r[field.as_str()], value))
                    })
                    .take(3)
                    .collect(),
                _ => keys.iter().take(3).collect(),
            };
            for k in order {
                let mut args = Map::new();
                args.insert(key.clone(), data::key_value(k, &key_kind(key)));
                if let Action::Update { fields, .. } = &p.action {
                    for f in fields {
                        fill(&mut args, f, &mut rng);
                    }
                }
                candidates.push(args);
            }
        }
        Action::List { .. } => candidates.push(Map::new()),
        Action::Create { key, fields } => {
            let mut args = Map::new();
            if let Some(k) = key {
                let fresh = if c.numeric_key {
                    (keys.len() + 1000).to_string()
                } else {
                    format!("{}-9999", data::key_prefix(c))
                };
                args.insert(k.clone(), data::key_value(&fresh, &key_kind(k)));
            }
            for f in fields {
                fill(&mut args, f, &mut rng);
            }
            candidates.push(args);
        }
    }
    let mut last = String::from("no arguments to try");
    for mut args in candidates {
        // Required arguments the operation does not use: values of the right kind, or, for
        // a filter, a value an existing record has.
        for r in &required {
            if !args.contains_key(r) {
                let existing = keys.first().and_then(|k| state.get(&c.name, k)).and_then(|rec| rec.get(r)).cloned();
                match existing {
                    Some(v) if !v.is_null() => {
                        args.insert(r.clone(), v);
                    }
                    _ => fill(&mut args, r, &mut rng),
                }
            }
        }
        let args = Value::Object(args);
        let mut session = world.session();
        let before = session.digest();
        match session.execute(&p.name, &args) {
            Ok(_) => {
                let changed = session.digest() != before;
                if writes(p) && !changed {
                    last = "no change: the write left the state as it was".to_owned();
                    continue;
                }
                return Ok(args);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}
