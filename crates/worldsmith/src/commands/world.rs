//! `worldsmith world check | call | replay | list | tools`.

use super::Outcome;
use crate::cli::{CallArgs, CheckArgs, ReplayArgs};
use crate::output::{ignore_broken_pipe, json_lines, pretty_json, write_atomic};
use crate::worlds;
use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::Path;
use worldsmith_pipeline::replay::{parse_tasks, render_check, replay_tasks, tally};

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
    let world = worlds::load(&args.world.world)?;
    let source = args.tasks.display().to_string();
    let text = if args.tasks == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read tasks from standard input")?;
        s
    } else {
        std::fs::read_to_string(&args.tasks).with_context(|| format!("cannot read tasks from {source}"))?
    };
    let (tasks, mut errors) = parse_tasks(&text, &source);
    let (results, skipped) = replay_tasks(&world, &tasks, &source);
    errors.extend(skipped);
    write_atomic(&args.out, &json_lines(&results)?)?;
    for e in &errors {
        eprintln!("warning: {e}");
    }
    let (passed, failed, unchecked) = tally(&results);
    eprintln!(
        "replayed {} tasks on {}: {passed} passed, {failed} failed, {unchecked} unchecked",
        results.len(),
        world.name()
    );
    for r in results.iter().filter(|r| r.passed == Some(false)).take(5) {
        eprintln!("  task {}: {}", r.id, r.mismatch.as_deref().unwrap_or("mismatch"));
    }
    Ok(if failed == 0 && errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
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
