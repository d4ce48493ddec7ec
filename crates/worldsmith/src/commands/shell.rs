//! `worldsmith world shell`: an interactive prompt over one session. It reads commands from
//! standard input, so scripts and tests can drive it; the prompt is shown only on a terminal.

use super::Outcome;
use crate::worlds;
use anyhow::Result;
use serde_json::Value;
use std::io::{BufRead, IsTerminal, Write};
use worldsmith_core::canonical::differences;
use worldsmith_engine::{Session, State};

const HELP: &str = "commands:
  tools                      list the tools
  call TOOL [JSON]           call a tool (also: TOOL [JSON])
  get COLLECTION KEY         show a record
  keys COLLECTION            list a collection's keys (first 50)
  digest                     show the state digest
  diff                       records and fields changed since the start
  undo                       undo the last successful write
  reset                      back to the initial state
  help                       this text
  quit                       leave";

/// Runs one shell command; returns `false` to stop.
fn execute(line: &str, session: &mut Session, undo: &mut Vec<State>, out: &mut impl Write) -> std::io::Result<bool> {
    let line = line.trim();
    let (command, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(c, r)| (c, r.trim()));
    match command {
        "" => {}
        "quit" | "exit" => return Ok(false),
        "help" => writeln!(out, "{HELP}")?,
        "tools" => {
            for t in session.world().tools() {
                let effect = match t.effect() {
                    worldsmith_engine::manifest::Effect::Read => "read",
                    worldsmith_engine::manifest::Effect::Write => "write",
                };
                writeln!(out, "{:<32} {effect:<5} {}", t.name(), t.description().lines().next().unwrap_or(""))?;
            }
        }
        "digest" => writeln!(out, "{}", session.digest())?,
        "get" => {
            let mut parts = rest.splitn(2, char::is_whitespace);
            match (parts.next(), parts.next()) {
                (Some(c), Some(k)) if !c.is_empty() => match session.state().get(c, k.trim()) {
                    Some(r) => writeln!(out, "{}", serde_json::to_string_pretty(&**r).unwrap_or_default())?,
                    None => writeln!(out, "error: no record {c}[{:?}]", k.trim())?,
                },
                _ => writeln!(out, "usage: get COLLECTION KEY")?,
            }
        }
        "keys" => {
            if session.state().collections().any(|c| c == rest) {
                let keys: Vec<&str> = session.state().scan(rest).map(|(k, _)| k).take(50).collect();
                writeln!(out, "{} ({} records)", keys.join(" "), session.state().len(rest))?;
            } else {
                let known: Vec<&str> = session.state().collections().collect();
                writeln!(out, "error: unknown collection `{rest}` (known: {})", known.join(", "))?;
            }
        }
        "diff" => {
            let changes = session.changes();
            if changes.is_empty() {
                writeln!(out, "no changes")?;
            }
            let initial = session.world().initial_state().clone();
            for (collection, records) in &changes {
                for (key, value) in records {
                    match (initial.get(collection, key), value) {
                        (None, Some(_)) => writeln!(out, "+ {collection}[{key:?}]")?,
                        (Some(_), None) => writeln!(out, "- {collection}[{key:?}]")?,
                        (Some(old), Some(new)) => {
                            writeln!(out, "~ {collection}[{key:?}] {}", differences(old, new).join(" "))?;
                        }
                        (None, None) => {}
                    }
                }
            }
        }
        "undo" => match undo.pop() {
            Some(state) => {
                session.set_state(state);
                writeln!(out, "undone; digest {}", session.digest())?;
            }
            None => writeln!(out, "nothing to undo")?,
        },
        "reset" => {
            undo.push(session.state().clone());
            session.set_state(session.world().initial_state().clone());
            writeln!(out, "reset; digest {}", session.digest())?;
        }
        _ => {
            let (tool, args) = if command == "call" {
                rest.split_once(char::is_whitespace).map_or((rest, ""), |(t, a)| (t, a.trim()))
            } else {
                (command, rest)
            };
            if tool.is_empty() {
                writeln!(out, "usage: call TOOL [JSON]")?;
                return Ok(true);
            }
            let args: Value = if args.is_empty() {
                Value::Object(serde_json::Map::new())
            } else {
                match serde_json::from_str(args) {
                    Ok(v) => v,
                    Err(e) => {
                        writeln!(out, "error: the arguments are not valid JSON: {e}")?;
                        return Ok(true);
                    }
                }
            };
            if session.world().tool(tool).is_none() && command != "call" {
                writeln!(out, "error: unknown command or tool `{tool}` (type `help`)")?;
                return Ok(true);
            }
            let before = session.state().clone();
            match session.call(tool, &args) {
                Ok(v) => {
                    if session.digest() != before.digest() {
                        undo.push(before);
                    }
                    writeln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default())?;
                    writeln!(out, "digest {}", session.digest())?;
                }
                Err(e) => writeln!(out, "error: {e}")?,
            }
        }
    }
    Ok(true)
}

pub fn shell(world: &str) -> Result<Outcome> {
    let world = worlds::load(world)?;
    let mut session = world.session();
    let mut undo = Vec::new();
    let interactive = std::io::stdin().is_terminal();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if interactive {
        writeln!(out, "worldsmith shell: world {} ({} tools). Type `help`.", world.name(), world.tools().len())?;
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            write!(out, "{}> ", world.name())?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        match execute(&line, &mut session, &mut undo, &mut out) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Outcome::Ok)
}
