//! The main job (`worldsmith run`): every stage in one directory, numbered as in
//! ARCHITECTURE.md. With a tool pool, stages 2 and 3 (`graph/`, `generated/`) come first;
//! then every world is checked and its gold tasks replayed (`checks/`, `replay/`), and:
//!
//! 4. synthesize: tasks, each replayed (`synth/`);
//! 5. rollout: oracle episodes (one trial) and noisy episodes (`--trials`) (`episodes/`);
//! 6. verify: the layers and the rewards (`verify/`);
//! 7. export and evaluate: SFT lines in two stages (`sft/`), pass^k and success by chain
//!    length with charts (`eval/`);
//!
//! then `summary.json` and `report.md`, and `timings.json`: how long each stage took (the
//! one file whose bytes differ between runs; see [`Clock`]). Stages 5-7 read their inputs from the files the
//! stage before wrote; each records a key of its inputs and settings in `.resume/`, so a
//! rerun after an interruption skips the stages that are done and redoes the rest. Every
//! file is written atomically and is byte-identical for the same seed.

use crate::io::{json_lines, pretty_json, write_atomic};
use crate::progress::Progress;
use crate::replay::{parse_tasks, render_check, replay_tasks, tally};
use crate::stages::{self, StageReport};
use crate::tables;
use crate::worlds;
use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use worldsmith_core::episode::Verdict;
use worldsmith_export::SftStats;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, RolloutStats};
use worldsmith_synth::{SynthConfig, synthesize};
use worldsmith_verify::{Metrics, VerifyStats};

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
    /// Why the run failed, one line per cause (empty when it passed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failures: Vec<String>,
    worlds: Vec<WorldSummary>,
    /// Domains and generated worlds, when the run was given a tool pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    generated: Option<GeneratedSummary>,
    synthesized: SynthSummary,
    rollout: std::collections::BTreeMap<String, RolloutStats>,
    verify: VerifyStats,
    sft: SftStats,
    /// Per policy: episode success, the mean of every reward and pass^k.
    eval: std::collections::BTreeMap<String, PolicyLine>,
    /// The RL arenas built from the tasks.
    arenas: worldsmith_rollout::arena::ArenaStats,
    /// ASTRA's batch filling simulated on the arenas with the noisy policy.
    grpo: crate::grpo::SimulateReport,
    /// The step-level PRM benchmark: pairs, baselines, guided search.
    prm: crate::prm::PrmRunSummary,
}

/// The tool pool's part of `summary.json`.
#[derive(Debug, Serialize)]
struct GeneratedSummary {
    graph: worldsmith_graph::GraphSummary,
    materialize: worldsmith_materialize::MaterializeSummary,
}

/// One policy's headline numbers in `summary.json`.
#[derive(Debug, Serialize)]
struct PolicyLine {
    episodes: usize,
    success_rate: f64,
    mean_rewards: std::collections::BTreeMap<String, f64>,
    pass_hat_k: Vec<f64>,
}

/// The synthesis part of `summary.json`.
#[derive(Debug, Serialize)]
struct SynthSummary {
    seed: u64,
    tasks: usize,
    kinds: worldsmith_core::tally::Tally<worldsmith_synth::TaskKind>,
    rejected_chains: usize,
    replayed_passed: usize,
}

/// What the main job runs on, and where it writes.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The output directory (created if needed).
    pub out: PathBuf,
    /// The seed of every stage.
    pub seed: u64,
    /// Tasks to synthesize per world.
    pub per_world: usize,
    /// Noisy-policy episodes per task.
    pub trials: u32,
    /// Worlds (bundled names or paths); empty: the bundled worlds.
    pub worlds: Vec<String>,
    /// Redo every stage, ignoring what an earlier run left.
    pub fresh: bool,
    /// A tool pool whose domains are discovered, materialized and run too.
    pub tools: Option<PathBuf>,
}

/// How the main job ended: whether everything passed, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Every world loaded and checked, every gold and synthesized task replayed, every
    /// oracle episode was kept, and no stage skipped an input.
    pub passed: bool,
    /// One line per cause when it did not pass.
    pub failures: Vec<String>,
}

