//! The stages one by one on the command line, ending in SFT data that Python's `datasets`
//! loads. The test creates (once) a virtual environment with `datasets` in the target
//! directory; outside CI it skips with a message when Python or PyPI is unavailable.

use std::path::{Path, PathBuf};
use std::process::Command;

fn worldsmith(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.code().is_some_and(|c| c <= 1), "worldsmith {args:?} failed:\n{stderr}");
    stderr
}

/// A Python with `datasets`, or why there is none.
fn python_with_datasets() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-datasets");
    let python = venv.join("bin").join("python");
    let has_datasets =
        |p: &Path| Command::new(p).args(["-c", "import datasets"]).output().is_ok_and(|o| o.status.success());
    if has_datasets(&python) {
        return Ok(python);
    }
    let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).output();
    match created {
        Ok(o) if o.status.success() => {}
        Ok(o) => return Err(format!("python3 -m venv failed: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => return Err(format!("python3 is not available: {e}")),
    }
    let pip = Command::new(&python).args(["-m", "pip", "install", "--quiet", "datasets>=3"]).output();
    match pip {
        Ok(o) if o.status.success() && has_datasets(&python) => Ok(python),
        Ok(o) => Err(format!("pip install datasets failed: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => Err(format!("pip did not run: {e}")),
    }
}

const CHECK: &str = r#"
import json, sys
from datasets import load_dataset
path, expected = sys.argv[1], int(sys.argv[2])
ds = load_dataset("json", data_files=path, split="train")
assert len(ds) == expected, (len(ds), expected)
assert set(ds.column_names) == {"messages", "tools"}, ds.column_names
weights = set()
for row in ds:
    messages = row["messages"]
    assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
    for m in messages:
        if m["role"] == "assistant":
            assert m["weight"] in (0, 1), m
            weights.add(m["weight"])
            for call in m.get("tool_calls") or []:
                json.loads(call["function"]["arguments"])
        else:
            assert m.get("weight") is None, m
    assert all(t["type"] == "function" for t in row["tools"])
print(json.dumps({"rows": len(ds), "weights": sorted(weights)}))
"#;

#[test]
fn the_stages_chain_into_sft_data_that_datasets_loads() {
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

    let python = match python_with_datasets() {
        Ok(p) => p,
        Err(why) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the datasets check: {why}");
            return;
        }
        Err(why) => panic!("CI must be able to check the SFT data with datasets: {why}"),
    };
    let out =
        Command::new(python).args(["-c", CHECK, &p("sft/stage2_vertical.jsonl"), &lines.to_string()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("\"rows\": {lines}")), "{stdout}");
}
