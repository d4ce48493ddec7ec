use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs the binary with `args` (and `stdin`); returns "exit N", stdout and stderr, with the
/// fixture directory replaced by `[FIXTURES]` and temporary paths by `[TMP]`.
fn run(args: &[&str], stdin: &str, tmp: Option<&Path>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_worldsmith"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("piped").write_all(stdin.as_bytes()).expect("stdin");
    let out = child.wait_with_output().expect("finishes");
    let text = format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = text.replace(&fixture("").display().to_string(), "[FIXTURES]/");
    // The list of bundled worlds grows; snapshots should not.
    let bundled: Vec<&str> = worldsmith_worlds::names().collect();
    let text = text.replace(&bundled.join(", "), "[BUNDLED]");
    match tmp {
        Some(t) => text.replace(&t.display().to_string(), "[TMP]"),
        None => text,
    }
}

const SHOP: &str = "tests/fixtures/shop";

#[test]
fn check_prints_a_summary() {
    insta::assert_snapshot!(run(&["world", "check", SHOP], "", None));
}

#[test]
fn call_prints_result_and_digest() {
    insta::assert_snapshot!(run(&["world", "call", SHOP, "sell", r#"{"item_id": "pen", "quantity": 2}"#], "", None));
}

#[test]
fn call_errors_are_clear() {
    let refused = run(&["world", "call", SHOP, "sell", r#"{"item_id": "quill", "quantity": 1}"#], "", None);
    let bad_args = run(&["world", "call", SHOP, "sell", r#"{"item_id": 7, "qty": 1}"#], "", None);
    let unknown = run(&["world", "call", SHOP, "sel", "{}"], "", None);
    let not_json = run(&["world", "call", SHOP, "sell", "{item_id: pen}"], "", None);
    insta::assert_snapshot!(format!("{refused}\n{bad_args}\n{unknown}\n{not_json}"));
}

#[test]
fn replay_writes_result_lines() {
    let stdout = run(&["world", "replay", SHOP, "--tasks", "tests/fixtures/shop/tasks.jsonl"], "", None);
    insta::assert_snapshot!(stdout);
    // Writing to a file gives the same bytes as standard output.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.jsonl");
    let _ = run(
        &["world", "replay", SHOP, "--tasks", "tests/fixtures/shop/tasks.jsonl", "--out", out.to_str().unwrap()],
        "",
        None,
    );
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(stdout.contains(&file), "{file}");
}

#[test]
fn replay_skips_malformed_lines_and_keeps_going() {
    let tasks = "{\"id\": 1, \"actions\": [{\"name\": \"sell\", \"arguments\": {\"item_id\": \"pen\", \"quantity\": 1}}]}\n{not json\n\n{\"id\": 2, \"actions\": []}\n";
    insta::assert_snapshot!(run(&["world", "replay", SHOP, "--tasks", "-"], tasks, None));
}

#[test]
fn shell_is_driven_by_stdin() {
    let script = "help\ntools\nget items pen\nsell {\"item_id\": \"pen\", \"quantity\": 1}\ncall sell {\"item_id\": \"ink\", \"quantity\": 1}\ndigest\ndiff\nundo\ndiff\nkeys items\nbogus\nquit\nget items pen\n";
    insta::assert_snapshot!(run(&["world", "shell", SHOP], script, None));
}

#[test]
fn unknown_world_and_usage_errors() {
    let unknown = run(&["world", "check", "no-such-world"], "", None);
    let missing = run(&["world", "check", "./no/such/dir"], "", None);
    let usage = run(&["world", "frobnicate"], "", None);
    insta::assert_snapshot!(format!("{unknown}\n{missing}\n{usage}"));
}

#[test]
fn broken_worlds_report_file_and_location() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("broken");
    std::fs::create_dir_all(world.join("tools")).unwrap();
    std::fs::create_dir_all(world.join("data")).unwrap();
    let manifest = std::fs::read_to_string(fixture("shop/world.json")).unwrap();
    std::fs::write(world.join("tools/sell.star"), "def sell(item_id, quantity):\n    return item_id +\n").unwrap();
    std::fs::write(world.join("data/items.json"), r#"{"pen": {"name": "Pen", "stock": -1, "status": "lost"}}"#)
        .unwrap();
    std::fs::write(world.join("world.json"), manifest.replace("\"effect\": \"read\"", "\"effect\": \"peek\"")).unwrap();
    let bad_effect = run(&["world", "check", world.to_str().unwrap()], "", Some(dir.path()));
    std::fs::write(world.join("world.json"), &manifest).unwrap();
    let bad_script = run(&["world", "check", world.to_str().unwrap()], "", Some(dir.path()));
    std::fs::write(world.join("tools/sell.star"), std::fs::read_to_string(fixture("shop/tools/sell.star")).unwrap())
        .unwrap();
    let bad_data = run(&["world", "check", world.to_str().unwrap()], "", Some(dir.path()));
    insta::assert_snapshot!(format!("{bad_effect}\n{bad_script}\n{bad_data}"));
}

/// Runs `worldsmith run --out <out> <extra...>` with `threads` rayon threads; returns
/// (success, stderr).
fn main_job(out: &Path, threads: &str, extra: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_worldsmith"))
        .args(["run", "--out", out.to_str().unwrap()])
        .args(extra)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("the binary runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Every file under `dir`, relative, with its bytes, sorted; `timings.json` (stage times,
/// the one file that differs between runs) left out.
pub(crate) fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                if rel != "timings.json" {
                    files.push((rel, std::fs::read(&path).unwrap()));
                }
            }
        }
    }
    files.sort();
    files
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ta), names(&tb));
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        assert!(x == y, "{name} differs");
    }
}

#[test]
fn run_is_complete_deterministic_on_any_thread_count_and_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let small = ["--per-world", "6", "--trials", "3"];
    let (ok, log) = main_job(&a, "2", &small);
    assert!(ok, "{log}");
    let report = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(report.contains("Result: **passed**"), "{report}");
    for section in
        ["## Episodes", "## Verification", "## Training data", "## Evaluation", "pass^3", "eval/pass_hat_k.svg"]
    {
        assert!(report.contains(section), "{section} missing from the report");
    }
    for file in ["episodes/oracle.jsonl", "episodes/noisy.jsonl", "verify/verdicts.jsonl", "sft/stage2_vertical.jsonl"]
    {
        assert!(std::fs::metadata(a.join(file)).unwrap().len() > 0, "{file} is empty");
    }
    for chart in ["pass_hat_k.svg", "success_by_length.svg", "success_by_world.svg"] {
        assert!(std::fs::read_to_string(a.join("eval").join(chart)).unwrap().contains("<svg"));
    }
    // Issue #17, item 4: every stage reports its time (`timings.json`, outside the
    // comparison: times differ between runs).
    let timings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("timings.json")).unwrap()).unwrap();
    let stages: Vec<&str> =
        timings["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    let every = [
        "worlds",
        "synth",
        "resume",
        "rollout-oracle",
        "rollout-noisy",
        "verify",
        "export-sft",
        "eval",
        "arenas",
        "grpo",
        "prm",
        "report",
    ];
    assert_eq!(stages, every, "{timings}");
    assert!(timings["waves"]["wave 1"].as_f64().unwrap() < timings["total"].as_f64().unwrap(), "{timings}");
    assert!(log.contains("times (timings.json): worlds "), "{log}");
    let (ok, log) = main_job(&b, "1", &small);
    assert!(ok, "{log}");
    assert_same_tree(&a, &b);
    // No absolute paths or times in the outputs.
    for (name, bytes) in tree(&a) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&dir.path().display().to_string()), "{name} holds a temporary path");
    }

    // An interrupted run: later outputs missing, one truncated. The rerun skips what is
    // done, redoes the rest, and ends with the same files.
    std::fs::remove_file(b.join("verify/verdicts.jsonl")).unwrap();
    let noisy = b.join("episodes/noisy.jsonl");
    let bytes = std::fs::read(&noisy).unwrap();
    std::fs::write(&noisy, &bytes[..bytes.len() / 2]).unwrap();
    let (ok, log) = main_job(&b, "2", &small);
    assert!(ok, "{log}");
    assert!(log.contains("rollout-oracle: up to date, skipped"), "{log}");
    assert!(!log.contains("rollout-noisy: up to date") && !log.contains("verify: up to date"), "{log}");
    assert_same_tree(&a, &b);
    let (_, log) = main_job(&b, "2", &small);
    assert!(log.contains("eval: up to date, skipped"), "{log}");
    assert!(log.contains("eval 0.") && log.contains(" (skipped)"), "{log}");
}