/// Runs the main job (see the module documentation); log lines and progress bars go to
/// `progress`.
///
/// # Errors
/// A usage mistake (no tasks per world, a misspelt bundled world), an unreadable tool pool
/// or an output that cannot be written. A world that does not load is reported, not an
/// error.
pub fn run(args: &RunConfig, progress: &dyn Progress) -> Result<RunOutcome> {
    // Usage mistakes stop the run before any work (exit code 2, with a hint).
    if args.per_world == 0 {
        anyhow::bail!(
            "--per-world 0 synthesizes no tasks, so there is nothing to roll out, verify or export\nhint: give at least 1 (the default is 25)"
        );
    }
    worlds::check_names(args.worlds.iter().map(String::as_str))?;
    let clock = Clock::new();
    let binary = hash_binary();
    let out = &args.out;
    let mut summaries = Vec::new();
    let mut details = String::new();
    let mut names: Vec<String> = if args.worlds.is_empty() {
        worldsmith_worlds::default_names().map(str::to_owned).collect()
    } else {
        args.worlds.clone()
    };
    let mut generated = None;
    if let Some(tools) = &args.tools {
        let (graph, graph_errors) = clock.time("graph", || {
            progress.log(&format!("graph: domains of {}", tools.display()));
            stages::graph_files(
                tools,
                &out.join("graph"),
                &worldsmith_graph::GraphConfig::default(),
                &stages::Embedder::TfIdf,
                &[],
                progress,
            )
        })?;
        let generated_dir = out.join("generated");
        let (summary, errors) = clock.time("materialize", || {
            progress.log(&format!("materialize: {} domains", graph.domains));
            let config = worldsmith_materialize::MaterializeConfig { seed: args.seed, ..Default::default() };
            stages::materialize_files(
                tools,
                &out.join("graph").join("domains.jsonl"),
                &generated_dir,
                &config,
                None,
                progress,
            )
        })?;
        let mut kept: Vec<String> = std::fs::read_dir(&generated_dir)
            .with_context(|| format!("cannot list {}", generated_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("world.json").is_file())
            .map(|p| p.display().to_string())
            .collect();
        kept.sort();
        names.extend(kept);
        generated = Some((graph, summary, [graph_errors, errors].concat()));
    }
    let started = std::time::Instant::now();
    let mut loaded = Vec::new();
    let mut world_failures: Vec<String> = Vec::new();
    for (i, arg) in names.iter().map(String::as_str).enumerate() {
        progress.log(&format!("[{}/{}] {arg}: loading, checking, replaying", i + 1, names.len()));
        // A world that does not load, whose tasks cannot be read or whose check breaks
        // down is reported and skipped; the run goes on with the others.
        let attempt = std::panic::catch_unwind(|| -> Result<_> {
            let world = worlds::load(arg)?;
            let report = worldsmith_engine::check(&world);
            let gold = worlds::gold_tasks(arg)?;
            Ok((world, report, gold))
        })
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown cause");
            Err(anyhow::anyhow!("loading or checking the world broke down: {message}"))
        });
        let (world, report, (source, gold)) = match attempt {
            Ok(w) => w,
            Err(e) => {
                progress.log(&format!(
                    "  {arg}: does not load, skipped:\n    {}",
                    format!("{e:#}").replace('\n', "\n    ")
                ));
                world_failures.push(format!("{arg} does not load (see report.md)"));
                summaries.push(WorldSummary {
                    world: (*arg).to_owned(),
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
                let _ = writeln!(details, "## {arg}\n\nThe world does not load:\n\n```\n{e:#}\n```\n");
                continue;
            }
        };
        let name = world.name().to_owned();
        write_atomic(&out.join("checks").join(format!("{name}.json")), &pretty_json(&report)?)?;
        if !report.passed() {
            progress.log(&format!("  {name}: check FAILED (see checks/{name}.json)"));
            world_failures.push(format!("{name} failed its check (see checks/{name}.json)"));
        }
        let (tasks, mut errors) = parse_tasks(&gold, &source);
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
            world: name.clone(),
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
    clock.record("worlds", started.elapsed(), false);

    // Task synthesis over the loaded worlds; every task must replay exactly.
    let started = std::time::Instant::now();
    progress.log(&format!("synthesizing {} tasks per world (seed {})", args.per_world, args.seed));
    let config = SynthConfig { seed: args.seed, tasks_per_world: args.per_world, ..SynthConfig::default() };
    let synthesized = synthesize(&loaded, &config);
    let tasks_path = out.join("synth").join("tasks.jsonl");
    write_atomic(&tasks_path, &json_lines(&synthesized.tasks)?)?;
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
        rejected_chains: synthesized.stats.rejected.total(),
        replayed_passed,
    };
    clock.record("synth", started.elapsed(), false);

    // Stages 5-7, each from the files of the one before, skipped when already done.
    let resume = clock.time("resume", || Resume::new(out, args.fresh, &loaded, binary, progress, &clock))?;
    let mut cache = worlds::WorldCache::default();
    for w in &loaded {
        cache.insert(w.clone());
    }
    let mut stage_errors = Vec::new();
    let mut rollouts = std::collections::BTreeMap::new();
    let mut episode_files = Vec::new();
    for (policy, trials) in [(Policy::Oracle, 1), (Policy::Noisy(Noise::default()), args.trials)] {
        let name = policy.name();
        let file = out.join("episodes").join(format!("{name}.jsonl"));
        let summary = out.join("episodes").join(format!("{name}.summary.json"));
        let config = RolloutConfig { policy, trials, seed: args.seed, ..RolloutConfig::default() };
        let settings = format!("{name} trials={trials} seed={} max_steps={}", args.seed, config.max_steps);
        let stats: RolloutStats =
            resume.stage(&format!("rollout-{name}"), &settings, &[&tasks_path], &[&file], &summary, || {
                progress.log(&format!("rollout: {name}, {trials} trial(s) per task"));
                Ok(keep_errors(
                    stages::rollout_file(&tasks_path, &file, &config, &mut cache, progress)?,
                    &mut stage_errors,
                ))
            })?;
        rollouts.insert(name, stats);
        episode_files.push(file);
    }
    let verdicts_path = out.join("verify").join("verdicts.jsonl");
    let inputs: Vec<&Path> = episode_files.iter().map(PathBuf::as_path).collect();
    let verify_stats: VerifyStats = resume.stage(
        "verify",
        "",
        &inputs,
        &[&verdicts_path],
        &out.join("verify").join("verify_summary.json"),
        || {
            progress.log(&format!("verify: {} episode files", episode_files.len()));
            Ok(keep_errors(stages::verify_files(&episode_files, &verdicts_path, &mut cache)?, &mut stage_errors))
        },
    )?;
    let mut export_inputs = inputs.clone();
    export_inputs.push(&verdicts_path);
    let sft_dir = out.join("sft");
    let sft_files =
        [sft_dir.join("stage1_general.jsonl"), sft_dir.join("stage2_vertical.jsonl"), sft_dir.join("manifest.json")];
    let sft_outputs: Vec<&Path> = sft_files.iter().map(PathBuf::as_path).collect();
    let sft_stats: SftStats =
        resume.stage("export-sft", "", &export_inputs, &sft_outputs, &sft_dir.join("stats.json"), || {
            progress.log("export: SFT lines");
            Ok(keep_errors(stages::export_sft_files(&verdicts_path, &episode_files, &sft_dir)?, &mut stage_errors))
        })?;
    let eval_dir = out.join("eval");
    let charts = ["pass_hat_k.svg", "success_by_length.svg", "success_by_world.svg"].map(|c| eval_dir.join(c));
    let chart_paths: Vec<&Path> = charts.iter().map(PathBuf::as_path).collect();
    let metrics: Metrics =
        resume.stage("eval", "", &[&verdicts_path], &chart_paths, &eval_dir.join("metrics.json"), || {
            progress.log("eval: metrics and charts");
            Ok(keep_errors(stages::eval_files(&verdicts_path, &eval_dir)?, &mut stage_errors))
        })?;

    // Stage 8: RL arenas from the tasks, and a short simulation of GRPO batch filling on them.
    let arenas_dir = out.join("arenas");
    let arenas_path = arenas_dir.join("arenas.jsonl");
    let arena_stats: worldsmith_rollout::arena::ArenaStats = resume.stage(
        "arenas",
        &format!("seed={}", args.seed),
        &[&tasks_path],
        &[&arenas_path],
        &arenas_dir.join("arenas_summary.json"),
        || {
            progress.log("arenas: one per task and one per hop");
            let config = worldsmith_rollout::arena::ArenaConfig::default();
            Ok(keep_errors(stages::arenas_files(&tasks_path, &arenas_dir, &config, &mut cache)?, &mut stage_errors))
        },
    )?;
    let grpo_dir = out.join("grpo");
    let grpo_chart = grpo_dir.join("rollouts_per_batch.svg");
    let noisy = Policy::Noisy(Noise::default());
    let simulation = crate::grpo::SimulateConfig {
        rollout: RolloutConfig { policy: noisy.clone(), seed: args.seed, ..RolloutConfig::default() },
        group: 4,
        batch: 4,
        steps: 4,
        delta: 0.0,
    };
    let grpo_settings =
        format!("group={} batch={} steps={} seed={}", simulation.group, simulation.batch, simulation.steps, args.seed);
    let grpo_report: crate::grpo::SimulateReport = resume.stage(
        "grpo",
        &grpo_settings,
        &[&arenas_path],
        &[&grpo_chart],
        &grpo_dir.join("grpo_summary.json"),
        || {
            progress.log("grpo: adaptive batch filling, simulated with the noisy policy");
            let report =
                keep_errors(crate::grpo::simulate(&arenas_path, &simulation, &noisy, &mut cache)?, &mut stage_errors);
            write_atomic(&grpo_chart, crate::charts::grpo_svg(&report)?.as_bytes())?;
            Ok(report)
        },
    )?;

    // Stage 9: the step-level PRM benchmark: pairs from the tasks' gold paths and the noisy
    // episodes' failures, the built-in PRMs on them, and lookahead-guided search.
    let prm_dir = out.join("prm");
    let prm_files = [prm_dir.join("pairs.jsonl"), prm_dir.join("eval.json"), prm_dir.join("search.svg")];
    let prm_outputs: Vec<&Path> = prm_files.iter().map(PathBuf::as_path).collect();
    let noisy_episodes = &episode_files[1..];
    let mut prm_inputs: Vec<&Path> = vec![&tasks_path];
    prm_inputs.extend(noisy_episodes.iter().map(PathBuf::as_path));
    let prm_summary: crate::prm::PrmRunSummary = resume.stage(
        "prm",
        &format!("seed={}", args.seed),
        &prm_inputs,
        &prm_outputs,
        &prm_dir.join("prm_run.json"),
        || {
            progress.log("prm: step-level pairs labelled by execution, baselines, guided search");
            Ok(keep_errors(
                crate::prm::prm_run_files(&tasks_path, noisy_episodes, &prm_dir, args.seed, &mut cache, progress)?,
                &mut stage_errors,
            ))
        },
    )?;

    // The oracle follows the gold calls: every one of its episodes must be kept.
    let started = std::time::Instant::now();
    let oracle = metrics.policies.get("oracle");
    let oracle_ok = oracle.is_some_and(|p| p.success.ok == p.episodes) && synthesized.tasks.len() == replayed_passed;
    // The execution lookahead must re-prove every PRM label from the pair line alone.
    let prm_ok = prm_summary.eval.iter().filter(|e| e.prm == "lookahead").all(|e| e.overall.correct == e.overall.total);
    if !prm_ok {
        stage_errors
            .push("prm: the execution lookahead does not re-prove every pair's label (prm/eval.json)".to_owned());
    }
    let passed = summaries.iter().all(|s| s.loaded && s.check_passed && s.tasks_failed == 0)
        && replayed_passed == synthesized.tasks.len()
        && oracle_ok
        && stage_errors.is_empty();
    let failures = if passed {
        Vec::new()
    } else {
        why_failed(&summaries, synthesized.tasks.len(), replayed_passed, &verdicts_path, stage_errors.len())
    };
    let eval = metrics
        .policies
        .iter()
        .map(|(name, p)| {
            let line = PolicyLine {
                episodes: p.episodes,
                success_rate: p.success.rate,
                mean_rewards: p.mean_rewards.clone(),
                pass_hat_k: p.pass_hat_k.clone(),
            };
            (name.clone(), line)
        })
        .collect();
    let generated_summary = generated
        .as_ref()
        .map(|(graph, materialize, _)| GeneratedSummary { graph: graph.clone(), materialize: materialize.clone() });
    let summary = Summary {
        format: 2,
        passed,
        failures: failures.clone(),
        worlds: summaries,
        generated: generated_summary,
        synthesized: synth_summary,
        rollout: rollouts,
        verify: verify_stats,
        sft: sft_stats,
        eval,
        arenas: arena_stats,
        grpo: grpo_report,
        prm: prm_summary,
    };
    write_atomic(&out.join("summary.json"), &pretty_json(&summary)?)?;

    let mut report = String::from("# worldsmith run\n\n");
    let _ = writeln!(report, "Result: **{}** (seed {})\n", if passed { "passed" } else { "FAILED" }, args.seed);
    for failure in &failures {
        let _ = writeln!(report, "- {failure}");
    }
    if !failures.is_empty() {
        report.push('\n');
    }
    report.push_str("## Worlds\n\n| world | tools | records | check | gold tasks | passed | failed | calls | refused calls |\n|---|---:|---:|---|---:|---:|---:|---:|---:|\n");
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
    if let Some((graph, materialize, errors)) = &generated {
        let _ = writeln!(
            report,
            "## Generated worlds\n\nThe tool pool's domains (`graph/domains.jsonl`, `graph/summary.json`):\n\n```\n{}```\n\nMaterialized into `generated/` (`materialize_summary.json`, one line per domain in `materialize_report.jsonl`); the kept worlds are in the tables above and below:\n\n```\n{}```\n",
            tables::graph_table(graph),
            tables::materialize_table(materialize)
        );
        let _ = writeln!(
            report,
            "Quality of the generated worlds: the semantic round trips between their tools, how their data reads, and how much of the pool they cover (`generated/quality.svg`):\n\n```\n{}```\n\n![generated-world quality](generated/quality.svg)\n",
            tables::generated_quality_table(materialize)
        );
        for e in errors.iter().take(20) {
            let _ = writeln!(report, "- skipped: {e}");
        }
    }
    let _ = writeln!(
        report,
        "## Synthesized tasks\n\n{} tasks, {} of them replayed exactly (`synth/tasks.jsonl`, counts in `synth/synth_summary.json`):\n\n```\n{}```\n",
        synthesized.tasks.len(),
        replayed_passed,
        tables::synth_table(&synthesized.stats)
    );
    report.push_str("## Episodes\n\nA scripted user states each task's goal, gives known facts when asked, confirms changes and ends the conversation. `oracle` follows the gold calls; `noisy` makes seeded mistakes (a wrong tool, bad arguments, a skipped step) and recovers from some.\n\n```\n");
    for (name, stats) in &summary.rollout {
        report.push_str(&tables::rollout_table(name, stats));
    }
    let _ = writeln!(report, "```\n\n## Verification\n\n```\n{}```\n", tables::verify_table(&summary.verify));
    let _ = writeln!(
        report,
        "## Training data\n\n{}\nFiles: `sft/stage1_general.jsonl` (generated worlds), `sft/stage2_vertical.jsonl` (bundled worlds), `sft/manifest.json` (the episode of each line).\n",
        tables::sft_table(&summary.sft)
    );
    let _ = writeln!(
        report,
        "## Evaluation\n\n```\n{}```\n\n![pass^k](eval/pass_hat_k.svg)\n\n![success by chain length](eval/success_by_length.svg)\n\n![success by world](eval/success_by_world.svg)\n",
        tables::metrics_table(&metrics)
    );
    let _ = writeln!(
        report,
        "## RL arenas\n\nEvery task as a self-contained arena (start state, first messages, tools, rule-checked sub-goals), and every hop of a multi-hop question as one of its own (`arenas/arenas.jsonl`):\n\n```\n{}```\n",
        tables::arenas_table(&summary.arenas)
    );
    let _ = writeln!(
        report,
        "## GRPO batch filling\n\nASTRA's adaptive filler keeps only groups whose rewards vary (the others have zero advantage and teach nothing), buffers the surplus and asks for more groups; simulated on the arenas with the noisy policy, {} rollouts per group, {} groups per batch (`grpo/grpo_summary.json`):\n\n```\n{}```\n\n![rollouts per batch](grpo/rollouts_per_batch.svg)\n",
        summary.grpo.group,
        summary.grpo.batch,
        tables::grpo_table(&summary.grpo)
    );
    let _ = writeln!(
        report,
        "## Step-level process rewards\n\nPairs of a correct and an incorrect next action, every label proven by execution on a fork of the world (`prm/pairs.jsonl`):\n\n```\n{}```\n\nForced choice between the two actions, shown in a seeded random order (`prm/eval.json`):\n\n```\n{}```\n\nReward-guided search: N candidate actions per turn, each a mistake with probability {}, the best by the execution lookahead taken (`prm/search.json`):\n\n```\n{}```\n\n![reward-guided search](prm/search.svg)\n",
        tables::prm_table(&summary.prm.build),
        tables::prm_eval_table(&summary.prm.eval),
        summary.prm.search.mistake_rate.unwrap_or_default(),
        tables::search_table(&summary.prm.search)
    );
    for e in &stage_errors {
        let _ = writeln!(report, "- {e}");
    }
    report.push_str("\n# Worlds in detail\n\n");
    report.push_str(&details);
    report.push_str("Files: `summary.json` (these numbers), `checks/<world>.json` (world check reports), `replay/<world>.jsonl` (one replay result line per gold task), `synth/` (tasks and their counts), `episodes/<policy>.jsonl` (episode lines), `verify/verdicts.jsonl` (one verdict per episode), `sft/` (training data), `eval/` (metrics.json and charts), `arenas/` (RL arenas), `grpo/` (the batch-filling simulation and its chart), `prm/` (step-level pairs, PRM baselines, guided search), `timings.json` (how long each stage took: the one file that differs between runs).\n");
    write_atomic(&out.join("report.md"), report.as_bytes())?;
    clock.record("report", started.elapsed(), false);
    let timings = clock.timings();
    write_atomic(&out.join("timings.json"), &pretty_json(&timings)?)?;
    for f in &world_failures {
        progress.log(&format!("world {f}"));
    }
    progress.log(&format!("wrote {} ({})", out.join("report.md").display(), if passed { "passed" } else { "FAILED" }));
    for failure in &failures {
        progress.log(&format!("  {failure}"));
    }
    progress.log(&timings.line());
    Ok(RunOutcome { passed, failures })
}

/// Which wave of the design a stage of the main job belongs to: the RL arenas, the GRPO
/// simulation and the PRM benchmark are wave 2, the rest wave 1.
fn wave(stage: &str) -> u8 {
    match stage {
        "arenas" | "grpo" | "prm" => 2,
        _ => 1,
    }
}

/// The stage times of a run, in the order the stages ran. They go to `timings.json`, never
/// into `summary.json` or another artifact, so every other file stays byte-identical for the
/// same seed (the tests comparing two runs leave `timings.json` out). A stage added to the
/// main job is timed by [`Clock::time`], or by [`Resume::stage`] when it is resumable.
struct Clock {
    started: std::time::Instant,
    stages: std::cell::RefCell<Vec<StageTime>>,
}

/// One stage's line in `timings.json`.
#[derive(Debug, Clone, Serialize)]
struct StageTime {
    stage: String,
    wave: u8,
    seconds: f64,
    /// Up to date from an earlier run (its time is checking that).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped: bool,
}

/// `timings.json`.
#[derive(Debug, Serialize)]
struct Timings {
    format: u32,
    stages: Vec<StageTime>,
    /// The stages of each wave together, in seconds.
    waves: std::collections::BTreeMap<String, f64>,
    /// The whole run, in seconds (the stages plus what runs between them).
    total: f64,
}

impl Clock {
    fn new() -> Clock {
        Clock { started: std::time::Instant::now(), stages: std::cell::RefCell::default() }
    }

    /// Runs `work` as the stage `name` and records how long it took.
    fn time<T>(&self, name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let value = work()?;
        self.record(name, started.elapsed(), false);
        Ok(value)
    }

    fn record(&self, name: &str, took: std::time::Duration, skipped: bool) {
        let seconds = millis(took.as_secs_f64());
        self.stages.borrow_mut().push(StageTime { stage: name.to_owned(), wave: wave(name), seconds, skipped });
    }

    fn timings(&self) -> Timings {
        let stages = self.stages.borrow().clone();
        let mut waves = std::collections::BTreeMap::new();
        for s in &stages {
            *waves.entry(format!("wave {}", s.wave)).or_insert(0.0) += s.seconds;
        }
        for v in waves.values_mut() {
            *v = millis(*v);
        }
        Timings { format: 1, stages, waves, total: millis(self.started.elapsed().as_secs_f64()) }
    }
}

impl Timings {
    /// One log line: every stage's time, and the waves'.
    fn line(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{} {:.2}{}", s.stage, s.seconds, if s.skipped { " (skipped)" } else { "" }))
            .collect();
        let waves: Vec<String> = self.waves.iter().map(|(w, t)| format!("{w} {t:.2} s")).collect();
        format!("times (timings.json): {}; {}; total {:.2} s", stages.join(", "), waves.join(", "), self.total)
    }
}

/// Seconds to the millisecond.
fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The causes of a failed run, for the report's headline: worlds that did not load or
/// check, gold tasks that failed, synthesized tasks that did not replay, oracle episodes not
/// kept (by reason, with an example), and stage errors.
fn why_failed(
    worlds: &[WorldSummary],
    synthesized: usize,
    replayed: usize,
    verdicts: &Path,
    stage_errors: usize,
) -> Vec<String> {
    let mut causes = Vec::new();
    for w in worlds {
        if !w.loaded {
            let error = w.error.as_deref().unwrap_or("unknown error").split_whitespace().collect::<Vec<_>>().join(" ");
            causes.push(format!("world `{}` did not load: {error}", w.world));
        } else if !w.check_passed {
            causes
                .push(format!("world `{}` failed its check ({} of {} tools pass)", w.world, w.tools_passing, w.tools));
        }
        if w.tasks_failed > 0 {
            causes.push(format!("world `{}`: {} of {} gold tasks failed", w.world, w.tasks_failed, w.tasks));
        }
    }
    if replayed < synthesized {
        causes.push(format!("{} of {synthesized} synthesized tasks do not replay", synthesized - replayed));
    }
    let oracle_failures: Vec<Verdict> = std::fs::read_to_string(verdicts)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Verdict>(l).ok())
        .filter(|v| v.policy == "oracle" && !v.success)
        .collect();
    if !oracle_failures.is_empty() {
        let mut by_reason: std::collections::BTreeMap<&str, (usize, &Verdict)> = std::collections::BTreeMap::new();
        for v in &oracle_failures {
            let category = v.failure().map_or("failed", worldsmith_core::episode::Failure::name);
            by_reason.entry(category).or_insert((0, v)).0 += 1;
        }
        let parts: Vec<String> = by_reason
            .iter()
            .map(|(reason, (n, v))| {
                format!("{n} by {reason} (e.g. {}: {})", v.episode, v.reason.as_deref().unwrap_or(""))
            })
            .collect();
        causes.push(format!(
            "{} oracle episodes were not kept (the oracle follows the gold calls): {}",
            oracle_failures.len(),
            parts.join("; ")
        ));
    }
    if stage_errors > 0 {
        causes.push(format!("{stage_errors} stage errors (see above)"));
    }
    causes
}

