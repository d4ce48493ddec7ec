//! `worldsmith run`: the main job. For now: check every bundled world, replay its gold
//! tasks, and write the results and a Markdown report. Later stages (synthesis, rollouts,
//! verification, export, evaluation) join here as they land.

use super::Outcome;
use super::world::{parse_tasks, render_check, replay_tasks, tally};
use crate::cli::RunArgs;
use crate::output::{json_lines, pretty_json, write_atomic};
use crate::worlds;
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write as _;
use worldsmith_synth::{SynthConfig, synthesize};

/// One world's line in `summary.json`.
#[derive(Debug, Serialize)]
struct WorldSummary {
    world: String,
    loaded: bool,
    error: Option<String>,
    tools: usize,
    records: usize,
    digest: String,
    check_passed: bool,
    tools_passing: usize,
    tasks: usize,
    tasks_passed: usize,
    tasks_failed: usize,
    tasks_unchecked: usize,
    calls: usize,
    failed_calls: usize,
}

/// `summary.json`.
#[derive(Debug, Serialize)]
struct Summary {
    format: u32,
    passed: bool,
    worlds: Vec<WorldSummary>,
    synthesized: SynthSummary,
}

/// The synthesis part of `summary.json`.
#[derive(Debug, Serialize)]
struct SynthSummary {
    seed: u64,
    tasks: usize,
    kinds: std::collections::BTreeMap<String, usize>,
    rejected_chains: usize,
    replayed_passed: usize,
}

