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
