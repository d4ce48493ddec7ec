//! Loading a world: manifest, schema, tools, scripts and initial data, each problem
//! reported with its file and JSON pointer or line.

use crate::error::{Diagnostic, LoadError};
use crate::files::{DirFiles, WorldFiles};
use crate::manifest::{Effect, FORMAT, Manifest, Op, Origin};
use crate::ops;
use crate::schema::{CollectionSchema, Schema, describe_validation_error};
use crate::script::{Limits, ModuleLoader, Script};
use crate::session::Session;
use crate::state::State;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use worldsmith_core::tool::FunctionTool;

/// How a tool is implemented.
pub(crate) enum Implementation {
    Op(Op),
    Script(Script),
}

/// A loaded tool: its OpenAI function schema, effect and compiled implementation.
pub struct Tool {
    name: String,
    description: String,
    effect: Effect,
    parameters: Value,
    properties: Vec<String>,
    example: Option<Value>,
    validator: jsonschema::Validator,
    pub(crate) implementation: Implementation,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool").field("name", &self.name).field("effect", &self.effect).finish_non_exhaustive()
    }
}

impl Tool {
    /// The function name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description the agent reads.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Read or write.
    #[must_use]
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The JSON Schema of the arguments.
    #[must_use]
    pub fn parameters(&self) -> &Value {
        &self.parameters
    }

    /// The example arguments declared in the manifest, if any.
    #[must_use]
    pub fn example(&self) -> Option<&Value> {
        self.example.as_ref()
    }

    /// Whether the tool is a Starlark script (else a declarative operation).
    #[must_use]
    pub fn is_script(&self) -> bool {
        matches!(self.implementation, Implementation::Script(_))
    }

    /// The tool in OpenAI function-calling format:
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`.
    #[must_use]
    pub fn openai(&self) -> FunctionTool {
        FunctionTool::new(&self.name, &self.description, self.parameters.clone())
    }

    /// Checks arguments against the parameters: an object, no undeclared names, and the
    /// JSON Schema. `null` counts as `{}`.
    ///
    /// # Errors
    /// Every problem, joined with `; `.
    pub fn validate_arguments<'a>(&self, args: &'a Value) -> Result<Cow<'a, serde_json::Map<String, Value>>, String> {
        static EMPTY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(serde_json::Map::new()));
        let (value, map) = match args {
            Value::Object(m) => (args, Cow::Borrowed(m)),
            Value::Null => (&*EMPTY, Cow::Owned(serde_json::Map::new())),
            other => {
                return Err(format!(
                    "arguments must be a JSON object, got {}",
                    crate::error::quote_prefix(&other.to_string())
                ));
            }
        };
        let mut problems: Vec<String> = Vec::new();
        for k in map.keys().filter(|k| !self.properties.contains(k)) {
            let k = crate::error::quote_prefix(k);
            problems.push(if self.properties.is_empty() {
                format!("unknown argument `{k}` (this tool takes no arguments)")
            } else {
                format!("unknown argument `{k}` (expected one of: {})", self.properties.join(", "))
            });
        }
        if !self.validator.is_valid(value) {
            problems.extend(self.validator.iter_errors(value).map(|e| describe_validation_error(&e)));
        }
        out_of_range_numbers(value, &mut String::new(), &mut problems);
        if problems.is_empty() { Ok(map) } else { Err(problems.join("; ")) }
    }
}

/// Numbers no tool can use (`1e400`, an integer of hundreds of digits: neither a 64-bit
/// integer nor a finite 64-bit float), each reported with its JSON pointer.
fn out_of_range_numbers(value: &Value, at: &mut String, problems: &mut Vec<String>) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() && n.as_f64().is_none_or(|f| !f.is_finite()) => {
            let pointer = if at.is_empty() { "/" } else { at.as_str() };
            let number = n.to_string();
            problems.push(format!("{pointer}: {} is out of range", crate::error::quote_prefix(&number)));
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                out_of_range_numbers(x, at, problems);
                at.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&crate::error::quote_prefix(&pointer_escape(k)));
                out_of_range_numbers(x, at, problems);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

struct Inner {
    manifest: Manifest,
    label: String,
    schema: Schema,
    tools: Vec<Tool>,
    by_name: BTreeMap<String, usize>,
    initial: State,
    limits: Limits,
}

/// A loaded, validated world: schema, tools and initial state. Cheap to clone (shared).
///
/// ```
/// use serde_json::json;
/// use worldsmith_engine::{MemFiles, World};
///
/// let files = MemFiles::new("counter")
///     .with("world.json", r#"{
///       "format": 1, "name": "counter",
///       "collections": {"counters": {"key": "name", "fields": {"value": {"type": "integer"}}}},
///       "data": {"dir": "data"},
///       "tools": [{
///         "name": "bump", "description": "Add one to a counter.", "effect": "write",
///         "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
///         "script": "bump.star"
///       }]
///     }"#)
///     .with("bump.star", "def bump(name):\n    c = db.get('counters', name)\n    if c == None:\n        fail('no counter ' + name)\n    c['value'] += 1\n    return c['value']\n")
///     .with("data/counters.json", r#"{"a": {"value": 1}}"#);
/// let world = World::load(&files).unwrap();
///
/// let mut session = world.session();
/// assert_eq!(session.call("bump", &json!({"name": "a"})).unwrap(), json!(2));
/// // A failing call changes nothing.
/// let before = session.digest();
/// assert!(session.call("bump", &json!({"name": "zzz"})).is_err());
/// assert_eq!(session.digest(), before);
/// // The initial state is untouched: sessions are forks.
/// assert_eq!(world.session().state().get("counters", "a").unwrap()["value"], 1);
/// ```
#[derive(Clone)]
pub struct World(Arc<Inner>);

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("name", &self.name()).field("tools", &self.0.tools.len()).finish_non_exhaustive()
    }
}

