//! `worldsmith run`: the main job (see `worldsmith_pipeline::run`).

use super::Outcome;
use super::stages::Stderr;
use crate::cli::RunArgs;
use anyhow::Result;
use worldsmith_pipeline::run::{RunConfig, run as run_job};

pub fn run(args: &RunArgs) -> Result<Outcome> {
    let config = RunConfig {
        out: args.out.clone(),
        seed: args.seed,
        per_world: args.per_world,
        trials: args.trials,
        worlds: args.worlds.clone(),
        fresh: args.fresh,
        tools: args.tools.clone(),
    };
    let outcome = run_job(&config, &Stderr)?;
    Ok(if outcome.passed { Outcome::Ok } else { Outcome::Problems })
}