/// Moves a stage's skipped-input messages into `errors`; returns its counts.
fn keep_errors<S>(report: StageReport<S>, errors: &mut Vec<String>) -> S {
    errors.extend(report.errors);
    report.stats
}

/// Stage bookkeeping for resuming (and timing, on `clock`): a stage is skipped when `.resume/<stage>` holds the key
/// of its inputs (their bytes), settings, worlds and the worldsmith binary, and its outputs
/// and summary file exist.
struct Resume<'p> {
    progress: &'p dyn Progress,
    clock: &'p Clock,
    dir: PathBuf,
    fresh: bool,
    /// The worlds' names and initial digests, and the version.
    base: String,
}

impl<'p> Resume<'p> {
    fn new(
        out: &Path,
        fresh: bool,
        worlds: &[worldsmith_engine::World],
        binary: BinaryHash,
        progress: &'p dyn Progress,
        clock: &'p Clock,
    ) -> Result<Resume<'p>> {
        let binary = binary.join().unwrap_or_else(|_| Err(anyhow::anyhow!("hashing the executable broke down")))?;
        let mut base = format!("worldsmith {} {binary}\n", env!("CARGO_PKG_VERSION"));
        for w in worlds {
            let _ = writeln!(base, "{} {}", w.name(), w.initial_state().digest());
        }
        Ok(Resume { progress, clock, dir: out.join(".resume"), fresh, base })
    }

    /// Runs `work` (which writes its outputs and returns its counts) unless the stage is
    /// up to date; either way, returns the counts stored in `summary`.
    fn stage<S: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        settings: &str,
        inputs: &[&Path],
        outputs: &[&Path],
        summary: &Path,
        work: impl FnOnce() -> Result<S>,
    ) -> Result<S> {
        let started = std::time::Instant::now();
        let mut hasher = blake3::Hasher::new();
        hasher.update(self.base.as_bytes());
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
        hasher.update(settings.as_bytes());
        for input in inputs {
            let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        let key = hasher.finalize().to_hex().to_string();
        let stamp = self.dir.join(name);
        if !self.fresh
            && std::fs::read_to_string(&stamp).is_ok_and(|k| k == stamp_text(&key, outputs))
            && let Ok(text) = std::fs::read_to_string(summary)
            && let Ok(stats) = serde_json::from_str(&text)
        {
            self.progress.log(&format!("{name}: up to date, skipped"));
            self.clock.record(name, started.elapsed(), true);
            return Ok(stats);
        }
        let _ = std::fs::remove_file(&stamp);
        let stats = work()?;
        write_atomic(summary, &pretty_json(&stats)?)?;
        write_atomic(&stamp, stamp_text(&key, outputs).as_bytes())?;
        self.clock.record(name, started.elapsed(), false);
        Ok(stats)
    }
}

/// The running binary's hash, computed on a thread of its own while the first stages run
/// (a release binary is a few hundred MB): a rebuilt worldsmith redoes every stage.
type BinaryHash = std::thread::JoinHandle<Result<String>>;

fn hash_binary() -> BinaryHash {
    std::thread::spawn(|| {
        let exe = std::env::current_exe().context("cannot find the running executable")?;
        let bytes = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
        Ok(blake3::hash(&bytes).to_hex().to_string())
    })
}

/// A stage's stamp: its key, then the hash of each output (so a missing, truncated or
/// edited output makes the stage run again).
fn stamp_text(key: &str, outputs: &[&Path]) -> String {
    let mut text = format!("{key}\n");
    for output in outputs {
        let hash = std::fs::read(output).map(|b| blake3::hash(&b).to_hex().to_string()).unwrap_or_default();
        let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let _ = writeln!(text, "{hash} {name}");
    }
    text
}
