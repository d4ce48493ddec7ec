//! Hostile worlds and hostile arguments: every one is a clear error, never a panic, an abort
//! or a huge message (issue 14, item 8).

use serde_json::{Value, json};
use worldsmith_engine::{MemFiles, ToolError, World};

const MANIFEST: &str = r#"{
  "format": 1, "name": "hostile",
  "collections": {"things": {"key": "id", "fields": {"v": {"type": "integer"}}, "additional_fields": true}},
  "data": {"dir": "data"},
  "tools": [
    {"name": "run", "description": "Runs one hostile snippet.", "effect": "write",
     "parameters": {"type": "object", "properties": {"what": {"type": "string"}, "n": {"type": "number"}, "count": {"type": "integer"}}},
     "script": "run.star"}
  ]
}"#;

const SCRIPT: &str = r#"
def run(what, n = 0, count = 0):
    big = "a" * 1000000
    if what == "replace":
        return len(("a" * 100000).replace("a", "b" * 100000))
    if what == "replace_empty":
        return len(big.replace("", "xyz" * 100))
    if what == "join":
        return len(big.join(["x"] * 100000))
    if what == "join_refs":
        return len(",".join([big] * 1000000))
    if what == "percent":
        return len(("%s" * 1000) % tuple([big] * 1000))
    if what == "format":
        return len(("{}" * 1000).format(*([big] * 1000)))
    if what == "concat_loop":
        s = big
        for i in range(100):
            s = s + s
        return len(s)
    if what == "concat_comprehension":
        return len([big + big for i in range(10000)])
    if what == "augmented_loop":
        s = big
        for i in range(100):
            s += s
        return len(s)
    if what == "str_refs":
        return len(str([big] * 1000000))
    if what == "repr_nested":
        l = [big] * 1000
        return len(repr([l] * 1000))
    if what == "encode_refs":
        return len(json.encode([big] * 1000000))
    if what == "repeat":
        return len(big * 100000)
    if what == "return_refs":
        l = [big] * 1000
        return [l] * 1000
    if what == "width":
        return db.next_key("things", "x", width = 65536)
    if what == "cycle_list":
        l = []
        l.append(l)
        return l
    if what == "cycle_dict":
        d = {}
        d["a"] = d
        return d
    if what == "cycle_record":
        r = db.get("things", "a")
        r["self"] = r
        return "stored"
    if what == "cycle_struct":
        l = []
        s = struct(items = l)
        l.append(s)
        return s
    if what == "cycle_str":
        l = []
        l.append(l)
        return str(l)
    if what == "number":
        return n
    if what == "fail_big":
        fail("x" * 1000000)
    if what == "normal":
        s = "a-b-c"
        parts = s.replace("-", "+").split("+")
        return {
            "replace": s.replace("-", "", 1),
            "join": "/".join(parts),
            "paren_join": ("," + ";").join(["x", "y"]),
            "chained": s.replace("a", "A").replace("c", "C"),
            "format": "{} {x}".format(1, x = "two"),
            "percent": "%s=%d" % ("k", 3),
            "percent_int": 7 % 3,
            "add_lists": [1] + [2],
            "add_tuples": len((1,) + (2,)),
            "add_numbers": 1 + 2.5,
            "str": str(12) + str("s") + repr("q"),
            "encode": json.encode({"a": [1, 2]}),
            "dict_get": {"k": 1}.get("k"),
            "key": db.next_key("things", "t", width = 3),
            "struct": struct(a = 1, b = [2]),
        }
    return None
"#;