fn valid_name(name: &str, max: usize) -> bool {
    worldsmith_core::ident::is_name(name, max)
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn parse_manifest(text: &str) -> Result<Manifest, Diagnostic> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Manifest>(&mut de).map_err(|e| {
        let mut pointer = String::new();
        for segment in e.path() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => pointer.push_str(&format!("/{}", pointer_escape(key))),
                serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = e.inner();
        let location = format!(
            "{} (line {}, column {})",
            if pointer.is_empty() { "/" } else { &pointer },
            inner.line(),
            inner.column()
        );
        let message = inner.to_string();
        let mut message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        if message == "expected value" && !pointer.is_empty() {
            // serde's message for an enum given a number, boolean or array.
            let allowed = match pointer.rsplit('/').next().unwrap_or("") {
                "effect" => "`read` or `write`",
                "origin" => "`bundled` or `generated`",
                "kind" => "`get`, `list`, `search`, `create`, `update` or `delete`",
                "op" => "`eq`, `ne`, `lt`, `le`, `gt`, `ge`, `contains`, `prefix` or `in`",
                _ => "a string naming one of the allowed values",
            };
            message = format!("expected {allowed}");
        }
        Diagnostic::new("world.json", location, message)
    })
}

impl World {
    /// Loads the world in a directory.
    ///
    /// # Errors
    /// Every problem found, each with its file and location.
    pub fn load_dir(path: impl AsRef<Path>) -> Result<World, LoadError> {
        World::load(&DirFiles::new(path.as_ref()))
    }

