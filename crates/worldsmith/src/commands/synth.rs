//! `worldsmith synth`: tasks from worlds, written as `DIR/tasks.jsonl` with counts in
//! `DIR/synth_summary.json` and a table on stderr.

use super::Outcome;
use crate::cli::SynthArgs;
use crate::output::{json_lines, pretty_json, write_atomic};
use crate::worlds;
use anyhow::{Result, bail};
use worldsmith_pipeline::tables::synth_table as table;
use worldsmith_synth::{SynthConfig, synthesize};

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
