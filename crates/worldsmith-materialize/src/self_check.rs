//! The self-check: a world's files loaded by the engine ([`load`]), every tool called on
//! arguments drawn from the generated state ([`check_tool`]: a write must change the digest,
//! a read must not), and the finished world put through `world check` ([`check_world`]).
//! Failures carry their typed reason ([`Failure`]) beside the message people read.

use crate::assembly::writes;
use crate::data;
use crate::infer::{self, Action, Collection, Planned};
use crate::report::{Rejection, ToolFailure};
use serde_json::{Map, Value};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::{LoadError, MemFiles, World};

/// Why a tool failed its self-check: the reason counted, and the message a report line
/// carries (and a model reads).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// The reason.
    pub reason: ToolFailure,
    /// The whole message.
    pub message: String,
}

impl Failure {
    fn new(reason: ToolFailure, message: impl Into<String>) -> Failure {
        Failure { reason, message: message.into() }
    }
}

/// Loads a world from its files; an error is `load: ` and the first problem the engine
/// found.
pub(crate) fn load(name: &str, files: &[(String, String)]) -> Result<World, String> {
    let mut mem = MemFiles::new(format!("generated:{name}"));
    for (path, text) in files {
        mem.insert(path.clone(), text.clone());
    }
    World::load(&mem).map_err(|e| format!("load: {}", first_problem(&e)))
}

/// The first of a load error's diagnostics (its first line, when the message has several),
/// or the whole error when it has none.
fn first_problem(error: &LoadError) -> String {
    match error.diagnostics.first() {
        Some(d) => d.to_string().lines().next().unwrap_or_default().trim().to_owned(),
        None => error.to_string().trim().to_owned(),
    }
}

/// Loads a finished world and runs `world check` on it: why it is rejected, if it is.
pub(crate) fn check_world(name: &str, files: &[(String, String)]) -> Result<(), (Rejection, String)> {
    let world = load(name, files).map_err(|e| (Rejection::Load, e))?;
    let check = worldsmith_engine::check(&world);
    if check.passed() {
        return Ok(());
    }
    let failed = check.tools.iter().find(|t| !t.ok).map(|t| format!("{}: {}", t.tool, t.outcome));
    Err((Rejection::WorldCheck, format!("world check: {}", failed.unwrap_or_else(|| "integrity".to_owned()))))
}

/// The schema of a parameter, as a [`infer::Field`].
pub(crate) fn param_field(parameters: &Value, name: &str) -> infer::Field {
    infer::field_of(parameters["properties"].get(name).unwrap_or(&Value::Null))
}

/// Calls a tool on arguments drawn from the world's state; returns the arguments when the
/// call passes (a write changes the digest, a read does not).
pub(crate) fn check_tool(
    world: &World,
    p: &Planned,
    tool: &ToolSpec,
    collections: &[Collection],
    seed: u64,
) -> Result<Value, Failure> {
    let state = world.initial_state();
    let c = collections
        .iter()
        .find(|c| c.name == p.collection)
        .ok_or_else(|| Failure::new(ToolFailure::NoCollection, "no collection"))?;
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
                // The record's parents, as it holds them.
                for (field, arg) in &p.scope {
                    if let Some(v) = state.get(&c.name, k).and_then(|r| r.get(field.as_str())).filter(|v| !v.is_null())
                    {
                        args.insert(arg.clone(), v.clone());
                    }
                }
                if let Action::Update { fields, .. } = &p.action {
                    for f in fields {
                        fill(&mut args, f, &mut rng);
                    }
                }
                candidates.push(args);
            }
        }
        Action::List { .. } => candidates.push(Map::new()),
        Action::Clear { filters, ids } => {
            // The last records (the least likely to be referenced), by their own values.
            for k in keys.iter().rev().take(3) {
                let mut args = Map::new();
                let record = state.get(&c.name, k);
                for (field, arg) in filters {
                    if required.contains(arg)
                        && let Some(v) = record.and_then(|r| r.get(field.as_str())).filter(|v| !v.is_null())
                    {
                        args.insert(arg.clone(), v.clone());
                    }
                }
                if let Some(ids) = ids {
                    let v = Value::String(k.clone());
                    let array = param_field(&p.parameters, ids).kind == "array";
                    args.insert(ids.clone(), if array { Value::Array(vec![v]) } else { v });
                }
                candidates.push(args);
            }
        }
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
    let mut last = Failure::new(ToolFailure::NoArguments, "no arguments to try");
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
                    last = Failure::new(ToolFailure::NoChange, "no change: the write left the state as it was");
                    continue;
                }
                return Ok(args);
            }
            Err(e) => last = Failure::new(ToolFailure::of(&e), e.to_string()),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use worldsmith_engine::Diagnostic;

    #[test]
    fn a_load_error_is_told_by_the_first_line_of_its_first_diagnostic() {
        let diagnostic = |message: &str| Diagnostic {
            file: "tools/a.star".into(),
            location: "line 2 column 1".into(),
            message: message.into(),
        };
        let error = LoadError { world: "w".into(), diagnostics: vec![diagnostic("bad\n  here"), diagnostic("other")] };
        assert_eq!(first_problem(&error), "tools/a.star: line 2 column 1: bad");
        // The same as the second line of the error's text, which is what was reported before.
        assert_eq!(first_problem(&error), error.to_string().lines().nth(1).unwrap().trim());
        let none = LoadError { world: "w".into(), diagnostics: Vec::new() };
        assert_eq!(first_problem(&none), "world w has 0 problems:");
    }
}
