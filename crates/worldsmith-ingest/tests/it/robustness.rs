//! Robustness: truncated and mutated documents never panic an importer; they import, or
//! report an error.

use crate::tests_dir;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::LazyLock;
use worldsmith_ingest::{IngestConfig, import_document};

/// Every fixture: (source name, bytes).
static FIXTURES: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    let root = tests_dir("fixtures");
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
});

fn small_config() -> IngestConfig {
    IngestConfig { max_ref_depth: 3, max_schema_nodes: 40, max_params: 8, ..IngestConfig::default() }
}

/// A replacement value for a mutation.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z#/{}$.]{0,12}".prop_map(Value::String),
        Just(serde_json::json!({"$ref": "#/"})),
        Just(serde_json::json!({"$ref": "#/components/schemas"})),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

/// Replaces the `n`-th node (in a depth-first walk) of `value` by `new`.
fn mutate(value: &mut Value, n: &mut usize, new: &Value) -> bool {
    if *n == 0 {
        *value = new.clone();
        return true;
    }
    *n -= 1;
    match value {
        Value::Object(map) => map.values_mut().any(|v| mutate(v, n, new)),
        Value::Array(items) => items.iter_mut().any(|v| mutate(v, n, new)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn truncated_documents_never_panic(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let (name, bytes) = which.get(&FIXTURES);
        let cut = cut.index(bytes.len());
        let _ = import_document(&bytes[..cut], name, &small_config());
    }

    #[test]
    fn mutated_documents_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any_value()), 1..6),
    ) {
        let (name, bytes) = which.get(&FIXTURES);
        let mut doc: Value = if name.ends_with(".yaml") {
            serde_yaml_ng::from_slice(bytes).unwrap()
        } else if name.ends_with(".jsonl") {
            Value::Array(std::str::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect())
        } else {
            serde_json::from_slice(bytes).unwrap()
        };
        for (at, new) in &mutations {
            let size = count(&doc);
            let mut n = at.index(size);
            mutate(&mut doc, &mut n, new);
        }
        let text = serde_json::to_vec(&doc).unwrap();
        if let Ok(tools) = import_document(&text, "mutated.json", &small_config()) {
            for t in tools {
                prop_assert!(t.parameters.is_object());
                prop_assert!(!t.id.is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), yaml in any::<bool>()) {
        let _ = import_document(&bytes, if yaml { "x.yaml" } else { "x.json" }, &small_config());
    }
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Object(map) => map.values().map(count).sum(),
        Value::Array(items) => items.iter().map(count).sum(),
        _ => 0,
    }
}

#[test]
fn a_self_referencing_document_terminates() {
    let doc = br##"{"openapi": "3.0.0", "paths": {"/a": {"$ref": "#/paths/~1a"}, "/b": {"get": {"summary": "B.",
        "parameters": [{"$ref": "#/paths/~1b/get/parameters/0"}],
        "responses": {"200": {"$ref": "#/paths/~1b/get/responses/200"}}}}},
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}}"##;
    let _ = import_document(doc, "loop.json", &IngestConfig::default());
    let doc =
        br##"{"openapi": "3.0.0", "paths": {"/b": {"get": {"summary": "B.", "responses": {"200": {"description": "x",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}}"##;
    let tools = import_document(doc, "loop.json", &IngestConfig::default()).unwrap();
    assert_eq!(tools.len(), 1);
}
