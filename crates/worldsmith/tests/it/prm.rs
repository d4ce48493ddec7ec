//! `prm build`, `prm eval` and `prm search` from the command line: layouts, splits,
//! repeatable bytes, and bad input (malformed lines, unknown tasks, a scorer that answers
//! garbage or nothing) named, skipped and counted.

use std::path::Path;
use std::process::Command;

/// Runs the binary; returns the exit code and stderr.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tasks(dir: &Path) -> String {
    let p = dir.join("synth").display().to_string();
    let (code, err) = run(&["synth", "--worlds", "retail", "bank", "--per-world", "5", "--out", &p]);
    assert_eq!(code, 0, "{err}");
    dir.join("synth/tasks.jsonl").display().to_string()
}

fn lines(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn build_writes_every_layout_and_split_repeatably() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let tasks = tasks(dir.path());
    let (code, err) = run(&["prm", "build", "--tasks", &tasks, "--out", &p("a"), "--seed", "4"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("error type") && err.contains("pairs ("), "{err}");
    let (code, _) = run(&["prm", "build", "--tasks", &tasks, "--out", &p("b"), "--seed", "4"]);
    assert_eq!(code, 0);
    for f in ["pairs.jsonl", "prm_summary.json"] {
        assert_eq!(std::fs::read(p(&format!("a/{f}"))).unwrap(), std::fs::read(p(&format!("b/{f}"))).unwrap(), "{f}");
    }
    let pairs = lines(&p("a/pairs.jsonl"));
    assert!(pairs.len() > 20);
    for pair in &pairs {
        assert_eq!(pair["format"], 1);
        assert_eq!(pair["action_chosen"]["role"], "assistant");
        assert_ne!(pair["action_chosen"], pair["action_rejected"]);
        assert!(pair["judges"].as_array().unwrap().iter().all(|j| j["agrees"] == true), "{pair}");
    }
    // TRL's columns, split by world: no world on both sides.
    let (code, err) =
        run(&["prm", "build", "--tasks", &tasks, "--out", &p("trl"), "--layout", "trl", "--split-by", "world"]);
    assert_eq!(code, 0, "{err}");
    let ids = |f: &str| lines(&p(f)).iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (train, test) = (ids("trl/train.jsonl"), ids("trl/test.jsonl"));
    assert!(!train.is_empty() && !test.is_empty());
    assert_eq!(train.len() + test.len(), ids("trl/pairs.jsonl").len());
    let world = |id: &str| id.split('-').next().unwrap().to_owned();
    assert!(train.iter().all(|t| test.iter().all(|s| world(s) != world(t))));
    let row = &lines(&p("trl/train.jsonl"))[0];
    assert!(
        row["prompt"].is_array() && row["chosen"].is_array() && row["rejected"].is_array() && row["tools"].is_array()
    );
    let (code, err) = run(&["prm", "build", "--tasks", &tasks, "--out", &p("bench"), "--layout", "toolprmbench"]);
    assert_eq!(code, 0, "{err}");
    let row = &lines(&p("bench/pairs.jsonl"))[0];
    for key in ["history", "functions", "action_chosen", "action_rejected", "error_type"] {
        assert!(row.get(key).is_some(), "{key}: {row}");
    }
}

#[test]
fn baselines_search_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let tasks = tasks(dir.path());
    // Online pairs from episode files; an episode of a task not given is named and skipped.
    let (code, err) = run(&[
        "rollout",
        "--tasks",
        &tasks,
        "--policy",
        "noisy",
        "--trials",
        "3",
        "--mistake-rate",
        "0.5",
        "--out",
        &p("noisy.jsonl"),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut episodes = std::fs::read_to_string(p("noisy.jsonl")).unwrap();
    let mut stray: serde_json::Value = serde_json::from_str(episodes.lines().next().unwrap()).unwrap();
    stray["id"] = "stray/noisy/0".into();
    stray["task"]["id"] = "stray".into();
    episodes.push_str(&format!("{stray}\n{{not json\n"));
    std::fs::write(p("episodes.jsonl"), episodes).unwrap();
    let (code, err) = run(&["prm", "build", "--tasks", &tasks, "--episodes", &p("episodes.jsonl"), "--out", &p("prm")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("episode stray/noisy/0: its task is not in"), "{err}");
    assert!(err.contains("skipped a malformed episode line"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("prm/prm_summary.json")).unwrap()).unwrap();
    assert!(summary["by_source"]["online"].as_u64().unwrap() > 0, "{summary}");
    let pairs = p("prm/pairs.jsonl");

    // The lookahead needs the tasks; with them it re-proves every label.
    let (code, err) = run(&["prm", "eval", "--pairs", &pairs, "--baseline", "lookahead", "--out", &p("e.json")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --tasks"), "{err}");
    let (code, err) = run(&[
        "prm",
        "eval",
        "--pairs",
        &pairs,
        "--baseline",
        "lookahead",
        "--tasks",
        &tasks,
        "--out",
        &p("look.json"),
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p("look.json")).unwrap()).unwrap();
    assert_eq!(report["overall"]["accuracy"], 1.0, "{report}");

    // A malformed pair line: named, skipped, the rest evaluated, exit 1.
    let mut text = std::fs::read_to_string(&pairs).unwrap();
    text.insert_str(0, "{\"id\": 3}\n");
    std::fs::write(p("bad_pairs.jsonl"), text).unwrap();
    let (code, err) =
        run(&["prm", "eval", "--pairs", &p("bad_pairs.jsonl"), "--baseline", "heuristic", "--out", &p("h.json")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bad_pairs.jsonl:1"), "{err}");

    // A scorer that answers garbage, then nothing at all: counted as unanswered, never a panic.
    let server = worldsmith_llm::testing::TestServer::start(|n, _| {
        if n % 2 == 0 { (200, "{\"score\": \"high\"}".to_owned()) } else { (500, "down".to_owned()) }
    });
    let url = format!("{}/score", server.base_url());
    let (code, err) =
        run(&["prm", "eval", "--pairs", &pairs, "--scorer", &url, "--retries", "0", "--out", &p("s.json")]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p("s.json")).unwrap()).unwrap();
    assert_eq!(report["unanswered"], report["overall"]["total"], "{report}");
    assert!(report["failures"][0].as_str().unwrap().contains("score"), "{report}");

    // A pair file given twice is refused before any model is asked.
    let twice = std::fs::read_to_string(&pairs).unwrap().repeat(2);
    std::fs::write(p("twice.jsonl"), twice).unwrap();
    let counted = worldsmith_llm::testing::TestServer::start(|_, _| (200, "{\"score\": 1}".to_owned()));
    let url = format!("{}/score", counted.base_url());
    let (code, err) = run(&["prm", "eval", "--pairs", &p("twice.jsonl"), "--scorer", &url, "--out", &p("t.json")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pair ids occur more than once"), "{err}");
    assert!(counted.requests().is_empty());

    // Search: the lookahead guide, a chart, and a guide that is neither.
    let (code, err) =
        run(&["prm", "search", "--tasks", &tasks, "--candidates", "1,4", "--trials", "1", "--out", &p("search")]);
    assert_eq!(code, 0, "{err}");
    let search: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("search/search.json")).unwrap()).unwrap();
    let rows = search["rows"].as_array().unwrap();
    assert!(rows[1]["success_rate"].as_f64() >= rows[0]["success_rate"].as_f64(), "{search}");
    assert!(std::fs::read_to_string(p("search/search.svg")).unwrap().contains("<svg"));
    let (code, err) = run(&["prm", "search", "--tasks", &tasks, "--prm", "magic", "--out", &p("x")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--prm must be"), "{err}");
}

#[test]
fn search_samples_candidates_from_an_openai_endpoint() {
    use serde_json::{Value, json};
    use std::collections::HashMap;
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let tasks = tasks(dir.path());
    // The model's right answers are the oracle's turns, looked up by the task's first user
    // message; its wrong one is a claim that the work is done, which ends the conversation.
    let (code, err) = run(&["rollout", "--tasks", &tasks, "--policy", "oracle", "--out", &p("oracle.jsonl")]);
    assert_eq!(code, 0, "{err}");
    let mut right: HashMap<String, Vec<Value>> = HashMap::new();
    for episode in lines(&p("oracle.jsonl")) {
        let messages = episode["messages"].as_array().unwrap();
        let opening = messages.iter().find(|m| m["role"] == "user").unwrap()["content"].as_str().unwrap().to_owned();
        right.insert(opening, messages.iter().filter(|m| m["role"] == "assistant").cloned().collect());
    }
    let server = worldsmith_llm::testing::TestServer::start(move |_, body| {
        let messages = body["messages"].as_array().unwrap();
        let opening = messages.iter().find(|m| m["role"] == "user").unwrap()["content"].as_str().unwrap();
        let turns = &right[opening];
        let k = messages.iter().filter(|m| m["role"] == "assistant").count().min(turns.len() - 1);
        let seed = body["seed"].as_u64().unwrap();
        let wanted = body.get("n").and_then(Value::as_u64).unwrap_or(1);
        // At most two choices per request, as some servers do: the rest must be asked again.
        let choices: Vec<Value> = (0..wanted.min(2))
            .map(|i| {
                let wrong = seed.wrapping_add(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63 == 1;
                let message = if wrong {
                    json!({"role": "assistant", "content": "I have taken care of everything for you."})
                } else {
                    turns[k].clone()
                };
                json!({"index": i, "message": message, "finish_reason": "stop"})
            })
            .collect();
        (200, json!({"choices": choices}).to_string())
    });
    let base = server.base_url();
    let (code, err) = run(&[
        "prm",
        "search",
        "--tasks",
        &tasks,
        "--policy",
        "openai",
        "--model",
        "mock",
        "--base-url",
        &base,
        "--temperature",
        "0.8",
        "--candidates",
        "1,4",
        "--trials",
        "2",
        "--out",
        &p("search"),
    ]);
    assert_eq!(code, 0, "{err}");
    let search: Value = serde_json::from_str(&std::fs::read_to_string(p("search/search.json")).unwrap()).unwrap();
    println!("{search}");
    assert_eq!(search["policy"], "openai:mock", "{search}");
    assert!(search.get("mistake_rate").is_none(), "{search}");
    let rows = search["rows"].as_array().unwrap();
    let rate = |r: &Value| r["success_rate"].as_f64().unwrap();
    assert!(rate(&rows[1]) > rate(&rows[0]) && rate(&rows[1]) >= 0.6, "{search}");
    assert!(rows[1]["turns_with_mistakes"].as_u64().unwrap() > 0, "{search}");
    // Four candidates: one request asks for all four, and what it lacks is asked for again.
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.body["n"] == 4 && r.body["model"] == "mock"));
    assert!(requests.iter().any(|r| r.body["n"] == 2));
    assert!(requests.iter().all(|r| r.body["tools"].is_array() && r.body["temperature"] == 0.8));

    // An endpoint that is down: every episode fails, named and counted, exit 1, no panic.
    let down = worldsmith_llm::testing::TestServer::start(|_, _| (503, "overloaded".to_owned()));
    let (code, err) = run(&[
        "prm",
        "search",
        "--tasks",
        &tasks,
        "--policy",
        "openai",
        "--model",
        "mock",
        "--base-url",
        &down.base_url(),
        "--retries",
        "0",
        "--candidates",
        "2",
        "--trials",
        "1",
        "--out",
        &p("down"),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the policy's endpoint failed in 10 of 10 episodes") && err.contains("HTTP 503"), "{err}");
    assert!(err.contains("warning: --temperature 0"), "{err}");
    // Without a model, the openai policy is refused before anything runs.
    let (code, err) = run(&["prm", "search", "--tasks", &tasks, "--policy", "openai", "--out", &p("none")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs a model"), "{err}");
}