fn world() -> World {
    let files = MemFiles::new("hostile")
        .with("world.json", MANIFEST)
        .with("run.star", SCRIPT)
        .with("data/things.json", r#"{"a": {"v": 1}}"#);
    World::load(&files).unwrap()
}

fn call(w: &World, args: &Value) -> Result<Value, ToolError> {
    let mut s = w.session();
    let before = s.digest();
    let out = s.call("run", args);
    if out.is_err() {
        assert_eq!(s.digest(), before, "a failed call changed the state: {args}");
        assert_eq!(s.state().recompute_digest(), before);
    }
    out
}

#[test]
fn string_operations_cannot_allocate_past_the_heap_limit() {
    let w = world();
    for what in [
        "replace",
        "replace_empty",
        "join",
        "join_refs",
        "percent",
        "format",
        "concat_loop",
        "concat_comprehension",
        "augmented_loop",
        "str_refs",
        "repr_nested",
        "encode_refs",
        "repeat",
    ] {
        let e = call(&w, &json!({ "what": what })).unwrap_err();
        assert!(matches!(e, ToolError::LimitExceeded { .. }), "{what}: {e:?}");
        assert!(e.to_string().contains("limit"), "{what}: {e}");
    }
}

#[test]
fn guarded_string_operations_behave_as_before() {
    let out = call(&world(), &json!({"what": "normal"})).unwrap();
    assert_eq!(
        out,
        json!({
            "replace": "ab-c", "join": "a/b/c", "paren_join": "x,;y", "chained": "A-b-C",
            "format": "1 two", "percent": "k=3", "percent_int": 1,
            "add_lists": [1, 2], "add_tuples": 2, "add_numbers": 3.5, "str": "12s\"q\"",
            "encode": "{\"a\":[1,2]}", "dict_get": 1, "key": "t002", "struct": {"a": 1, "b": [2]},
        })
    );
}

#[test]
fn a_returned_value_that_repeats_a_big_part_is_an_error() {
    let e = call(&world(), &json!({"what": "return_refs"})).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
}

#[test]
fn next_key_width_is_bounded() {
    let e = call(&world(), &json!({"what": "width"})).unwrap_err();
    assert!(matches!(e, ToolError::Script { .. }), "{e:?}");
    assert!(e.to_string().contains("width must be between 0 and 64"), "{e}");
}

#[test]
fn self_containing_values_are_errors_not_stack_overflows() {
    let w = world();
    for what in ["cycle_list", "cycle_dict", "cycle_record", "cycle_struct"] {
        let e = call(&w, &json!({ "what": what })).unwrap_err();
        assert!(e.to_string().contains("contain itself"), "{what}: {e}");
    }
    // Printing a cyclic value is fine (Starlark prints `[...]`).
    assert_eq!(call(&w, &json!({"what": "cycle_str"})).unwrap(), json!("[[...]]"));
}

#[test]
fn out_of_range_numbers_in_arguments_are_argument_errors() {
    let w = world();
    let huge_int = format!("{{\"what\": \"number\", \"n\": 1{}}}", "0".repeat(400));
    for text in [r#"{"what": "number", "n": 1e400}"#, r#"{"what": "number", "n": -1e400}"#, huge_int.as_str()] {
        let args: Value = serde_json::from_str(text).unwrap();
        let e = call(&w, &args).unwrap_err();
        assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
        assert!(e.to_string().contains("/n: ") && e.to_string().contains("out of range"), "{e}");
    }
    // Large but finite numbers still pass.
    let args: Value = serde_json::from_str(r#"{"what": "number", "n": 1e300}"#).unwrap();
    assert_eq!(call(&w, &args).unwrap(), json!(1e300));
}

#[test]
fn out_of_range_generator_parameters_are_load_errors() {
    let manifest = r#"{"format": 1, "name": "gen",
      "collections": {"things": {"key": "id", "fields": {}}},
      "data": {"generator": "gen.star", "params": {"n": 1e400}}, "tools": []}"#;
    let files = MemFiles::new("gen")
        .with("world.json", manifest)
        .with("gen.star", "def generate(rng, params):\n    return {'things': {}}\n");
    let e = World::load(&files).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
}

#[test]
fn error_messages_quote_a_bounded_prefix() {
    let w = world();
    let big = "z".repeat(5_000_000);
    // A wrong type: the schema error quotes the value.
    let e = call(&w, &json!({"what": 1, "count": big})).unwrap_err();
    let text = e.to_string();
    assert!(text.len() < 1_000, "{} bytes", text.len());
    assert!(text.contains("bytes in all"), "{text}");
    // An unknown argument named by a huge string.
    let mut args = serde_json::Map::new();
    args.insert(big.clone(), json!(1));
    let text = call(&w, &Value::Object(args)).unwrap_err().to_string();
    assert!(text.len() < 1_000 && text.contains("bytes in all"), "{} bytes", text.len());
    // Not an object at all.
    let text = call(&w, &json!([big])).unwrap_err().to_string();
    assert!(text.len() < 1_000, "{} bytes", text.len());
    // A script's own huge `fail(...)` message.
    let text = call(&w, &json!({"what": "fail_big"})).unwrap_err().to_string();
    assert!(text.len() < 3_000 && text.contains("bytes in all"), "{} bytes", text.len());
    // An unknown tool with a huge name.
    let text = w.session().call(&big, &json!({})).unwrap_err().to_string();
    assert!(text.len() < 1_000, "{} bytes", text.len());
}

fn paths_manifest(script: &str, data_dir: &str) -> String {
    format!(
        r#"{{"format": 1, "name": "paths",
          "collections": {{"things": {{"key": "id", "fields": {{}}}}}},
          "data": {{"dir": "{data_dir}"}},
          "tools": [{{"name": "t", "description": "T.", "effect": "read",
                      "parameters": {{"type": "object"}}, "script": "{script}"}}]}}"#
    )
}

