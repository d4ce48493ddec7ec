//! The fixtures, one or more per format, written for these tests.

use crate::{ingest, tests_dir, tools};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::tool::ToolSpec;
use worldsmith_ingest::{IngestConfig, import_document};

fn by_name(tools: &[ToolSpec], name: &str) -> ToolSpec {
    tools.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tool {name}")).clone()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

#[test]
fn every_fixture_format_is_ingested_with_exact_counts() {
    let (out, summary) = ingest(&[tests_dir("fixtures")], &IngestConfig::default());
    assert_eq!(
        summary.documents,
        counts(&[("bfcl", 1), ("mcp", 2), ("openai", 1), ("openapi-3.0", 2), ("openapi-3.1", 1), ("swagger-2.0", 1)])
    );
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    assert_eq!(summary.operations, 27);
    assert_eq!(
        summary.filtered.named().into_iter().collect::<BTreeMap<_, _>>(),
        counts(&[("deprecated", 1), ("duplicate", 1), ("no_description", 1), ("unsupported_body", 1)])
    );
    assert_eq!(summary.tools_written, 23);
    assert_eq!(summary.renamed, 1);
    let tools = tools(&out);
    assert_eq!(tools.len(), 23);
    let names: HashSet<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let ids: HashSet<&str> = tools.iter().map(|t| t.id.as_str()).collect();
    assert_eq!((names.len(), ids.len()), (23, 23));
}

#[test]
fn swagger_2_body_form_data_definitions_and_media_types() {
    let (out, _) = ingest(&[tests_dir("fixtures/swagger")], &IngestConfig::default());
    let tools = tools(&out);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["listBooks", "addBook", "getBook", "rateBook", "getCover"]);
    let list = by_name(&tools, "listBooks");
    assert_eq!(list.id, "bookshop.json#get /books");
    assert_eq!(list.provenance.provider, "bookshop.example");
    assert_eq!(list.provenance.categories, ["ecommerce"]);
    assert!(json_eq(
        &list.parameters["properties"]["limit"],
        &json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20})
    ));
    // The response is an array of the cyclic `Book` (an allOf whose `sequel` is a Book).
    let book = &list.response.as_ref().unwrap()["items"];
    assert_eq!(book["allOf"][0]["properties"]["price"], json!({"type": "number", "exclusiveMinimum": 0}));
    let add = by_name(&tools, "addBook");
    assert!(json_eq(&add.parameters["required"], &json!(["isbn", "title"])));
    assert_eq!(add.provenance.locations["title"], "body");
    let get = by_name(&tools, "getBook");
    assert_eq!(get.description, "Find a book by its ISBN.");
    assert_eq!(get.provenance.locations["isbn"], "path");
    let rate = by_name(&tools, "rateBook");
    assert!(json_eq(
        &rate.parameters,
        &json!({"type": "object", "properties": {
            "isbn": {"type": "string", "pattern": "^[0-9-]{10,17}$"},
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "comment": {"type": ["string", "null"]}},
            "required": ["isbn", "stars"]})
    ));
    assert_eq!(rate.provenance.locations["comment"], "body");
    assert_eq!(rate.response, None);
    // Produces only an image: no JSON response.
    assert_eq!(by_name(&tools, "getCover").response, None);
}

