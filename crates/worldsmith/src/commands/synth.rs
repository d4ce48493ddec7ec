//! `worldsmith synth`: tasks from worlds, written as `DIR/tasks.jsonl` with counts in
//! `DIR/synth_summary.json` and a table on stderr.

use super::Outcome;
use crate::cli::SynthArgs;
use crate::output::{json_lines, pretty_json, write_atomic};
use crate::worlds;
use anyhow::{Result, bail};
use std::fmt::Write as _;
use worldsmith_synth::{SynthConfig, SynthStats, synthesize};

pub fn synth(args: &SynthArgs) -> Result<Outcome> {
    let mut loaded = Vec::new();
    for arg in &args.worlds {
        let world = worlds::load(arg)?;
        if loaded.iter().any(|w: &worldsmith_engine::World| w.name() == world.name()) {
            bail!("world `{}` is given twice\nhint: each world may appear once in --worlds", world.name());
        }
        loaded.push(world);
    }
    let config = SynthConfig {
        seed: args.seed,
        tasks_per_world: args.per_world,
        distractors_per_band: args.distractors,
        ..SynthConfig::default()
    };
    let mut out = synthesize(&loaded, &config);
    if args.paraphrase {
        let client = worldsmith_llm::ChatClient::new(super::stages::chat_config(&args.endpoint, "--paraphrase")?);
        eprintln!("paraphrasing {} goals with {}", out.tasks.len(), client.config().model);
        let rewrite = |prompt: &str| -> Result<String, String> {
            let body = serde_json::json!({
                "model": client.config().model,
                "messages": [{"role": "user", "content": prompt}],
                "temperature": client.config().temperature,
                "seed": args.seed,
            });
            let response = client.complete(&body, None).map_err(|e| e.to_string())?;
            worldsmith_llm::message_text(&response).ok_or_else(|| "the answer has no text".to_owned())
        };
        let stats = worldsmith_synth::paraphrase(&mut out.tasks, &rewrite);
        let refused: Vec<String> = stats.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        eprintln!("paraphrased {} of {} goals; refused: {}", stats.rewritten, stats.asked, refused.join(", "));
        out.stats.paraphrase = Some(stats);
    }
    write_atomic(&args.out.join("tasks.jsonl"), &json_lines(&out.tasks)?)?;
    write_atomic(&args.out.join("synth_summary.json"), &pretty_json(&out.stats)?)?;
    eprint!("{}", table(&out.stats));
    eprintln!("wrote {} and {}", args.out.join("tasks.jsonl").display(), args.out.join("synth_summary.json").display());
    let empty = out.stats.worlds.iter().any(|w| w.accepted == 0);
    Ok(if empty && args.per_world > 0 { Outcome::Problems } else { Outcome::Ok })
}

/// The summary people read: one row per world, then the rejection reasons.
pub fn table(stats: &SynthStats) -> String {
    let mut s = String::new();
    let kinds = ["write", "read", "multi_hop"];
    let _ = writeln!(
        s,
        "{:<16} {:>6} {:>9} {:>6} {:>6} {:>6} {:>9} {:>9}",
        "world", "edges", "attempts", "tasks", "write", "read", "multi_hop", "rejected"
    );
    let row =
        |s: &mut String, name: &str, edges: String, attempts: usize, accepted: usize, k: &[usize], rejected: usize| {
            let _ = writeln!(
                s,
                "{name:<16} {edges:>6} {attempts:>9} {accepted:>6} {:>6} {:>6} {:>9} {rejected:>9}",
                k[0], k[1], k[2]
            );
        };
    let mut attempts = 0;
    for w in &stats.worlds {
        let k: Vec<usize> = kinds.iter().map(|k| w.kinds.get(*k).copied().unwrap_or(0)).collect();
        let edges = match w.edge_source {
            Some(worldsmith_synth::EdgeSource::DataFlow) => format!("{}*", w.edges),
            _ => w.edges.to_string(),
        };
        row(&mut s, &w.world, edges, w.attempts, w.accepted, &k, w.rejected.values().sum());
        attempts += w.attempts;
    }
    let k: Vec<usize> = kinds.iter().map(|k| stats.kinds.get(*k).copied().unwrap_or(0)).collect();
    row(&mut s, "total", String::new(), attempts, stats.accepted, &k, stats.rejected.values().sum());
    if stats.worlds.iter().any(|w| w.edge_source == Some(worldsmith_synth::EdgeSource::DataFlow)) {
        let _ = writeln!(s, "(* data-flow edges computed from the tools: the world declares none)");
    }
    if !stats.rejected.is_empty() {
        let mut reasons: Vec<(&String, &usize)> = stats.rejected.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let _ = writeln!(s, "rejected chains: {}", parts.join(", "));
    }
    s
}
