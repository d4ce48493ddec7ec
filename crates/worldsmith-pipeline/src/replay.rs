//! World checks and gold-task replays as the main job runs them, and the check report
//! people read.

use crate::io::{ignore_broken_pipe, parse_jsonl};
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
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
                errors.push(skipped_task(source, *line, t, w, world));
                None
            }
            _ => Some(t),
        })
        .collect();
    let results = mine.par_iter().map(|t| worldsmith_engine::replay(world, t)).collect();
    (results, errors)
}

fn skipped_task(source: &str, line: usize, task: &TaskLine, other: &str, world: &World) -> String {
    format!("{source}:{line}: skipped task {} for world `{other}` (replaying `{}`)", task.id, world.name())
}

/// Counts of a replay: (passed, failed, unchecked).
#[must_use]
pub fn tally(results: &[ReplayResult]) -> (usize, usize, usize) {
    let passed = results.iter().filter(|r| r.passed == Some(true)).count();
    let failed = results.iter().filter(|r| r.passed == Some(false)).count();
    (passed, failed, results.len() - passed - failed)
}

/// What a streamed replay ([`replay_stream`]) did: its counts, the lines it could not
/// replay, its first failures and where its time went.
#[derive(Debug, Clone, Default)]
pub struct ReplaySummary {
    /// Result lines written (tasks replayed).
    pub replayed: usize,
    /// Tasks whose final state matched their expectations.
    pub passed: usize,
    /// Tasks whose final state did not.
    pub failed: usize,
    /// Tasks with nothing to check.
    pub unchecked: usize,
    /// One message per malformed line, then one per task skipped for naming another world
    /// (`source:line: ...`), each group in input order: what [`parse_tasks`] and
    /// [`replay_tasks`] report.
    pub errors: Vec<String>,
    /// The first five failed tasks: their id and where the first difference is.
    pub failures: Vec<(Value, String)>,
    /// The time per phase.
    pub timings: ReplayTimings,
}

/// Where a streamed replay's time went. Parsing, execution, verification and serialization
/// are CPU time summed over the threads that did them (per task: parse the line; fork and
/// run the calls; check the final state and collect the changes; write the result line into
/// memory). Reading and writing are the time the streaming thread spent in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayTimings {
    /// Reading task lines from the input.
    pub read: Duration,
    /// Parsing task lines.
    pub parse: Duration,
    /// Forking the initial state and running the gold calls.
    pub execute: Duration,
    /// Checking final states and collecting the changed records.
    pub verify: Duration,
    /// Serializing result lines.
    pub serialize: Duration,
    /// Writing result lines to the output.
    pub write: Duration,
}

impl ReplayTimings {
    /// The phases with their names, in the order a task goes through them.
    #[must_use]
    pub fn phases(&self) -> [(&'static str, Duration); 6] {
        [
            ("read", self.read),
            ("parse", self.parse),
            ("execute", self.execute),
            ("verify", self.verify),
            ("serialize", self.serialize),
            ("write", self.write),
        ]
    }
}

/// How many bytes of task lines a streamed replay reads before it replays them (at least
/// one whole line): enough for a few hundred tau-bench tasks, so both cores stay busy and
/// memory stays bounded by a block rather than the file.
const BLOCK_BYTES: usize = 1 << 20;

/// Replays the task lines of `input` on `world` and writes their result lines to `out`, in
/// input order, a block at a time: each block's tasks are parsed, replayed, verified and
/// serialized in parallel while the previous block is written. The bytes written are those
/// of [`parse_tasks`], [`replay_tasks`] and [`crate::io::json_lines`] on the whole input,
/// on any number of threads; memory holds two blocks, not the file. Lines are those of
/// [`str::lines`] (a final `\r` is dropped); blank lines are skipped, malformed ones and
/// tasks for another world are reported in [`ReplaySummary::errors`]. A closed standard
/// output (`| head`) ends the replay early without an error.
///
/// # Errors
///
/// When the input cannot be read or is not UTF-8, or the output cannot be written.
pub fn replay_stream(world: &World, input: &mut dyn Read, out: &mut dyn Write, source: &str) -> Result<ReplaySummary> {
    stream(world, input, out, source, BLOCK_BYTES)
}

/// [`replay_stream`] with blocks of `block_bytes` (tests use tiny ones).
fn stream(
    world: &World,
    input: &mut dyn Read,
    out: &mut dyn Write,
    source: &str,
    block_bytes: usize,
) -> Result<ReplaySummary> {
    let mut summary = ReplaySummary::default();
    let mut malformed = Vec::new();
    let mut skipped = Vec::new();
    let mut reader = Blocks { input, block_bytes, carry: Vec::new(), spare: Vec::new(), done: false, next_line: 1 };
    let read_start = Instant::now();
    let mut next = reader.next_block();
    summary.timings.read += read_start.elapsed();
    let mut written: Vec<LineOutcome> = Vec::new();
    while let Some((first_line, text)) = next.with_context(|| format!("cannot read tasks from {source}"))? {
        // The pool replays this block while this thread writes the previous one and reads
        // the next.
        let mut outcomes = Vec::new();
        let mut open = Ok(true);
        next = Ok(None);
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| outcomes = replay_block(world, &text, first_line, source));
            let write_start = Instant::now();
            open = write_outcomes(&mut *out, &written);
            summary.timings.write += write_start.elapsed();
            if matches!(open, Ok(true)) {
                let read_start = Instant::now();
                next = reader.next_block();
                summary.timings.read += read_start.elapsed();
            }
        });
        reader.spare = text.into_bytes();
        tally_outcomes(&written, &mut summary, &mut malformed, &mut skipped);
        written = outcomes;
        if !open? {
            written.clear();
            break;
        }
    }
    let write_start = Instant::now();
    if write_outcomes(&mut *out, &written)? {
        tally_outcomes(&written, &mut summary, &mut malformed, &mut skipped);
    }
    summary.timings.write += write_start.elapsed();
    summary.errors = malformed;
    summary.errors.extend(skipped);
    Ok(summary)
}

