//! `world check`: validate a loaded world by running it.

use crate::error::ToolError;
use crate::manifest::Effect;
use crate::world::{Tool, World};
use serde::Serialize;
use serde_json::{Map, Value};

/// The outcome of checking one tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolCheck {
    /// The tool.
    pub tool: String,
    /// `read` or `write`.
    pub effect: Effect,
    /// The arguments it was called with.
    pub arguments: Value,
    /// Whether the check passed.
    pub ok: bool,
    /// The call's outcome: `ok`, the refusal, or the problem.
    pub outcome: String,
}

/// What `world check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The world's name.
    pub world: String,
    /// Records per collection, in schema order.
    pub collections: Vec<(String, usize)>,
    /// The initial digest.
    pub digest: String,
    /// Whether the incremental digest equals a full recomputation.
    pub digest_consistent: bool,
    /// Integrity problems of the initial state (`collection["key"]/pointer: message`).
    pub integrity: Vec<String>,
    /// One entry per tool.
    pub tools: Vec<ToolCheck>,
}

impl CheckReport {
    /// Whether everything passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.digest_consistent && self.integrity.is_empty() && self.tools.iter().all(|t| t.ok)
    }
}

/// Arguments for a tool: its declared example, or values synthesized from its parameters
/// and the initial state (an existing key for key-like parameters, the first enum value,
/// a plain value of the right type otherwise). Only required parameters are filled.
#[must_use]
pub fn sample_arguments(world: &World, tool: &Tool) -> Value {
    if let Some(example) = tool.example() {
        return example.clone();
    }
    let params = tool.parameters();
    let required: Vec<&str> = params
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = params.get("properties").and_then(Value::as_object);
    let mut out = Map::new();
    for name in required {
        let schema = props.and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null);
        let key_of = world.schema().collections().iter().find(|c| c.key == name);
        let value = if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
            first.clone()
        } else if let Some(c) = key_of {
            world
                .initial_state()
                .scan(&c.name)
                .next()
                .map_or(Value::String("unknown".into()), |(k, _)| Value::String(k.to_owned()))
        } else {
            match schema.get("type").and_then(Value::as_str) {
                Some("integer") => Value::from(1),
                Some("number") => Value::from(1.0),
                Some("boolean") => Value::Bool(true),
                Some("array") => Value::Array(vec![]),
                Some("object") => Value::Object(Map::new()),
                _ => Value::String("example".into()),
            }
        };
        out.insert(name.to_owned(), value);
    }
    Value::Object(out)
}

/// Checks a world: digest consistency, integrity, and one call per tool on a fresh fork.
/// A tool passes when its call succeeds, or (without a declared example) when it refuses
/// with an ordinary error rather than a defect (script error, limit, invalid write). A read
/// tool must leave the digest unchanged.
#[must_use]
pub fn check(world: &World) -> CheckReport {
    let state = world.initial_state();
    let collections = world.schema().collections().iter().map(|c| (c.name.clone(), state.len(&c.name))).collect();
    let integrity = world.schema().integrity(state).iter().map(ToString::to_string).collect();
    let mut tools = Vec::new();
    for tool in world.tools() {
        let arguments = sample_arguments(world, tool);
        let mut session = world.session();
        let before = session.digest();
        let result = session.execute(tool.name(), &arguments);
        let (ok, outcome) = match &result {
            Ok(_) if tool.effect() == Effect::Read && session.digest() != before => {
                (false, "a read tool changed the state".to_owned())
            }
            Ok(_) => (true, "ok".to_owned()),
            Err(e) if e.is_defect() => (false, e.to_string()),
            Err(e @ ToolError::InvalidArguments { .. }) if tool.example().is_some() => (false, e.to_string()),
            Err(e) if tool.example().is_some() => (false, format!("the example failed: {e}")),
            Err(e) => (true, format!("refused: {e}")),
        };
        tools.push(ToolCheck { tool: tool.name().to_owned(), effect: tool.effect(), arguments, ok, outcome });
    }
    CheckReport {
        world: world.name().to_owned(),
        collections,
        digest: state.digest().to_hex(),
        digest_consistent: state.recompute_digest() == state.digest(),
        integrity,
        tools,
    }
}
