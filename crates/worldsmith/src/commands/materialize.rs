//! `worldsmith materialize`: one world per domain in `DIR/<world>/`, with
//! `DIR/materialize_summary.json`, `DIR/materialize_report.jsonl` and a table on stderr.

use super::Outcome;
use crate::cli::MaterializeArgs;
use anyhow::{Result, bail};
use worldsmith_materialize::MaterializeConfig;
use worldsmith_materialize::refine::Refiner;
use worldsmith_pipeline::stages::materialize_files;
use worldsmith_pipeline::tables::{generated_quality_table, materialize_table as table};

pub fn materialize(args: &MaterializeArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.pass_rate) {
        bail!("--pass-rate must be between 0 and 1, not {}", args.pass_rate);
    }
    let config = MaterializeConfig {
        records: args.records,
        seed: args.seed,
        min_tools: args.min_tools,
        pass_rate: args.pass_rate,
        batch_tools: args.batch_tools,
    };
    let refiner = if args.refine {
        let client = worldsmith_llm::ChatClient::new(super::stages::chat_config(&args.endpoint, "--refine")?);
        Some(Refiner::new(client, args.refine_retries))
    } else {
        None
    };
    let (summary, errors) =
        materialize_files(&args.tools, &args.domains, &args.out, &config, refiner.as_ref(), &super::stages::Stderr)?;
    for e in errors.iter().take(20) {
        eprintln!("warning: {e}");
    }
    eprint!("{}", table(&summary));
    eprint!("\nquality (chart: {}):\n{}", args.out.join("quality.svg").display(), generated_quality_table(&summary));
    Ok(if summary.kept == 0 || !errors.is_empty() { Outcome::Problems } else { Outcome::Ok })
}
