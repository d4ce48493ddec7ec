//! World checks and gold-task replays as the main job runs them, and the check report
//! people read.

use crate::io::parse_jsonl;
use rayon::prelude::*;
use worldsmith_core::task::{ReplayResult, TaskLine};
use worldsmith_engine::{CheckReport, World};

/// Renders a check report for people.
#[must_use]
pub fn render_check(report: &CheckReport) -> String {
    let mut out = String::new();
    let records: usize = report.collections.iter().map(|(_, n)| n).sum();
    let sizes: Vec<String> = report.collections.iter().map(|(c, n)| format!("{c} {n}")).collect();
    out.push_str(&format!(
        "world {}: {} collections, {records} records ({})\n",
        report.world,
        report.collections.len(),
        sizes.join(", ")
    ));
    out.push_str(&format!(
        "digest {}{}\n",
        report.digest,
        if report.digest_consistent { "" } else { " (INCONSISTENT with a full recomputation)" }
    ));
    if report.integrity.is_empty() {
        out.push_str("integrity: ok\n");
    } else {
        out.push_str(&format!("integrity: {} problems\n", report.integrity.len()));
        for p in report.integrity.iter().take(20) {
            out.push_str(&format!("  {p}\n"));
        }
    }
    let passed = report.tools.iter().filter(|t| t.ok).count();
    out.push_str(&format!("tools: {passed}/{} pass\n", report.tools.len()));
    for t in &report.tools {
        let effect = match t.effect {
            worldsmith_engine::manifest::Effect::Read => "read ",
            worldsmith_engine::manifest::Effect::Write => "write",
        };
        out.push_str(&format!("  {} {effect} {:<32} {}\n", if t.ok { "ok  " } else { "FAIL" }, t.tool, t.outcome));
    }
    out.push_str(if report.passed() { "check passed\n" } else { "check FAILED\n" });
    out
}

/// Parses task lines (see [`parse_jsonl`]).
#[must_use]
pub fn parse_tasks(text: &str, source: &str) -> (Vec<(usize, TaskLine)>, Vec<String>) {
    parse_jsonl(text, source, "task")
}

/// Replays tasks in parallel; results keep input order. Tasks naming another world are
/// reported and skipped.
#[must_use]
pub fn replay_tasks(world: &World, tasks: &[(usize, TaskLine)], source: &str) -> (Vec<ReplayResult>, Vec<String>) {
    let mut errors = Vec::new();
    let mine: Vec<&TaskLine> = tasks
        .iter()
        .filter_map(|(line, t)| match &t.world {
            Some(w) if w != world.name() => {
                errors.push(format!(
                    "{source}:{line}: skipped task {} for world `{w}` (replaying `{}`)",
                    t.id,
                    world.name()
                ));
                None
            }
            _ => Some(t),
        })
        .collect();
    let results = mine.par_iter().map(|t| worldsmith_engine::replay(world, t)).collect();
    (results, errors)
}

/// Counts of a replay: (passed, failed, unchecked).
#[must_use]
pub fn tally(results: &[ReplayResult]) -> (usize, usize, usize) {
    let passed = results.iter().filter(|r| r.passed == Some(true)).count();
    let failed = results.iter().filter(|r| r.passed == Some(false)).count();
    (passed, failed, results.len() - passed - failed)
}
