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

#[test]
fn deeply_nested_yaml_is_rejected_before_parsing() {
    let n = 100_000;
    let docs = [
        format!("{}{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1{}", "{a: ".repeat(n), "}".repeat(n)),
        format!("{}1", "- ".repeat(n)),
        format!("openapi: 3.0.0\ninfo: {}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
    ];
    for doc in docs {
        let t = std::time::Instant::now();
        let e = import_document(doc.as_bytes(), "deep.yaml", &IngestConfig::default()).unwrap_err();
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(e.reason(), "malformed");
        assert!(e.to_string().contains("nests deeper than"), "{e}");
    }
}

#[test]
fn ordinary_yaml_passes_the_depth_scan() {
    // Every YAML fixture, and a JSON fixture written as YAML, still import.
    for (name, bytes) in FIXTURES.iter().filter(|(n, _)| n.ends_with(".yaml")) {
        import_document(bytes, name, &IngestConfig::default()).unwrap();
    }
    let (name, bytes) = FIXTURES.iter().find(|(n, _)| n.ends_with(".json") && n.contains("refs")).unwrap();
    let value: Value = serde_json::from_slice(bytes).unwrap();
    let yaml = serde_yaml_ng::to_string(&value).unwrap();
    let from_json = import_document(bytes, name, &IngestConfig::default()).unwrap();
    let from_yaml =
        import_document(yaml.as_bytes(), &name.replace(".json", ".yaml"), &IngestConfig::default()).unwrap();
    assert_eq!(from_json.len(), from_yaml.len());
    // Quotes, comments and brackets in text do not count as nesting.
    let text = "a: \"[[[[\" # {{{{\nb: 'it''s [' \nc: don't [ever\nd: |\n  [[[[[ {{{{{\n";
    let deep_but_fine = format!("e: {}1{}\n", "[".repeat(100), "]".repeat(100));
    for doc in [text.to_owned(), format!("{text}{deep_but_fine}")] {
        let e = import_document(doc.as_bytes(), "t.yaml", &IngestConfig::default()).unwrap_err();
        assert!(!e.to_string().contains("nests deeper"), "{e}");
    }
}

#[test]
fn thirty_thousand_parameters_are_dropped_in_linear_time() {
    let params: Vec<Value> = (0..30_000)
        .map(|i| serde_json::json!({"name": format!("p{i}"), "in": "query", "schema": {"type": "string"}}))
        .collect();
    let doc = serde_json::json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "big", "summary": "Big.", "parameters": params, "responses": {}}}}});
    let bytes = serde_json::to_vec(&doc).unwrap();
    let t = std::time::Instant::now();
    let tools = import_document(&bytes, "big.json", &IngestConfig::default()).unwrap();
    assert!(tools.is_empty());
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Nested YAML of any depth and shape is imported or refused, never panics; past the
    /// limit it is refused by the depth scan.
    #[test]
    fn nested_yaml_never_panics(depth in 0usize..600, shape in 0usize..4) {
        let doc = match shape {
            0 => format!("openapi: 3.0.0\ninfo: {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
            1 => format!("openapi: 3.0.0\ninfo: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth)),
            2 => format!("openapi: 3.0.0\ninfo:\n{}1\n", "- ".repeat(depth)),
            _ => format!("openapi: 3.0.0\ninfo:\n{}", (0..depth.min(200)).map(|i| format!("{}a{i}:\n", " ".repeat(i + 1))).collect::<String>()),
        };
        let result = import_document(doc.as_bytes(), "nested.yaml", &IngestConfig::default());
        if depth > worldsmith_ingest::MAX_YAML_DEPTH + 2 && shape < 3 {
            prop_assert!(result.unwrap_err().to_string().contains("nests deeper"));
        }
    }
}