    /// Loads a world from its files.
    ///
    /// # Errors
    /// Every problem found, each with its file and location.
    pub fn load(files: &dyn WorldFiles) -> Result<World, LoadError> {
        let label = files.label();
        let fail = |diagnostics: Vec<Diagnostic>| LoadError { world: label.clone(), diagnostics };
        let text = files.read("world.json").map_err(|m| fail(vec![Diagnostic::new("world.json", "", m)]))?;
        let manifest = parse_manifest(&text).map_err(|d| fail(vec![d]))?;
        let mut diags = Vec::new();
        let d = |diags: &mut Vec<Diagnostic>, location: String, message: String| {
            diags.push(Diagnostic::new("world.json", location, message));
        };

        if manifest.format != FORMAT {
            d(
                &mut diags,
                "/format".into(),
                format!("unsupported format {} (this engine reads format {FORMAT})", manifest.format),
            );
        }
        if !valid_name(&manifest.name, 64) {
            d(
                &mut diags,
                "/name".into(),
                format!("invalid world name {:?}: use letters, digits, `_` and `-`", manifest.name),
            );
        }
        let limits = manifest.limits.as_ref().map_or_else(Limits::default, |l| {
            let base = Limits::default();
            Limits {
                ticks: l.ticks.unwrap_or(base.ticks),
                heap_bytes: l.heap_bytes.unwrap_or(base.heap_bytes),
                call_depth: l.call_depth.unwrap_or(base.call_depth),
                max_sequence: l.max_sequence.unwrap_or(base.max_sequence),
            }
        });

        // Collections.
        let mut collections = Vec::new();
        if manifest.collections.is_empty() {
            d(&mut diags, "/collections".into(), "a world needs at least one collection".into());
        }
        for (name, decl) in &manifest.collections {
            let at = format!("/collections/{}", pointer_escape(name));
            if !valid_name(name, 64) {
                d(&mut diags, at.clone(), format!("invalid collection name {name:?}"));
            }
            if decl.key.is_empty() {
                d(&mut diags, format!("{at}/key"), "the key name must not be empty".into());
            }
            for (path, target) in &decl.foreign_keys {
                if !manifest.collections.contains_key(target) {
                    d(
                        &mut diags,
                        format!("{at}/foreign_keys/{}", pointer_escape(path)),
                        format!("unknown collection `{target}`"),
                    );
                }
            }
            match CollectionSchema::compile(name, decl) {
                Ok(c) => collections.push(c),
                Err(m) => d(&mut diags, format!("{at}/fields"), m),
            }
        }
        let schema = Schema::new(collections);

        // Tools.
        let loader = ModuleLoader::new(files, limits);
        let mut tools = Vec::new();
        let mut by_name = BTreeMap::new();
        for (i, decl) in manifest.tools.iter().enumerate() {
            let at = format!("/tools/{i}");
            if !valid_name(&decl.name, 64) {
                d(
                    &mut diags,
                    format!("{at}/name"),
                    format!("invalid tool name {:?}: must match ^[A-Za-z0-9_-]{{1,64}}$", decl.name),
                );
            }
            if by_name.insert(decl.name.clone(), i).is_some() {
                d(&mut diags, format!("{at}/name"), format!("duplicate tool name `{}`", decl.name));
            }
            if decl.description.trim().is_empty() {
                d(&mut diags, format!("{at}/description"), "a tool needs a description (the agent reads it)".into());
            }
            if decl.parameters.get("type") != Some(&json!("object")) {
                d(
                    &mut diags,
                    format!("{at}/parameters"),
                    "parameters must be a JSON Schema with \"type\": \"object\"".into(),
                );
            }
            let properties: Vec<String> = decl
                .parameters
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            let validator = match jsonschema::validator_for(&decl.parameters) {
                Ok(v) => v,
                Err(e) => {
                    d(
                        &mut diags,
                        format!("{at}/parameters"),
                        format!("not a valid JSON Schema: {}", describe_validation_error(&e)),
                    );
                    continue;
                }
            };
            let implementation = match (&decl.op, &decl.script) {
                (Some(op), None) => {
                    let c = op.collection();
                    if !manifest.collections.contains_key(c) {
                        d(&mut diags, format!("{at}/op/collection"), format!("unknown collection `{c}`"));
                    } else if schema.collection(c).is_some() {
                        // (A collection that failed to compile was reported already.)
                        for arg in ops::argument_names(op, &schema) {
                            if !properties.contains(&arg) {
                                let message = format!("reads argument `{arg}`, which parameters do not declare");
                                d(&mut diags, format!("{at}/op"), message);
                            }
                        }
                    }
                    if op.writes() != (decl.effect == Effect::Write) {
                        d(
                            &mut diags,
                            format!("{at}/effect"),
                            format!(
                                "a `{}` operation must have effect `{}`",
                                op_kind(op),
                                if op.writes() { "write" } else { "read" }
                            ),
                        );
                    }
                    Implementation::Op(op.clone())
                }
                (None, Some(path)) => {
                    let function = decl.function.clone().unwrap_or_else(|| decl.name.clone());
                    if let Err(m) = files.read(path) {
                        diags.push(Diagnostic::new("world.json", format!("{at}/script"), m));
                        continue;
                    }
                    match Script::compile(path, &function, &loader) {
                        Ok(s) => Implementation::Script(s),
                        Err(m) => {
                            diags.push(script_diagnostic(path, m));
                            continue;
                        }
                    }
                }
                _ => {
                    d(&mut diags, at.clone(), "a tool needs exactly one of `op` and `script`".into());
                    continue;
                }
            };
            if let Some(example) = &decl.example
                && !example.is_object()
            {
                diags.push(Diagnostic::new(
                    "world.json",
                    format!("{at}/example"),
                    "an example must be an object of arguments",
                ));
            }
            tools.push(Tool {
                name: decl.name.clone(),
                description: decl.description.clone(),
                effect: decl.effect,
                parameters: decl.parameters.clone(),
                properties,
                example: decl.example.clone(),
                validator,
                implementation,
            });
        }
        for (i, (from, to)) in manifest.edges.iter().enumerate() {
            for name in [from, to] {
                if !by_name.contains_key(name) {
                    diags.push(Diagnostic::new("world.json", format!("/edges/{i}"), format!("unknown tool `{name}`")));
                }
            }
        }
        if !diags.is_empty() {
            return Err(fail(diags));
        }
        let by_name = tools.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();

        // Initial data.
        let initial = load_data(files, &manifest, &schema, limits).map_err(fail)?;
        Ok(World(Arc::new(Inner { manifest, label, schema, tools, by_name, initial, limits })))
    }