#[test]
fn synth_writes_tasks_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synth");
    let args = ["synth", "--worlds", SHOP, "--out", out.to_str().unwrap(), "--per-world", "3"];
    let text = run(&args, "", Some(dir.path()));
    let tasks = std::fs::read_to_string(out.join("tasks.jsonl")).unwrap();
    let summary = std::fs::read_to_string(out.join("synth_summary.json")).unwrap();
    let twice = run(&["synth", "--worlds", SHOP, SHOP, "--out", out.to_str().unwrap()], "", Some(dir.path()));
    insta::assert_snapshot!(format!("{text}--- tasks.jsonl\n{tasks}--- synth_summary.json\n{summary}\n{twice}"));
    // The same seed writes the same bytes.
    let _ = run(&args, "", Some(dir.path()));
    assert_eq!(std::fs::read_to_string(out.join("tasks.jsonl")).unwrap(), tasks);
}

#[test]
fn arenas_are_built_from_tasks_and_bad_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).display().to_string();
    run(&["synth", "--worlds", "retail", "--per-world", "8", "--out", &p("synth")], "", None);
    let tasks = std::fs::read_to_string(p("synth/tasks.jsonl")).unwrap();
    let text = run(&["arenas", "--tasks", &p("synth/tasks.jsonl"), "--out", &p("arenas")], "", Some(dir.path()));
    assert!(text.starts_with("exit 0"), "{text}");
    let arenas = std::fs::read_to_string(p("arenas/arenas.jsonl")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("arenas/arenas_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["tasks"], 8, "{summary}");
    assert_eq!(summary["arenas"].as_u64().unwrap() as usize, arenas.lines().count());
    assert!(summary["hops"].as_u64().unwrap() > 0, "{summary}");
    for line in arenas.lines() {
        let arena: worldsmith_core::arena::Arena = serde_json::from_str(line).unwrap();
        assert_eq!(arena.format, 1);
        assert_eq!(arena.messages.len(), 2);
        assert!(!arena.subgoals.is_empty() && !arena.gold.is_empty(), "{line}");
    }
    // Episodes in the arenas and of the tasks, scored against the arenas.
    let arenas_path = p("arenas/arenas.jsonl");
    let text =
        run(&["rollout", "--arenas", &arenas_path, "--policy", "oracle", "--out", &p("in_arenas.jsonl")], "", None);
    assert!(text.starts_with("exit 0"), "{text}");
    run(
        &[
            "rollout",
            "--tasks",
            &p("synth/tasks.jsonl"),
            "--policy",
            "noisy",
            "--seed",
            "5",
            "--out",
            &p("of_tasks.jsonl"),
        ],
        "",
        None,
    );
    let text = run(
        &[
            "reward",
            "--arenas",
            &arenas_path,
            "--episodes",
            &p("in_arenas.jsonl"),
            &p("of_tasks.jsonl"),
            "--out",
            &p("rewards.jsonl"),
        ],
        "",
        None,
    );
    assert!(text.starts_with("exit 0"), "{text}");
    let rewards: Vec<worldsmith_core::arena::RewardLine> = std::fs::read_to_string(p("rewards.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rewards.len(), arenas.lines().count() + 8);
    // Every oracle episode in an arena earns everything; episodes of tasks meet the whole-task arena.
    assert!(rewards.iter().filter(|r| r.episode.contains("/oracle/")).all(|r| r.success), "{rewards:?}");
    assert!(rewards.iter().filter(|r| r.episode.contains("/noisy/")).all(|r| !r.arena.contains("/hop-")));
    // Trusting the recorded results gives the same bytes as running every call again.
    let text = run(
        &[
            "reward",
            "--arenas",
            &arenas_path,
            "--episodes",
            &p("in_arenas.jsonl"),
            &p("of_tasks.jsonl"),
            "--out",
            &p("trusted.jsonl"),
            "--trust-recorded",
        ],
        "",
        None,
    );
    assert!(text.starts_with("exit 0"), "{text}");
    assert_eq!(std::fs::read(p("trusted.jsonl")).unwrap(), std::fs::read(p("rewards.jsonl")).unwrap());
    // An episode whose arena is missing is named and skipped.
    let one_arena = arenas.lines().next().unwrap();
    std::fs::write(p("one_arena.jsonl"), format!("{one_arena}\n")).unwrap();
    let text = run(
        &["reward", "--arenas", &p("one_arena.jsonl"), "--episodes", &p("of_tasks.jsonl"), "--out", &p("some.jsonl")],
        "",
        None,
    );
    assert!(text.starts_with("exit 1") && text.contains("no arena"), "{text}");
    assert_eq!(std::fs::read_to_string(p("some.jsonl")).unwrap().lines().count(), 1);

    // The noisy policy's rates are probabilities, for `grpo simulate` as for `rollout`.
    let text = run(&["grpo", "simulate", "--arenas", &arenas_path, "--mistake-rate", "2"], "", None);
    assert!(text.starts_with("exit 2") && text.contains("--mistake-rate must be between 0 and 1"), "{text}");

    // A malformed line and a task of an unknown world: named, skipped, exit 1, the rest built.
    let bad = format!("{{not json\n{}", tasks.replacen("\"world\":\"retail\"", "\"world\":\"nowhere\"", 1));
    std::fs::write(p("bad.jsonl"), bad).unwrap();
    let text = run(&["arenas", "--tasks", &p("bad.jsonl"), "--out", &p("bad")], "", Some(dir.path()));
    assert!(text.starts_with("exit 1"), "{text}");
    assert!(text.contains("line 1"), "{text}");
    assert!(text.contains("nowhere"), "{text}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("bad/arenas_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["tasks"], 7, "{summary}");
}

#[test]
fn run_on_a_tool_pool_discovers_materializes_and_trains_on_generated_worlds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let pool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../worldsmith-materialize/tests/fixtures/petstore.jsonl");
    let (ok, log) = main_job(&out, "2", &["--tools", pool.to_str().unwrap(), "--per-world", "4", "--trials", "2"]);
    assert!(ok, "{log}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let kept = summary["generated"]["materialize"]["kept"].as_u64().unwrap();
    assert!(kept >= 1, "{summary}");
    let generated: Vec<&serde_json::Value> = summary["worlds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["world"].as_str().unwrap().starts_with("dom-"))
        .collect();
    assert_eq!(generated.len() as u64, kept);
    assert!(generated.iter().all(|w| w["check_passed"] == true));
    // Episodes in generated worlds are stage 1 training data.
    let stage1 = std::fs::read_to_string(out.join("sft/stage1_general.jsonl")).unwrap();
    assert!(!stage1.is_empty(), "no stage 1 lines");
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().contains("## Generated worlds"));
}

#[test]
fn graph_with_minilm_says_what_it_needs() {
    let pool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../worldsmith-materialize/tests/fixtures/petstore.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("graph");
    let model = dir.path().join("no-model");
    let text = run(
        &[
            "graph",
            pool.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--embedder",
            "minilm",
            "--model-dir",
            model.to_str().unwrap(),
        ],
        "",
        Some(dir.path()),
    );
    assert!(text.starts_with("exit 2"), "{text}");
    if cfg!(feature = "neural") {
        assert!(text.contains("[TMP]/no-model/config.json: not found"), "{text}");
    } else {
        assert!(text.contains("needs the `neural` build feature"), "{text}");
    }
    assert!(!out.join("domains.jsonl").exists());
}

/// The ingest crate's test documents.
fn ingest_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../worldsmith-ingest/tests").join(name)
}

/// `run`'s text without the timing line.
fn without_timing(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("wrote ")).map(|l| format!("{l}\n")).collect()
}

#[test]
fn ingest_prints_a_summary_and_its_tools_feed_graph() {
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools.jsonl");
    let summary = dir.path().join("summary.json");
    let fixtures = ingest_fixture("fixtures");
    let args = [
        "ingest",
        fixtures.to_str().unwrap(),
        "--out",
        tools.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ];
    let text = without_timing(&run(&args, "", Some(dir.path())));
    let written = std::fs::read_to_string(&tools).unwrap();
    let pool: Vec<worldsmith_core::tool::ToolSpec> =
        written.lines().map(|l| serde_json::from_str(l).expect("a ToolSpec line")).collect();
    assert_eq!(pool.len(), 23);
    let counts: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(counts["tools_written"], 23);
    // Broken documents are skipped with their reasons, and the exit code says so.
    let broken = ingest_fixture("broken");
    let out = dir.path().join("partial.jsonl");
    let partial = without_timing(&run(
        &["ingest", broken.to_str().unwrap(), fixtures.join("mcp").to_str().unwrap(), "--out", out.to_str().unwrap()],
        "",
        Some(dir.path()),
    ));
    let missing = run(&["ingest", "no/such/dir", "--out", out.to_str().unwrap()], "", Some(dir.path()));
    insta::assert_snapshot!(format!("{text}\n{partial}\n{missing}"));
    // The same inputs give the same bytes.
    let _ = run(&args, "", Some(dir.path()));
    assert_eq!(std::fs::read_to_string(&tools).unwrap(), written);

    // The pool feeds `graph`.
    let graph_dir = dir.path().join("graph");
    let graph = run(&["graph", tools.to_str().unwrap(), "--out", graph_dir.to_str().unwrap()], "", Some(dir.path()));
    assert!(graph.starts_with("exit 0"), "{graph}");
    assert!(graph_dir.join("domains.jsonl").exists());
}

#[test]
fn every_stage_table_and_the_report_read_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let tmp = Some(dir.path());
    let mut text = String::new();
    text += &run(&["synth", "--worlds", "bank", "--out", &d("synth"), "--per-world", "3"], "", tmp);
    let tasks = d("synth/tasks.jsonl");
    text += &run(&["rollout", "--tasks", &tasks, "--policy", "oracle", "--out", &d("oracle.jsonl")], "", tmp);
    text += &run(
        &["rollout", "--tasks", &tasks, "--policy", "noisy", "--trials", "2", "--out", &d("noisy.jsonl")],
        "",
        tmp,
    );
    text +=
        &run(&["verify", "--episodes", &d("oracle.jsonl"), &d("noisy.jsonl"), "--out", &d("verdicts.jsonl")], "", tmp);
    text += &run(
        &[
            "export",
            "sft",
            "--verdicts",
            &d("verdicts.jsonl"),
            "--episodes",
            &d("oracle.jsonl"),
            &d("noisy.jsonl"),
            "--out",
            &d("sft"),
        ],
        "",
        tmp,
    );
    text += &run(&["eval", "--verdicts", &d("verdicts.jsonl"), "--out", &d("eval")], "", tmp);
    let log = run(&["run", "--worlds", "bank", "--per-world", "3", "--trials", "2", "--out", &d("run")], "", tmp);
    // Stage times differ between runs: the line is kept, its numbers are not.
    for line in log.lines() {
        let times = line.split_once(": ").filter(|(head, _)| *head == "times (timings.json)");
        text += &times.map_or_else(|| line.to_owned(), |(head, _)| format!("{head}: [TIMES]"));
        text.push('\n');
    }
    let report = std::fs::read_to_string(dir.path().join("run/report.md")).unwrap();
    insta::assert_snapshot!(format!("{text}--- report.md\n{report}"));
}
