//! The stages one by one on the command line, ending in SFT data and metrics. (That Python's
//! `datasets` loads what they write is tested by `python/tests/test_datasets.py`.)

use std::process::Command;

fn worldsmith(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.code().is_some_and(|c| c <= 1), "worldsmith {args:?} failed:\n{stderr}");
    stderr
}

#[test]
fn the_stages_chain_into_sft_data_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    worldsmith(&["synth", "--worlds", "retail", "--per-world", "8", "--out", &p("synth")]);
    let tasks = p("synth/tasks.jsonl");
    worldsmith(&["rollout", "--tasks", &tasks, "--policy", "oracle", "--out", &p("oracle.jsonl")]);
    let noisy = ["rollout", "--tasks", &tasks, "--policy", "noisy", "--trials", "3", "--seed", "4"];
    let log = worldsmith(&[&noisy[..], &["--out", &p("noisy.jsonl")]].concat());
    assert!(log.contains("noisy: 24 episodes"), "{log}");
    let log =
        worldsmith(&["verify", "--episodes", &p("oracle.jsonl"), &p("noisy.jsonl"), "--out", &p("verdicts.jsonl")]);
    assert!(log.contains("kept"), "{log}");
    let log = worldsmith(&[
        "export",
        "sft",
        "--verdicts",
        &p("verdicts.jsonl"),
        "--episodes",
        &p("oracle.jsonl"),
        &p("noisy.jsonl"),
        "--out",
        &p("sft"),
    ]);
    assert!(log.contains("stage2_vertical"), "{log}");
    let log = worldsmith(&["eval", "--verdicts", &p("verdicts.jsonl"), "--out", &p("eval")]);
    assert!(log.contains("oracle: 8 tasks, 8 episodes, success 1.000"), "{log}");
    assert!(log.contains("pass^3"), "{log}");

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sft/manifest.json")).unwrap()).unwrap();
    let lines = manifest["stats"]["lines"]["stage2_vertical"].as_u64().unwrap();
    assert!(lines >= 8, "{manifest}");
    assert_eq!(manifest["stats"]["lines"]["stage1_general"], 0);
}