#[test]
fn world_paths_may_not_leave_the_world() {
    let outside = "def t():\n    return 'outside'\n";
    let cases = [
        (paths_manifest("../outside.star", "data"), "leaves the world's directory"),
        (paths_manifest("tools/../../outside.star", "data"), "leaves the world's directory"),
        (paths_manifest("/etc/outside.star", "data"), "is absolute"),
        (paths_manifest("t.star", "../data"), "leaves the world's directory"),
        (paths_manifest("loads.star", "data"), "leaves the world's directory"),
    ];
    for (manifest, expected) in cases {
        let files = MemFiles::new("paths")
            .with("world.json", manifest.as_str())
            .with("t.star", "def t():\n    return 1\n")
            .with("loads.star", "load('../outside.star', 'x')\ndef t():\n    return x\n")
            .with("../outside.star", outside)
            .with("/etc/outside.star", outside)
            .with("../data/things.json", "{}")
            .with("data/things.json", "{}");
        let e = World::load(&files).unwrap_err();
        assert!(e.to_string().contains(expected), "{manifest}: {e}");
    }
    // Data declared external (`dir_env`, as tau-retail's) may live outside the world.
    let manifest = paths_manifest("t.star", "../ext")
        .replace(r#""dir": "../ext""#, r#""dir": "../ext", "dir_env": "WS_HARDENING_UNSET""#);
    let files = MemFiles::new("paths")
        .with("world.json", manifest)
        .with("t.star", "def t():\n    return 1\n")
        .with("../ext/things.json", r#"{"a": {}}"#);
    assert_eq!(World::load(&files).unwrap().initial_state().total_len(), 1);
}

#[test]
fn a_symbolic_link_out_of_a_world_directory_is_refused() {
    let tmp = std::env::temp_dir().join(format!("ws-paths-{}", std::process::id()));
    let world = tmp.join("world");
    std::fs::create_dir_all(world.join("data")).unwrap();
    std::fs::write(tmp.join("outside.star"), "def t():\n    return 1\n").unwrap();
    std::fs::write(world.join("world.json"), paths_manifest("t.star", "data")).unwrap();
    std::fs::write(world.join("data/things.json"), "{}").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.join("outside.star"), world.join("t.star")).unwrap();
        let e = World::load_dir(&world).unwrap_err();
        assert!(e.to_string().contains("leads outside the world's directory"), "{e}");
    }
    std::fs::remove_file(world.join("t.star")).ok();
    std::fs::write(world.join("t.star"), "def t():\n    return 1\n").unwrap();
    World::load_dir(&world).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
}
