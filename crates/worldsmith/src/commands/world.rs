//! `worldsmith world check | call | replay | list | tools`.

use super::Outcome;
use crate::cli::{CallArgs, CheckArgs, ReplayArgs};
use crate::output::{ignore_broken_pipe, pretty_json, write_atomic, write_atomic_with};
use crate::worlds;
use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use worldsmith_pipeline::replay::{ReplaySummary, render_check, replay_stream};

pub fn check(args: &CheckArgs) -> Result<Outcome> {
    let world = worlds::load(&args.world.world)?;
    let report = worldsmith_engine::check(&world);
    if args.json {
        write_atomic(Path::new("-"), &pretty_json(&report)?)?;
    } else {
        print!("{}", render_check(&report));
    }
    Ok(if report.passed() { Outcome::Ok } else { Outcome::Problems })
}

pub fn call(args: &CallArgs) -> Result<Outcome> {
    let world = worlds::load(&args.world.world)?;
    let arguments: Value = serde_json::from_str(&args.arguments)
        .with_context(|| format!("the arguments are not valid JSON: {}", args.arguments))?;
    let mut session = world.session();
    let result = session.call(&args.tool, &arguments);
    let out = match &result {
        Ok(value) => json!({"ok": true, "result": value, "digest": session.digest()}),
        Err(e) => json!({"ok": false, "error": e.to_string(), "digest": session.digest()}),
    };
    write_atomic(Path::new("-"), &pretty_json(&out)?)?;
    Ok(if result.is_ok() { Outcome::Ok } else { Outcome::Problems })
}

pub fn replay(args: &ReplayArgs) -> Result<Outcome> {
    let start = Instant::now();
    let world = worlds::load(&args.world.world)?;
    let load = start.elapsed();
    let source = args.tasks.display().to_string();
    let summary = if args.tasks == Path::new("-") {
        write_atomic_with(&args.out, |out| replay_stream(&world, &mut std::io::stdin().lock(), out, &source))?
    } else {
        let mut file = std::fs::File::open(&args.tasks).with_context(|| format!("cannot read tasks from {source}"))?;
        write_atomic_with(&args.out, |out| replay_stream(&world, &mut file, out, &source))?
    };
    for e in &summary.errors {
        eprintln!("warning: {e}");
    }
    let ReplaySummary { replayed, passed, failed, unchecked, .. } = summary;
    eprintln!("replayed {replayed} tasks on {}: {passed} passed, {failed} failed, {unchecked} unchecked", world.name());
    for (id, mismatch) in &summary.failures {
        eprintln!("  task {id}: {mismatch}");
    }
    if args.timings {
        eprint!("{}", render_timings(load, start.elapsed(), &summary));
    }
    Ok(if failed == 0 && summary.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// The `--timings` table: wall clock, and CPU time per phase with its share and its cost
/// per replayed task.
fn render_timings(load: Duration, total: Duration, summary: &ReplaySummary) -> String {
    let per_task = |d: Duration| {
        if summary.replayed == 0 { 0.0 } else { d.as_secs_f64() * 1e6 / summary.replayed as f64 }
    };
    let phases = summary.timings.phases();
    let cpu: Duration = phases.iter().map(|(_, d)| *d).sum::<Duration>() + load;
    let mut out = format!(
        "wall clock {:.1} ms for {} tasks: {:.1} us per task\n",
        total.as_secs_f64() * 1e3,
        summary.replayed,
        per_task(total)
    );
    out.push_str("phase        time (ms)  share  us per task\n");
    for (name, d) in std::iter::once(("load world", load)).chain(phases) {
        out.push_str(&format!(
            "{name:<12} {:>9.1}  {:>4.0}%  {:>11.2}\n",
            d.as_secs_f64() * 1e3,
            100.0 * d.as_secs_f64() / cpu.as_secs_f64().max(1e-9),
            per_task(d)
        ));
    }
    out.push_str("(parse, execute, verify, serialize: CPU time summed over threads; the rest: one thread)\n");
    out
}

pub fn list() -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    for name in worldsmith_worlds::names() {
        let line = match worlds::load_bundled(name) {
            Ok(world) => {
                format!("{name}\t{} tools\t{} records", world.tools().len(), world.initial_state().total_len())
            }
            Err(e) if worldsmith_worlds::has_external_data(name) => {
                format!("{name}\t(data not available: {})", format!("{e:#}").lines().last().unwrap_or("").trim())
            }
            Err(e) => return Err(anyhow!("bundled world {name} does not load: {e:#}")),
        };
        writeln!(out, "{line}").or_else(ignore_broken_pipe)?;
    }
    Ok(Outcome::Ok)
}

pub fn tools(arg: &crate::cli::WorldArg) -> Result<Outcome> {
    let world = worlds::load(&arg.world)?;
    write_atomic(Path::new("-"), &pretty_json(&world.openai_tools())?)?;
    Ok(Outcome::Ok)
}

pub fn dump(args: &crate::cli::DumpArgs) -> Result<Outcome> {
    let world = worlds::load(&args.world.world)?;
    let state = world.initial_state();
    for name in state.collections() {
        let records: serde_json::Map<String, Value> =
            state.scan(name).map(|(k, r)| (k.to_owned(), (**r).clone())).collect();
        write_atomic(&args.out.join(format!("{name}.json")), &pretty_json(&records)?)?;
    }
    eprintln!(
        "wrote {} collections ({} records) to {}",
        state.collections().count(),
        state.total_len(),
        args.out.display()
    );
    Ok(Outcome::Ok)
}
