//! The binary under a 3 GB address-space limit: a hostile world is reported, never aborts
//! the process (issue 14, item 8).

use std::path::Path;
use std::process::Command;

const MANIFEST: &str = r#"{
  "format": 1, "name": "hostile",
  "collections": {"things": {"key": "id", "fields": {"v": {"type": "integer"}}}},
  "data": {"dir": "data"},
  "tools": [
    {"name": "blow", "description": "Builds a gigantic string.", "effect": "read",
     "parameters": {"type": "object", "properties": {"how": {"type": "string"}}, "required": ["how"]},
     "example": {"how": "replace"},
     "script": "blow.star"}
  ]
}"#;

const SCRIPT: &str = r#"
def blow(how):
    big = "a" * 100000
    if how == "replace":
        return len(big.replace("a", "b" * 100000))
    if how == "join":
        return len(big.join(["x"] * 100000))
    if how == "format":
        return len(("%s" * 100000) % tuple([big] * 100000))
    fail("unknown")
"#;

fn hostile_world(dir: &Path) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("world.json"), MANIFEST).unwrap();
    std::fs::write(dir.join("blow.star"), SCRIPT).unwrap();
    std::fs::write(dir.join("data/things.json"), r#"{"a": {"v": 1}}"#).unwrap();
}

/// Runs the binary with `args` under `ulimit -v 3000000` (3 GB); returns the exit code (None
/// when killed by a signal) and stdout + stderr.
fn run_limited(args: &[&str]) -> (Option<i32>, String) {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    let script = format!("ulimit -v 3000000 && exec '{}' {}", env!("CARGO_BIN_EXE_worldsmith"), quoted.join(" "));
    let out = Command::new("bash").arg("-c").arg(script).output().expect("bash runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn a_string_bomb_is_a_limit_error_under_a_3_gb_ulimit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hostile");
    hostile_world(&dir);
    let world = dir.display().to_string();
    for how in ["replace", "join", "format"] {
        let (code, text) = run_limited(&["world", "call", &world, "blow", &format!(r#"{{"how": "{how}"}}"#)]);
        assert!(code.is_some(), "{how}: killed by a signal:\n{text}");
        assert!(text.contains("limit"), "{how}: {text}");
        assert!(!text.contains("memory allocation"), "{how}: {text}");
    }
    let (code, text) = run_limited(&["world", "check", &world]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL") && text.contains("limit"), "{text}");
}