/// Whole lines of the input, a block of about `block_bytes` at a time.
struct Blocks<'a> {
    input: &'a mut dyn Read,
    block_bytes: usize,
    /// What was read after the last newline of the previous block.
    carry: Vec<u8>,
    /// A replayed block's buffer, reused for the next block: a fresh megabyte per block
    /// costs page faults (the allocator hands memory back to the system between blocks).
    spare: Vec<u8>,
    done: bool,
    /// The line number of the next block's first line.
    next_line: usize,
}

impl Blocks<'_> {
    /// The next block's first line number and its text (whole lines), `None` at the end.
    fn next_block(&mut self) -> Result<Option<(usize, String)>> {
        let mut bytes = std::mem::take(&mut self.spare);
        bytes.clear();
        bytes.append(&mut self.carry);
        // The carry holds no newline: it is what followed the last one.
        let mut newline = false;
        while !self.done && (bytes.len() < self.block_bytes || !newline) {
            let filled = bytes.len();
            bytes.resize(filled + self.block_bytes, 0);
            let n = loop {
                match self.input.read(&mut bytes[filled..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            };
            bytes.truncate(filled + n);
            self.done = n == 0;
            newline = newline || bytes[filled..].contains(&b'\n');
        }
        if !self.done {
            let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            self.carry.extend_from_slice(&bytes[cut..]);
            bytes.truncate(cut);
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        let text = String::from_utf8(bytes).context("the input is not UTF-8")?;
        let first = self.next_line;
        self.next_line += text.lines().count();
        Ok(Some((first, text)))
    }
}

/// What became of one input line.
enum LineOutcome {
    /// A blank line.
    Blank,
    /// A malformed line: the message.
    Malformed(String),
    /// A task for another world: the message.
    Skipped(String),
    /// A replayed task: its result line (with the newline) and what the summary needs.
    Replayed { line: Vec<u8>, passed: Option<bool>, failure: Option<(Value, String)>, timings: ReplayTimings },
}

fn replay_block(world: &World, text: &str, first_line: usize, source: &str) -> Vec<LineOutcome> {
    let lines: Vec<&str> = text.lines().collect();
    lines.par_iter().enumerate().map(|(i, line)| replay_line(world, line, first_line + i, source)).collect()
}

fn replay_line(world: &World, line: &str, line_no: usize, source: &str) -> LineOutcome {
    if line.trim().is_empty() {
        return LineOutcome::Blank;
    }
    let start = Instant::now();
    let task = match serde_json::from_str::<TaskLine>(line) {
        Ok(task) => task,
        Err(e) => return LineOutcome::Malformed(crate::io::malformed_line(source, line_no, "task", &e)),
    };
    let parsed = Instant::now();
    if let Some(w) = task.world.as_deref().filter(|w| *w != world.name()) {
        return LineOutcome::Skipped(skipped_task(source, line_no, &task, w, world));
    }
    let executed = worldsmith_engine::replay::run_calls(world, &task);
    let ran = Instant::now();
    let result = executed.verify(&task);
    let verified = Instant::now();
    let mut bytes = Vec::with_capacity(line.len());
    serde_json::to_writer(&mut bytes, &result).expect("a result line holds JSON values and string-keyed maps only");
    bytes.push(b'\n');
    let done = Instant::now();
    let failure = (result.passed == Some(false))
        .then(|| (result.id.clone(), result.mismatch.clone().unwrap_or_else(|| "mismatch".to_owned())));
    LineOutcome::Replayed {
        line: bytes,
        passed: result.passed,
        failure,
        timings: ReplayTimings {
            parse: parsed - start,
            execute: ran - parsed,
            verify: verified - ran,
            serialize: done - verified,
            ..ReplayTimings::default()
        },
    }
}

/// Writes the result lines of a block; `Ok(false)` when standard output was closed.
fn write_outcomes(out: &mut dyn Write, outcomes: &[LineOutcome]) -> Result<bool> {
    for outcome in outcomes {
        if let LineOutcome::Replayed { line, .. } = outcome {
            match out.write_all(line) {
                Ok(()) => {}
                Err(e) => {
                    ignore_broken_pipe(e).context("cannot write the output")?;
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

fn tally_outcomes(
    outcomes: &[LineOutcome],
    summary: &mut ReplaySummary,
    malformed: &mut Vec<String>,
    skipped: &mut Vec<String>,
) {
    for outcome in outcomes {
        match outcome {
            LineOutcome::Blank => {}
            LineOutcome::Malformed(m) => malformed.push(m.clone()),
            LineOutcome::Skipped(m) => skipped.push(m.clone()),
            LineOutcome::Replayed { passed, failure, timings, .. } => {
                summary.replayed += 1;
                match passed {
                    Some(true) => summary.passed += 1,
                    Some(false) => summary.failed += 1,
                    None => summary.unchecked += 1,
                }
                if let Some(f) = failure
                    && summary.failures.len() < 5
                {
                    summary.failures.push(f.clone());
                }
                let t = &mut summary.timings;
                t.parse += timings.parse;
                t.execute += timings.execute;
                t.verify += timings.verify;
                t.serialize += timings.serialize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::json_lines;

    /// The bundled retail world's gold tasks, with a malformed line, blank lines, a CRLF
    /// line, a task for another world and no final newline.
    fn input() -> String {
        let (_, gold) = crate::worlds::gold_tasks("retail").unwrap();
        let mut lines: Vec<&str> = gold.lines().collect();
        assert!(lines.len() > 20, "the retail world has gold tasks");
        lines.insert(3, "{not json");
        lines.insert(5, "");
        lines.insert(9, "   ");
        let other = r#"{"id": "elsewhere", "world": "bank", "actions": []}"#;
        lines.insert(12, other);
        let mut text = lines.join("\n");
        text = text.replacen('\n', "\r\n", 1);
        text
    }

    #[test]
    fn a_streamed_replay_writes_the_bytes_of_a_whole_replay_on_any_threads_and_blocks() {
        let world = crate::worlds::load("retail").unwrap();
        let text = input();
        let (tasks, mut errors) = parse_tasks(&text, "t");
        let (results, skipped) = replay_tasks(&world, &tasks, "t");
        errors.extend(skipped);
        let expected = json_lines(&results).unwrap();
        let (passed, failed, unchecked) = tally(&results);
        assert_eq!(errors.len(), 2, "{errors:?}");
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for block_bytes in [1, 7, 500, BLOCK_BYTES] {
                let mut out = Vec::new();
                let summary =
                    pool.install(|| stream(&world, &mut text.as_bytes(), &mut out, "t", block_bytes)).unwrap();
                assert!(out == expected, "{threads} threads, blocks of {block_bytes} bytes");
                assert_eq!(summary.errors, errors);
                assert_eq!(
                    (summary.replayed, summary.passed, summary.failed, summary.unchecked),
                    (results.len(), passed, failed, unchecked)
                );
            }
        }
    }

    #[test]
    fn a_streamed_replay_reports_failures_and_times_its_phases() {
        let world = crate::worlds::load("retail").unwrap();
        let (_, gold) = crate::worlds::gold_tasks("retail").unwrap();
        let mut task: serde_json::Value = serde_json::from_str(gold.lines().next().unwrap()).unwrap();
        task["expected_digest"] = serde_json::json!("0".repeat(32));
        let text = format!("{task}\n{}\n", gold.lines().nth(1).unwrap());
        let mut out = Vec::new();
        let summary = replay_stream(&world, &mut text.as_bytes(), &mut out, "t").unwrap();
        assert_eq!((summary.replayed, summary.failed), (2, 1));
        assert_eq!(summary.failures.len(), 1);
        assert_eq!(summary.failures[0].0, task["id"]);
        assert!(summary.failures[0].1.starts_with("final digest "), "{}", summary.failures[0].1);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 2);
        assert!(summary.timings.execute > Duration::ZERO);
    }

    #[test]
    fn input_that_is_not_utf8_is_an_error() {
        let world = crate::worlds::load("retail").unwrap();
        let mut out = Vec::new();
        let e = replay_stream(&world, &mut &b"{\"id\": \"\xff\"}\n"[..], &mut out, "t").unwrap_err();
        assert!(format!("{e:#}").contains("not UTF-8"), "{e:#}");
    }
}
