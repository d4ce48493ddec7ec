//! A fuzz harness over the bundled worlds (issue 14, item 8): random and mutated tool-call
//! arguments, task lines and world manifests never panic; a failed call changes nothing.
//! Case counts are small so the whole harness stays well under a minute in a debug build.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::LazyLock;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::{MemFiles, World};

/// The bundled worlds whose data is embedded (worlds with external data are left out).
static WORLDS: LazyLock<Vec<World>> = LazyLock::new(|| {
    worldsmith_worlds::names()
        .filter(|n| !worldsmith_worlds::has_external_data(n))
        .map(|n| worldsmith_worlds::load(n).expect("bundled").expect("loads"))
        .collect()
});

/// Every gold task line of those worlds.
static TASKS: LazyLock<Vec<(usize, Value)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for (i, w) in WORLDS.iter().enumerate() {
        let text = worldsmith_worlds::file(w.name(), "tasks.jsonl").unwrap_or("");
        out.extend(text.lines().filter(|l| !l.trim().is_empty()).map(|l| (i, serde_json::from_str(l).unwrap())));
    }
    out
});

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// Numbers at and past every edge: huge, tiny, negative zero, past 64 bits, past f64.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "1e-400",
            "1e308",
            "-0.0",
            "0",
            "1",
            "99999999999999999999999999999999999999",
            "-9223372036854775809",
            "18446744073709551616",
            "2.5",
        ])
        .prop_map(parse),
        Just(Value::String(format!("1{}", "0".repeat(400)))).prop_map(|s| parse(s.as_str().unwrap())),
    ]
}

/// Strings: short ones an agent would send, ids of the worlds, long and odd ones.
fn string() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z0-9 _@.-]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "ORD-00161",
            "CUST-0098",
            "pending",
            "delivered",
            "",
            " ",
            "null",
            "0",
            "é\u{0}\u{202e}",
            "../..",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        (1usize..200_000).prop_map(|n| Value::String("x".repeat(n))),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool), number(), string()]
}

/// A JSON value: leaves, small containers, and deep nesting (up to the 128 levels a JSON
/// parser lets through).
fn value() -> impl Strategy<Value = Value> {
    let shallow = leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    });
    prop_oneof![
        8 => shallow,
        1 => (1usize..120).prop_map(|depth| (0..depth).fold(json!(1), |v, _| json!([v]))),
        1 => (1usize..120).prop_map(|depth| (0..depth).fold(json!(1), |v, _| json!({"a": v}))),
    ]
}

/// Replaces the `n`-th node (depth first) of `target` by `new`.
fn mutate(target: &mut Value, n: &mut usize, new: &Value) -> bool {
    if *n == 0 {
        *target = new.clone();
        return true;
    }
    *n -= 1;
    match target {
        Value::Object(map) => map.values_mut().any(|v| mutate(v, n, new)),
        Value::Array(items) => items.iter_mut().any(|v| mutate(v, n, new)),
        _ => false,
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Object(map) => map.values().map(count).sum(),
        Value::Array(items) => items.iter().map(count).sum(),
        _ => 0,
    }
}

/// Arguments for a tool: its example (or `{}`) with some parameters replaced by random values,
/// or a random value outright.
fn arguments(
    world: &World,
    tool: usize,
    edits: &[(prop::sample::Index, String, Value)],
    whole: Option<Value>,
) -> Value {
    if let Some(v) = whole {
        return v;
    }
    let tool = &world.tools()[tool];
    let mut args = tool.example().cloned().unwrap_or_else(|| json!({}));
    let names: Vec<String> =
        tool.parameters()["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    for (which, extra, v) in edits {
        let name = if names.is_empty() || extra.len() == 1 { extra.clone() } else { which.get(&names).clone() };
        if let Some(map) = args.as_object_mut() {
            map.insert(name, v.clone());
        }
    }
    args
}

proptest! {
    #![proptest_config(config(96))]

    /// Every call returns a result or a tool error, never panics; a failed call leaves the
    /// state and its digest as they were; a successful one keeps the digest consistent.
    #[test]
    fn tool_calls_with_hostile_arguments_never_panic(
        world in any::<prop::sample::Index>(),
        tool in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), "[a-z]{1,3}", value()), 0..4),
        whole in prop::option::weighted(0.2, value()),
    ) {
        let world = world.get(&WORLDS);
        let tool = tool.index(world.tools().len());
        let args = arguments(world, tool, &edits, whole);
        let mut session = world.session();
        let before = session.digest();
        match session.call(world.tools()[tool].name(), &args) {
            Ok(_) => prop_assert_eq!(session.state().recompute_digest(), session.digest()),
            Err(e) => {
                prop_assert_eq!(session.digest(), before, "{}", e);
                prop_assert_eq!(session.state().recompute_digest(), before);
                prop_assert!(e.to_string().len() < 5_000, "a {}-byte error message", e.to_string().len());
            }
        }
    }

    /// Mutated gold task lines replay (or are rejected as lines), never panic.
    #[test]
    fn mutated_task_lines_replay_without_panicking(
        task in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), value()), 1..4),
    ) {
        let (world, line) = task.get(&TASKS);
        let mut line = line.clone();
        for (at, new) in &mutations {
            let mut n = at.index(count(&line));
            mutate(&mut line, &mut n, new);
        }
        let text = serde_json::to_string(&line).unwrap();
        if let Ok(task) = serde_json::from_str::<TaskLine>(&text) {
            let _ = worldsmith_engine::replay(&WORLDS[*world], &task);
        }
    }

}

proptest! {
    // Each case loads a whole world (generators included): few cases.
    #![proptest_config(config(16))]

    /// Mutated manifests of the bundled worlds load or give diagnostics, never panic.
    #[test]
    fn mutated_world_manifests_load_or_give_diagnostics(
        world in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), value()), 1..3),
    ) {
        let name = world.get(&WORLDS).name();
        let mut manifest = parse(worldsmith_worlds::file(name, "world.json").unwrap());
        for (at, new) in &mutations {
            let mut n = at.index(count(&manifest));
            mutate(&mut manifest, &mut n, new);
        }
        let mut files: MemFiles = worldsmith_worlds::mem_files(name).unwrap();
        files.insert("world.json", serde_json::to_string(&manifest).unwrap());
        if let Err(e) = World::load(&files) {
            prop_assert!(!e.diagnostics.is_empty());
        }
    }
}