    /// The world's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.0.manifest.name
    }

    /// What people call the world: the manifest's `title`, else its name in words
    /// (`tau-retail` -> `Tau Retail`). Never a path or the loader's label, so what an agent
    /// is told does not depend on where the world lies.
    #[must_use]
    pub fn title(&self) -> String {
        let title = self.0.manifest.title.trim();
        if !title.is_empty() {
            return title.to_owned();
        }
        self.0
            .manifest
            .name
            .split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the world was loaded from (a directory or `bundled:<name>`).
    #[must_use]
    pub fn label(&self) -> &str {
        &self.0.label
    }

    /// Bundled or generated.
    #[must_use]
    pub fn origin(&self) -> Origin {
        self.0.manifest.origin
    }

    /// The manifest as loaded.
    #[must_use]
    pub fn manifest(&self) -> &Manifest {
        &self.0.manifest
    }

    /// The schema.
    #[must_use]
    pub fn schema(&self) -> &Schema {
        &self.0.schema
    }

    /// The script limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.0.limits
    }

    /// The tools, in manifest order.
    #[must_use]
    pub fn tools(&self) -> &[Tool] {
        &self.0.tools
    }

    /// One tool by name.
    #[must_use]
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.0.by_name.get(name).map(|&i| &self.0.tools[i])
    }

    /// Every tool in OpenAI function-calling format, in manifest order.
    #[must_use]
    pub fn openai_tools(&self) -> Vec<FunctionTool> {
        self.0.tools.iter().map(Tool::openai).collect()
    }

    /// The initial state.
    #[must_use]
    pub fn initial_state(&self) -> &State {
        &self.0.initial
    }

    /// A new session on a fork of the initial state (O(1)).
    #[must_use]
    pub fn session(&self) -> Session {
        Session::new(self.clone(), self.0.initial.clone())
    }

    /// A new session on a fork of `state`, which must have this world's collections.
    #[must_use]
    pub fn session_from(&self, state: State) -> Session {
        Session::new(self.clone(), state)
    }

    /// The closest tool name to `name`, for "did you mean" hints.
    #[must_use]
    pub fn suggest(&self, name: &str) -> Option<&str> {
        worldsmith_core::suggest::closest(name, self.0.tools.iter().map(|t| t.name.as_str()), 3)
    }
}

/// A script compile error `path:line: message` as a diagnostic with a line location.
fn script_diagnostic(path: &str, message: String) -> Diagnostic {
    match message.strip_prefix(path).and_then(|r| r.strip_prefix(':')).and_then(|r| r.split_once(": ")) {
        Some((line, rest)) if line.bytes().all(|b| b.is_ascii_digit()) => {
            Diagnostic::new(path, format!("line {line}"), rest)
        }
        _ => Diagnostic::new(path, "", message.strip_prefix(&format!("{path}: ")).unwrap_or(&message).to_owned()),
    }
}

fn op_kind(op: &Op) -> &'static str {
    match op {
        Op::Get { .. } => "get",
        Op::List { .. } => "list",
        Op::Search { .. } => "search",
        Op::Create { .. } => "create",
        Op::Update { .. } => "update",
        Op::Delete { .. } => "delete",
    }
}

const MAX_DATA_DIAGNOSTICS: usize = 50;