pub fn run(args: &RunArgs) -> Result<Outcome> {
    let out = &args.out;
    let mut summaries = Vec::new();
    let mut details = String::new();
    let names: Vec<&str> = worldsmith_worlds::default_names().collect();
    let mut loaded = Vec::new();
    for (i, name) in names.iter().enumerate() {
        eprintln!("[{}/{}] {name}: loading, checking, replaying", i + 1, names.len());
        let world = match worlds::load_bundled(name) {
            Ok(w) => w,
            Err(e) => {
                summaries.push(WorldSummary {
                    world: (*name).to_owned(),
                    loaded: false,
                    error: Some(format!("{e:#}")),
                    tools: 0,
                    records: 0,
                    digest: String::new(),
                    check_passed: false,
                    tools_passing: 0,
                    tasks: 0,
                    tasks_passed: 0,
                    tasks_failed: 0,
                    tasks_unchecked: 0,
                    calls: 0,
                    failed_calls: 0,
                });
                let _ = writeln!(details, "## {name}\n\nThe world does not load:\n\n```\n{e:#}\n```\n");
                continue;
            }
        };
        let report = worldsmith_engine::check(&world);
        write_atomic(&out.join("checks").join(format!("{name}.json")), &pretty_json(&report)?)?;
        let source = format!("bundled:{name}/tasks.jsonl");
        let (tasks, mut errors) = parse_tasks(worlds::bundled_tasks(name).unwrap_or(""), &source);
        let (results, skipped) = replay_tasks(&world, &tasks, &source);
        errors.extend(skipped);
        write_atomic(&out.join("replay").join(format!("{name}.jsonl")), &json_lines(&results)?)?;
        let (passed, failed, unchecked) = tally(&results);
        let calls: usize = results.iter().map(|r| r.results.len()).sum();
        let failed_calls: usize = results.iter().map(|r| r.results.iter().filter(|c| !c.ok).count()).sum();
        let _ = writeln!(details, "## {name}\n\n{}\n", world.manifest().description);
        let _ = writeln!(details, "```\n{}```\n", render_check(&report));
        let _ = writeln!(
            details,
            "Tasks: {} replayed, {passed} passed, {failed} failed, {unchecked} unchecked; {calls} calls, of which {failed_calls} were refused on purpose or by mistake.\n",
            results.len()
        );
        for r in results.iter().filter(|r| r.passed == Some(false)) {
            let _ = writeln!(details, "- task {} FAILED: {}", r.id, r.mismatch.as_deref().unwrap_or("mismatch"));
        }
        for e in &errors {
            let _ = writeln!(details, "- {e}");
        }
        summaries.push(WorldSummary {
            world: (*name).to_owned(),
            loaded: true,
            error: None,
            tools: world.tools().len(),
            records: world.initial_state().total_len(),
            digest: world.initial_state().digest().to_hex(),
            check_passed: report.passed(),
            tools_passing: report.tools.iter().filter(|t| t.ok).count(),
            tasks: results.len(),
            tasks_passed: passed,
            tasks_failed: failed,
            tasks_unchecked: unchecked,
            calls,
            failed_calls,
        });
        if !errors.is_empty()
            && let Some(s) = summaries.last_mut()
        {
            s.tasks_failed += errors.len();
        }
        loaded.push(world);
    }

    // Task synthesis over the loaded worlds; every task must replay exactly.
    eprintln!("synthesizing {} tasks per world (seed {})", args.per_world, args.seed);
    let config = SynthConfig { seed: args.seed, tasks_per_world: args.per_world, ..SynthConfig::default() };
    let synthesized = synthesize(&loaded, &config);
    write_atomic(&out.join("synth").join("tasks.jsonl"), &json_lines(&synthesized.tasks)?)?;
    write_atomic(&out.join("synth").join("synth_summary.json"), &pretty_json(&synthesized.stats)?)?;
    let replayed_passed = synthesized
        .tasks
        .iter()
        .filter(|t| {
            let world = loaded.iter().find(|w| Some(w.name()) == t.world.as_deref());
            world.is_some_and(|w| worldsmith_engine::replay(w, t).passed == Some(true))
        })
        .count();
    let synth_summary = SynthSummary {
        seed: args.seed,
        tasks: synthesized.tasks.len(),
        kinds: synthesized.stats.kinds.clone(),
        rejected_chains: synthesized.stats.rejected.values().sum(),
        replayed_passed,
    };

    let passed = summaries.iter().all(|s| s.loaded && s.check_passed && s.tasks_failed == 0)
        && replayed_passed == synthesized.tasks.len();
    let summary = Summary { format: 1, passed, worlds: summaries, synthesized: synth_summary };
    write_atomic(&out.join("summary.json"), &pretty_json(&summary)?)?;

    let mut report = String::from("# worldsmith run\n\n");
    let _ = writeln!(report, "Result: **{}**\n", if passed { "passed" } else { "FAILED" });
    report.push_str("| world | tools | records | check | tasks | passed | failed | calls | refused calls |\n|---|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for s in &summary.worlds {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.world,
            s.tools,
            s.records,
            if s.check_passed { format!("ok ({}/{})", s.tools_passing, s.tools) } else { "FAILED".to_owned() },
            s.tasks,
            s.tasks_passed,
            s.tasks_failed,
            s.calls,
            s.failed_calls
        );
    }
    report.push('\n');
    let _ = writeln!(
        report,
        "## Synthesized tasks\n\n{} tasks (seed {}), {} of them replayed exactly (`synth/tasks.jsonl`, counts in `synth/synth_summary.json`):\n\n```\n{}```\n",
        synthesized.tasks.len(),
        args.seed,
        replayed_passed,
        super::synth::table(&synthesized.stats)
    );
    report.push_str(&details);
    report.push_str("Files: `summary.json` (these numbers), `checks/<world>.json` (world check reports), `replay/<world>.jsonl` (one replay result line per gold task), `synth/tasks.jsonl` and `synth/synth_summary.json` (synthesized tasks and their counts).\n");
    write_atomic(&out.join("report.md"), report.as_bytes())?;
    eprintln!("wrote {} ({})", out.join("report.md").display(), if passed { "passed" } else { "FAILED" });
    Ok(if passed { Outcome::Ok } else { Outcome::Problems })
}
