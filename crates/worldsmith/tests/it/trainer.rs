//! `export verl` and `export trl`: bad input, the manifest and repeatable bytes. Python
//! tests (`python/tests/test_trainer.py`) open the files with pyarrow and `datasets`.

use std::path::Path;
use std::process::Command;

/// Runs the binary; returns the exit code and stderr.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn arenas(dir: &Path) -> String {
    let p = |name: &str| dir.join(name).display().to_string();
    let (code, err) = run(&["synth", "--worlds", "retail", "airline", "--per-world", "6", "--out", &p("synth")]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&["arenas", "--tasks", &p("synth/tasks.jsonl"), "--out", &p("arenas")]);
    assert_eq!(code, 0, "{err}");
    std::fs::read_to_string(p("arenas/arenas.jsonl")).unwrap()
}

#[test]
fn bad_arena_lines_are_named_skipped_and_the_rest_exported_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let good = arenas(dir.path());
    let lines: Vec<&str> = good.lines().collect();
    let mut unknown_world: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    unknown_world["id"] = "elsewhere".into();
    unknown_world["world"] = "nowhere".into();
    let mut unoffered: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    unoffered["id"] = "unoffered".into();
    unoffered["gold"][0]["name"] = "teleport".into();
    let mut bad_subgoal: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    bad_subgoal["id"] = "bad-subgoal".into();
    bad_subgoal["subgoals"] = serde_json::json!([{"model_judge": {}}]);
    let bad =
        format!("{}\n{{not json\n{unknown_world}\n{unoffered}\n{bad_subgoal}\n{}\n", lines[0], lines[1..].join("\n"));
    std::fs::write(p("bad.jsonl"), bad).unwrap();
    for target in ["verl", "trl"] {
        let out = p(&format!("bad-{target}"));
        let (code, err) = run(&["export", target, "--arenas", &p("bad.jsonl"), "--out", &out]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("bad.jsonl:2: skipped a malformed arena line"), "{err}");
        assert!(err.contains("bad.jsonl:5: skipped a malformed arena line"), "{err}");
        assert!(err.contains("nowhere"), "{err}");
        assert!(err.contains("arena unoffered: gold call `teleport` names a tool the arena does not offer"), "{err}");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(Path::new(&out).join("manifest.json")).unwrap()).unwrap();
        let rows = manifest["rows"]["train"].as_u64().unwrap() + manifest["rows"]["test"].as_u64().unwrap();
        let needs_user = manifest["left_out"]["needs_user"].as_u64().unwrap_or(0);
        assert_eq!(rows + needs_user, lines.len() as u64, "{manifest}");
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    arenas(dir.path());
    let a = p("arenas/arenas.jsonl");
    for out in ["one", "two"] {
        let (code, err) = run(&["export", "verl", "--arenas", &a, "--out", &p(out), "--seed", "3", "--ask-user"]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("rows") && err.contains("tasks"), "{err}");
    }
    for file in ["train.parquet", "test.parquet", "manifest.json"] {
        assert_eq!(
            std::fs::read(Path::new(&p("one")).join(file)).unwrap(),
            std::fs::read(Path::new(&p("two")).join(file)).unwrap()
        );
    }
    let (code, err) = run(&["export", "trl", "--arenas", &a, "--out", &p("x"), "--test-fraction", "1.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--test-fraction must be between 0 and 1"), "{err}");
    // Only arenas that need the user: nothing to export without --ask-user, and a hint.
    let needs_user: Vec<String> = std::fs::read_to_string(&a)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["needs_user"] = true.into();
            v.to_string()
        })
        .collect();
    std::fs::write(p("user.jsonl"), needs_user.join("\n")).unwrap();
    let (code, err) = run(&["export", "verl", "--arenas", &p("user.jsonl"), "--out", &p("y")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no arena left to export") && err.contains("hint: pass --ask-user"), "{err}");
    let (code, err) = run(&["export", "verl", "--arenas", &p("user.jsonl"), "--out", &p("y"), "--ask-user"]);
    assert_eq!(code, 0, "{err}");
}