fn load_data(
    files: &dyn WorldFiles,
    manifest: &Manifest,
    schema: &Schema,
    limits: Limits,
) -> Result<State, Vec<Diagnostic>> {
    let mut state = schema.empty_state();
    let mut diags = Vec::new();
    let data = &manifest.data;
    // file name per collection, for messages
    let mut origin_of: BTreeMap<String, String> = BTreeMap::new();
    match (&data.dir, &data.generator) {
        (Some(dir), None) => {
            let env_dir = data
                .dir_env
                .as_ref()
                .and_then(|var| std::env::var(var).ok().filter(|v| !v.is_empty()).map(|v| (var.clone(), v)));
            for c in schema.collections() {
                let rel = format!("{dir}/{}.json", c.name);
                let (label, text) = match &env_dir {
                    Some((var, root)) => {
                        let path = Path::new(root).join(format!("{}.json", c.name));
                        (
                            path.display().to_string(),
                            std::fs::read_to_string(&path)
                                .map_err(|e| format!("cannot read {} (from ${var}): {e}", path.display())),
                        )
                    }
                    // Data declared external (`dir_env`) may live outside the world, as
                    // the variable's directory does; any other path stays inside it.
                    None if data.dir_env.is_some() => (rel.clone(), files.read_external(&rel)),
                    None => (rel.clone(), files.read(&rel)),
                };
                origin_of.insert(c.name.clone(), label.clone());
                let text = match text {
                    Ok(t) => t,
                    Err(m) => {
                        let hint = data
                            .dir_env
                            .as_ref()
                            .map(|v| format!(" (set {v} to the directory holding the data)"))
                            .unwrap_or_default();
                        diags.push(Diagnostic::new(label, "", format!("{m}{hint}")));
                        continue;
                    }
                };
                let value: Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(e) => {
                        diags.push(Diagnostic::new(
                            label,
                            format!("line {} column {}", e.line(), e.column()),
                            e.to_string(),
                        ));
                        continue;
                    }
                };
                let Value::Object(records) = value else {
                    diags.push(Diagnostic::new(label, "/", "a data file must be an object mapping keys to records"));
                    continue;
                };
                for (key, record) in records {
                    if !record.is_object() {
                        diags.push(Diagnostic::new(
                            label.clone(),
                            format!("/{}", pointer_escape(&key)),
                            "a record must be an object",
                        ));
                        continue;
                    }
                    state
                        .put(&c.name, &key, record)
                        .map_err(|e| vec![Diagnostic::new(label.clone(), "", e.to_string())])?;
                }
            }
        }
        (None, Some(generator)) => {
            files.read(generator).map_err(|m| vec![Diagnostic::new(generator.clone(), "", m)])?;
            let script = Script::compile(generator, "generate", &ModuleLoader::new(files, limits.for_generator()))
                .map_err(|m| vec![script_diagnostic(generator, m)])?;
            let out = script
                .generate(&state, data.seed, &data.params, limits.for_generator())
                .map_err(|f| vec![Diagnostic::new(generator.clone(), "", format!("generate() failed: {f}"))])?;
            let Value::Object(collections) = out else {
                return Err(vec![Diagnostic::new(
                    generator.clone(),
                    "",
                    "generate() must return {collection: {key: record}}",
                )]);
            };
            for (name, records) in collections {
                origin_of.insert(name.clone(), format!("{generator} (collection {name})"));
                let Value::Object(records) = records else {
                    diags.push(Diagnostic::new(
                        generator.clone(),
                        format!("/{name}"),
                        "must be a dict of key -> record",
                    ));
                    continue;
                };
                if schema.collection(&name).is_none() {
                    diags.push(Diagnostic::new(
                        generator.clone(),
                        format!("/{name}"),
                        format!("unknown collection `{name}`"),
                    ));
                    continue;
                }
                for (key, record) in records {
                    if !record.is_object() {
                        diags.push(Diagnostic::new(
                            generator.clone(),
                            format!("/{name}/{}", pointer_escape(&key)),
                            "a record must be a dict",
                        ));
                        continue;
                    }
                    let _ = state.put(&name, &key, record);
                }
            }
        }
        _ => {
            return Err(vec![Diagnostic::new("world.json", "/data", "set exactly one of `dir` and `generator`")]);
        }
    }
    for p in schema.integrity(&state) {
        if diags.len() >= MAX_DATA_DIAGNOSTICS {
            diags.push(Diagnostic::new("data", "", "more problems not shown"));
            break;
        }
        let file = origin_of.get(&p.collection).cloned().unwrap_or_else(|| p.collection.clone());
        let pointer = if p.pointer == "/" { String::new() } else { p.pointer };
        diags.push(Diagnostic::new(file, format!("/{}{pointer}", pointer_escape(&p.key)), p.message));
    }
    if diags.is_empty() { Ok(state) } else { Err(diags) }
}
