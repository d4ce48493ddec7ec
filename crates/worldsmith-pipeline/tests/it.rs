//! The pipeline as a library: the main job run without the command line, its log lines
//! received by the caller, and a rerun that resumes.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::Mutex;
use worldsmith_pipeline::progress::{Bar, Progress, Quiet};
use worldsmith_pipeline::run::{RunConfig, run};

/// Keeps every log line; bars count their steps.
#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
}

impl Progress for Recorder {
    fn log(&self, line: &str) {
        self.lines.lock().unwrap().push(line.to_owned());
    }

    fn bar(&self, _len: usize, _what: &str) -> Box<dyn Bar + '_> {
        Box::new(Quiet)
    }
}

#[test]
fn the_main_job_runs_as_a_library_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = RunConfig {
        out: dir.path().join("out"),
        seed: 3,
        per_world: 3,
        trials: 2,
        worlds: vec!["bank".to_owned()],
        fresh: false,
        tools: None,
    };
    let outcome = run(&config, &Quiet).unwrap();
    assert!(outcome.passed, "{:?}", outcome.failures);
    for file in ["report.md", "summary.json", "verify/verdicts.jsonl", "sft/stage2_vertical.jsonl", "eval/metrics.json"]
    {
        assert!(config.out.join(file).is_file(), "{file} missing");
    }
    let recorder = Recorder::default();
    let again = run(&config, &recorder).unwrap();
    assert_eq!(again, outcome);
    let lines = recorder.lines.lock().unwrap();
    assert!(lines.iter().any(|l| l == "verify: up to date, skipped"), "{lines:?}");

    // A usage mistake is an error with a hint, before any work.
    let wrong = RunConfig { worlds: vec!["bnak".to_owned()], out: dir.path().join("other"), ..config };
    let error = format!("{:#}", run(&wrong, &Quiet).unwrap_err());
    assert!(error.contains("bank"), "{error}");
    assert!(!wrong.out.exists());
}

/// Arenas of the bundled worlds' synthesized tasks, written to `dir`.
fn arenas_file(dir: &std::path::Path) -> std::path::PathBuf {
    use worldsmith_pipeline::worlds::WorldCache;
    let worlds: Vec<worldsmith_engine::World> =
        ["retail", "airline"].iter().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect();
    let config =
        worldsmith_synth::SynthConfig { seed: 1, tasks_per_world: 8, ..worldsmith_synth::SynthConfig::default() };
    let out = worldsmith_synth::synthesize(&worlds, &config);
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, worldsmith_pipeline::io::json_lines(&out.tasks).unwrap()).unwrap();
    let arenas = dir.join("arenas");
    let config = worldsmith_rollout::arena::ArenaConfig::default();
    worldsmith_pipeline::stages::arenas_files(&tasks, &arenas, &config, &mut WorldCache::with_worlds(&[]).unwrap())
        .unwrap();
    arenas.join("arenas.jsonl")
}

#[test]
fn grpo_simulation_fills_every_batch_with_varied_groups_and_repeats() {
    use worldsmith_pipeline::grpo::{SimulateConfig, simulate};
    use worldsmith_pipeline::worlds::WorldCache;
    use worldsmith_rollout::{Policy, RolloutConfig};
    let dir = tempfile::tempdir().unwrap();
    let arenas = arenas_file(dir.path());
    let noisy = Policy::Noisy(worldsmith_rollout::scripted::Noise { mistake_rate: 0.3, recovery_rate: 0.5 });
    let config = SimulateConfig {
        rollout: RolloutConfig { policy: noisy.clone(), seed: 2, ..RolloutConfig::default() },
        group: 4,
        batch: 5,
        steps: 4,
        delta: 0.0,
    };
    let mut worlds = WorldCache::with_worlds(&[]).unwrap();
    let report = simulate(&arenas, &config, &noisy, &mut worlds).unwrap().stats;
    assert_eq!(report.steps.len(), 4);
    assert_eq!(report.unfilled, 0);
    for s in &report.steps {
        assert_eq!(s.used, 5, "{s:?}");
        assert!(s.rolled >= s.valid && s.rollouts == s.rolled * 4, "{s:?}");
    }
    // Every valid group is used once or still waits.
    let valid: usize = report.steps.iter().map(|s| s.valid).sum();
    assert_eq!(valid, 4 * 5 + report.steps.last().unwrap().buffered);
    assert!(report.adaptive_rollouts_per_batch >= report.every_group_rollouts_per_batch);
    assert!((0.0..=1.0).contains(&report.every_group_zero_advantage) && report.zero_advantage > 0.0);
    // The same seed, the same measurements.
    let again = simulate(&arenas, &config, &noisy, &mut worlds).unwrap().stats;
    assert_eq!(again, report);
    // The oracle never varies: no group is valid, no batch fills, and the budget ends it.
    let oracle = SimulateConfig { rollout: RolloutConfig::default(), steps: 2, ..config };
    let report = simulate(&arenas, &oracle, &Policy::Oracle, &mut worlds).unwrap().stats;
    assert_eq!((report.unfilled, report.zero_advantage), (2, 1.0));
    assert!(report.steps.iter().all(|s| s.valid == 0 && s.used == 0 && s.rolled == 5 * 50));
}
