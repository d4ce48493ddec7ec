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

fn run_binary(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn run_stops_at_once_on_a_misspelt_world_or_no_tasks_per_world() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let (code, text) = run_binary(&["run", "--out", out, "--worlds", "retial"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("unknown world `retial`"), "{text}");
    assert!(text.contains("hint: did you mean `retail`?") && text.contains("bundled worlds are: "), "{text}");
    let (code, text) = run_binary(&["run", "--out", out, "--per-world", "0"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--per-world 0") && text.contains("hint: "), "{text}");
    assert!(!Path::new(out).exists(), "the run started working");
}

#[test]
fn run_goes_on_past_a_world_that_does_not_load_or_fails_its_check() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("world.json"), r#"{"format": 1, "name": "broken", "collections": {}"#).unwrap();
    let hostile = tmp.path().join("hostile");
    hostile_world(&hostile);
    let out = tmp.path().join("out");
    let (code, text) = run_binary(&[
        "run",
        "--out",
        out.to_str().unwrap(),
        "--worlds",
        broken.to_str().unwrap(),
        hostile.to_str().unwrap(),
        "bank",
        "--per-world",
        "1",
        "--trials",
        "1",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("does not load, skipped"), "{text}");
    assert!(text.contains("hostile failed its check"), "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let worlds = summary["worlds"].as_array().unwrap();
    assert_eq!(worlds.len(), 3);
    assert_eq!(worlds[0]["loaded"], false);
    assert!(worlds[0]["error"].as_str().unwrap().contains("world.json"));
    assert_eq!(worlds[1]["check_passed"], false);
    assert_eq!(worlds[2]["world"], "bank");
    assert_eq!(worlds[2]["check_passed"], true);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("The world does not load"), "{report}");
    // The headline says why the run failed.
    let headline: Vec<&str> = report.lines().skip_while(|l| !l.starts_with("Result:")).skip(1).take(4).collect();
    let headline = headline.join("\n");
    assert!(headline.contains("broken` did not load: world"), "{headline}");
    assert!(headline.contains("- world `hostile` failed its check"), "{headline}");
    assert!(summary["failures"].as_array().unwrap().len() >= 2, "{summary}");
}
