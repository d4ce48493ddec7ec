//! `worldsmith prm build|eval|search`.

use super::Outcome;
use super::stages::{Stderr, chat_config, print_errors};
use crate::cli::{
    PrmBaselineName, PrmBuildArgs, PrmEvalArgs, PrmLayoutName, PrmSearchArgs, SearchPolicyName, SplitByName,
};
use crate::worlds::WorldCache;
use anyhow::{Result, bail};
use worldsmith_pipeline::prm::{
    PrmBuildConfig, PrmChoice, PrmSearchConfig, prm_build_files, prm_eval_files, prm_search_files,
};
use worldsmith_pipeline::tables::{prm_eval_table, prm_table, search_table};
use worldsmith_prm::BuildConfig;
use worldsmith_prm::layout::{Layout, SplitBy, SplitConfig};
use worldsmith_prm::search::Proposer;
use worldsmith_rollout::scripted::Noise;

pub fn build(args: &PrmBuildArgs) -> Result<Outcome> {
    for (name, rate) in [("--mistake-rate", args.noise.mistake_rate), ("--recovery-rate", args.noise.recovery_rate)] {
        if !(0.0..=1.0).contains(&rate) {
            bail!("{name} must be between 0 and 1, not {rate}");
        }
    }
    let mut judges = Vec::new();
    for name in &args.judge_models {
        let endpoint = crate::cli::EndpointArgs { model: Some(name.clone()), ..args.endpoint.clone() };
        judges.push(chat_config(&endpoint, "a model judge")?);
    }
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let config = PrmBuildConfig {
        judges,
        build: BuildConfig { seed: args.seed, per_task: args.per_task },
        noise: Noise { mistake_rate: args.noise.mistake_rate, recovery_rate: args.noise.recovery_rate },
        trials: args.trials,
        layout: match args.layout {
            PrmLayoutName::Worldsmith => Layout::Worldsmith,
            PrmLayoutName::Toolprmbench => Layout::ToolPrmBench,
            PrmLayoutName::Trl => Layout::Trl,
        },
        split: args.split_by.map(|by| SplitConfig {
            by: match by {
                SplitByName::Task => SplitBy::Task,
                SplitByName::World => SplitBy::World,
            },
            test_fraction: args.test_fraction,
            seed: args.seed,
        }),
    };
    let report = prm_build_files(&args.tasks, &args.episodes, &args.out, &config, &mut worlds, &Stderr)?;
    print_errors(&report.errors);
    eprint!("{}", prm_table(&report.stats));
    Ok(if report.errors.is_empty() && report.stats.pairs > 0 { Outcome::Ok } else { Outcome::Problems })
}

pub fn eval(args: &PrmEvalArgs) -> Result<Outcome> {
    let choice = match (args.baseline, &args.scorer) {
        (Some(PrmBaselineName::Random), _) => PrmChoice::Random,
        (Some(PrmBaselineName::Heuristic), _) => PrmChoice::Heuristic,
        (Some(PrmBaselineName::Lookahead), _) => PrmChoice::Lookahead,
        (None, Some(url)) => PrmChoice::Scorer(url.clone(), scorer_client(&args.endpoint)),
        (None, None) => PrmChoice::Model(chat_config(&args.endpoint, "prm eval (without --baseline or --scorer)")?),
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = prm_eval_files(&args.pairs, &choice, args.tasks.as_deref(), &args.out, args.seed, &mut worlds)?;
    print_errors(&report.errors);
    eprint!("{}", prm_eval_table(std::slice::from_ref(&report.stats)));
    Ok(if report.errors.is_empty() && report.stats.unanswered == 0 { Outcome::Ok } else { Outcome::Problems })
}

pub fn search(args: &PrmSearchArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.mistake_rate) {
        bail!("--mistake-rate must be between 0 and 1, not {}", args.mistake_rate);
    }
    let scorer = if args.prm == "lookahead" {
        None
    } else if args.prm.starts_with("http://") || args.prm.starts_with("https://") {
        Some((args.prm.clone(), scorer_client(&args.endpoint)))
    } else {
        bail!("--prm must be `lookahead` or a scorer's http(s) URL, not `{}`", args.prm);
    };
    let (proposer, concurrency) = match args.policy {
        SearchPolicyName::Noisy => (Proposer::Noisy { mistake_rate: args.mistake_rate }, args.concurrency),
        SearchPolicyName::Openai => {
            let chat = chat_config(&args.endpoint, "prm search --policy openai")?;
            if chat.temperature == 0.0 && args.candidates.iter().any(|&n| n > 1) {
                eprintln!(
                    "warning: --temperature 0 makes a deterministic model give one answer N times; pass --temperature 0.7 or so to sample different candidates"
                );
            }
            (Proposer::OpenAi(chat), if args.concurrency == 0 { 8 } else { args.concurrency })
        }
    };
    let config = PrmSearchConfig {
        candidates: args.candidates.clone(),
        trials: args.trials,
        proposer,
        seed: args.seed,
        scorer,
        concurrency,
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = prm_search_files(&args.tasks, &config, &args.out, &mut worlds, &Stderr)?;
    print_errors(&report.errors);
    eprint!("{}", search_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// The client settings of a scorer endpoint: the endpoint options' timeout and retries, the
/// key from `$OPENAI_API_KEY`; no model.
fn scorer_client(endpoint: &crate::cli::EndpointArgs) -> worldsmith_llm::ChatConfig {
    worldsmith_llm::ChatConfig {
        api_key: std::env::var("OPENAI_API_KEY").ok().filter(|k| !k.is_empty()),
        request_timeout: std::time::Duration::from_secs(endpoint.request_timeout),
        retries: endpoint.retries,
        ..worldsmith_llm::ChatConfig::new(endpoint.base_url.clone(), "scorer")
    }
}