#[test]
fn yaml_openapi_with_integer_codes_anchors_and_path_parameters() {
    let bytes = std::fs::read(tests_dir("fixtures/yaml/library.yaml")).unwrap();
    let tools = import_document(&bytes, "yaml/library.yaml", &IngestConfig::default()).unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["listLoans", "borrowBook", "post_loans_loanId_renew"]);
    let list = &tools[0];
    assert_eq!(list.provenance.format, "openapi-3.0");
    assert_eq!(list.provenance.service.as_deref(), Some("loans"));
    assert_eq!(list.provenance.locations["memberId"], "path");
    let loan = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "bookId": {"type": "string"},
        "due": {"type": "string", "format": "date"}, "returned": {"type": "string", "format": "date"}}});
    assert!(json_eq(list.response.as_ref().unwrap(), &json!({"type": "array", "items": loan})));
    let borrow = &tools[1];
    assert!(json_eq(&borrow.parameters["properties"]["days"], &json!({"type": ["integer", "null"], "default": 21})));
    assert!(json_eq(&borrow.parameters["required"], &json!(["memberId", "bookId"])));
    let renew = &tools[2];
    assert_eq!(renew.provenance.operation_id, None);
    // The Authorization header is the client's business.
    assert!(json_eq(&renew.parameters["properties"], &json!({"loanId": {"type": "string"}})));
}

#[test]
fn openai_tool_lists_resolve_defs_and_keep_names_unique() {
    let (out, summary) = ingest(&[tests_dir("fixtures/openai")], &IngestConfig::default());
    let tools = tools(&out);
    assert_eq!(summary.filtered.get(worldsmith_ingest::Filter::NoDescription), 1);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let suffix = &blake3::hash(b"assistant-tools.json#get_current_weather~2").to_hex()[..6];
    assert_eq!(names, ["get_current_weather", "calendar_create_event", &format!("get_current_weather_{suffix}")]);
    assert_eq!(tools[2].id, "assistant-tools.json#get_current_weather~2");
    let calendar = &tools[1];
    assert_eq!(calendar.provenance.operation_id.as_deref(), Some("calendar.create_event"));
    assert!(json_eq(&calendar.parameters["properties"]["start"], &json!({"type": "string", "format": "date-time"})));
    assert_eq!(calendar.provenance.format, "openai");
    assert!(calendar.provenance.locations.is_empty());
}

#[test]
fn mcp_tools_list_plain_and_in_json_rpc() {
    let (out, summary) = ingest(&[tests_dir("fixtures/mcp")], &IngestConfig::default());
    assert_eq!(summary.documents["mcp"], 2);
    let tools = tools(&out);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["read_file", "move_file", "list_allowed_directories", "add_note"]);
    assert!(json_eq(
        tools[0].response.as_ref().unwrap(),
        &json!({"type": "object", "properties": {"content": {"type": "string"}}, "required": ["content"]})
    ));
    assert_eq!(tools[1].response, None);
    assert!(json_eq(&tools[2].parameters, &json!({"type": "object", "properties": {}, "required": []})));
    assert_eq!(tools[3].provenance.provider, "notes");
}

#[test]
fn bfcl_types_become_json_schema_and_duplicates_are_dropped() {
    let (out, summary) = ingest(&[tests_dir("fixtures/bfcl")], &IngestConfig::default());
    assert_eq!(summary.filtered.get(worldsmith_ingest::Filter::Duplicate), 1);
    let tools = tools(&out);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["math_factorial", "geometry_distance", "cache_put", "flights_book"]);
    assert!(json_eq(
        &tools[1].parameters,
        &json!({"type": "object", "properties": {
            "a": {"type": "array", "items": {"type": "number"}, "description": "The first point."},
            "b": {"type": "array", "items": {"type": "number"}},
            "exact": {"type": "boolean", "default": false}}, "required": ["a", "b"]})
    ));
    assert!(json_eq(
        &tools[2].parameters["properties"],
        &json!({"key": {"type": "string"}, "value": {}, "tags": {"type": "array", "items": {"type": "string"}},
                "options": {"type": "object", "properties": {"ttl": {"type": "number"}}}})
    ));
    assert_eq!(tools[3].provenance.format, "bfcl");
    assert_eq!(tools[3].provenance.provider, "math_and_travel");
}

#[test]
fn cyclic_refs_are_cut_at_the_depth_cap() {
    let bytes = std::fs::read(tests_dir("fixtures/refs/cyclic.json")).unwrap();
    let tools = import_document(&bytes, "cyclic.json", &IngestConfig::default()).unwrap();
    assert_eq!(tools.len(), 3);
    let employee = tools[0].response.as_ref().unwrap();
    // A reference inside its own expansion is cut to its type; the sibling description stays.
    assert!(json_eq(&employee["properties"]["manager"], &json!({"type": "object", "description": "Their manager."})));
    assert!(json_eq(&employee["properties"]["reports"], &json!({"type": "array", "items": {"type": "object"}})));
    // Employee -> Team -> Employee is a cycle too.
    assert!(json_eq(&employee["properties"]["team"]["properties"]["lead"], &json!({"type": "object"})));
    assert!(json_eq(&employee["properties"]["team"]["properties"]["parent"], &json!({"type": "object"})));
    let replace = &tools[1];
    assert_eq!(replace.provenance.locations["manager"], "body");
    assert!(json_eq(&replace.parameters["required"], &json!(["id", "name"])));
    // Depth 1: Team is expanded, nothing below it.
    let shallow = IngestConfig { max_ref_depth: 1, ..IngestConfig::default() };
    let tools = import_document(&bytes, "cyclic.json", &shallow).unwrap();
    let team = &tools[2].response.as_ref().unwrap()["items"];
    assert!(json_eq(&team["properties"]["lead"], &json!({"type": "object"})));
    // A tiny node budget truncates the schema instead of growing it.
    let tiny = IngestConfig { max_schema_nodes: 3, ..IngestConfig::default() };
    let tools = import_document(&bytes, "cyclic.json", &tiny).unwrap();
    let text = tools[2].response.as_ref().unwrap().to_string();
    assert!(text.len() < 120, "{text}");
}

#[test]
fn openapi_3_0_nullable_becomes_json_schema() {
    let bytes = std::fs::read(tests_dir("fixtures/refs/nullable.json")).unwrap();
    let tools = import_document(&bytes, "nullable.json", &IngestConfig::default()).unwrap();
    let t = &tools[0];
    assert_eq!(t.provenance.provider, "profiles.example.net");
    let expected = json!({
        "id": {"type": "integer"},
        "nickname": {"type": ["string", "null"], "maxLength": 40},
        "age": {"type": ["integer", "null"], "minimum": 0},
        "plan": {"type": ["string", "null"], "enum": ["free", "pro", null]},
        "address": {"anyOf": [{"allOf": [{"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}]}, {"type": "null"}]},
        "email": {"type": "string", "format": "email"}
    });
    assert!(json_eq(&t.parameters["properties"], &expected), "{}", t.parameters);
    // `application/json; charset=utf-8` is JSON.
    assert!(t.response.is_some());
}

#[test]
fn broken_documents_are_skipped_with_reasons() {
    let (out, summary) = ingest(&[tests_dir("broken"), tests_dir("fixtures/mcp/notes.json")], &IngestConfig::default());
    assert_eq!(tools(&out).len(), 1);
    assert_eq!(
        summary.skipped_documents,
        counts(&[("invalid", 1), ("malformed", 2), ("unknown_format", 1), ("unsupported_version", 1)])
    );
    let sources: Vec<&str> = summary.skipped.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(sources, ["bad.yaml", "invalid.json", "truncated.json", "unknown.json", "version.json"]);
    assert!(summary.skipped[1].message.contains("/paths"), "{:?}", summary.skipped[1]);
    assert!(summary.skipped[2].message.contains("line 1"), "{:?}", summary.skipped[2]);
}

#[test]
fn output_is_identical_on_any_thread_count() {
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let config = IngestConfig { batch: 3, ..IngestConfig::default() };
        pool.install(|| ingest(&[tests_dir("fixtures"), tests_dir("broken")], &config))
    };
    let (one, s1) = run(1);
    let (four, s4) = run(4);
    assert_eq!(one, four);
    assert_eq!(s1, s4);
}
