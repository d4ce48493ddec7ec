//! `worldsmith rollout | verify | export sft|verl|trl | eval`: argument checks, the pipeline's stage
//! functions (`worldsmith_pipeline::stages`, which `run` chains too), and the tables on
//! stderr; and how the command line draws progress.

use super::Outcome;
use crate::cli::{
    ArenasArgs, EndpointArgs, EvalArgs, ExportSftArgs, ExportTrainerArgs, GrpoSimulateArgs, NoiseArgs, PolicyName,
    RewardArgs, RolloutArgs, SftFormatName, SplitByName, UserName, VerifyArgs,
};
use crate::output::{pretty_json, write_atomic};
use crate::worlds::WorldCache;
use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;
use worldsmith_core::episode::EndReason;
use worldsmith_pipeline::grpo::SimulateConfig;
use worldsmith_pipeline::progress::{Bar, Progress};
use worldsmith_pipeline::stages::{
    Evidence, SftOutput, Trainer, arenas_files, eval_files, export_sft_files_with, export_trainer_files, reward_files,
    rollout_arenas_file, rollout_file, verify_files,
};
use worldsmith_pipeline::tables::{arenas_table, metrics_table, reward_table, rollout_table, sft_table, verify_table};
use worldsmith_rollout::arena::ArenaConfig;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig};

pub(super) fn print_errors(errors: &[String]) {
    for e in errors.iter().take(20) {
        eprintln!("warning: {e}");
    }
    if errors.len() > 20 {
        eprintln!("warning: ... and {} more", errors.len() - 20);
    }
}

/// A progress bar on stderr (drawn only on a terminal), labelled `what`.
pub fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// The command line's [`Progress`]: log lines on stderr, bars drawn by `indicatif`.
pub struct Stderr;

impl Progress for Stderr {
    fn log(&self, line: &str) {
        eprintln!("{line}");
    }

    fn bar(&self, len: usize, what: &str) -> Box<dyn Bar + '_> {
        Box::new(StderrBar(progress(len, what)))
    }
}

struct StderrBar(ProgressBar);

impl Bar for StderrBar {
    fn set_position(&self, done: u64) {
        self.0.set_position(done);
    }

    fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The chat endpoint of command-line arguments; `what` names the step that needs a model.
pub fn chat_config(args: &EndpointArgs, what: &str) -> Result<worldsmith_llm::ChatConfig> {
    let Some(model) = args.model.clone() else {
        bail!(
            "{what} needs a model\nhint: pass --model NAME or set OPENAI_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY)"
        );
    };
    Ok(worldsmith_llm::ChatConfig {
        api_key: std::env::var("OPENAI_API_KEY").ok().filter(|k| !k.is_empty()),
        temperature: args.temperature,
        request_timeout: Duration::from_secs(args.request_timeout),
        retries: args.retries,
        ..worldsmith_llm::ChatConfig::new(args.base_url.clone(), model)
    })
}

pub fn rollout(args: &RolloutArgs) -> Result<Outcome> {
    let policy = match args.policy {
        PolicyName::Oracle => Policy::Oracle,
        PolicyName::Noisy => noisy(&args.noise)?,
        PolicyName::Openai => Policy::OpenAi(chat_config(&args.endpoint, "the openai policy")?),
    };
    let concurrency = match (args.concurrency, args.policy, args.user) {
        (0, PolicyName::Openai, _) | (0, _, UserName::Llm) => 8,
        (n, _, _) => n,
    };
    let config = RolloutConfig {
        policy,
        trials: args.trials,
        seed: args.seed,
        max_steps: args.max_steps,
        episode_timeout: Duration::from_secs(args.timeout),
        concurrency,
        llm_user: match args.user {
            UserName::Scripted => None,
            UserName::Llm => Some(chat_config(&args.endpoint, "the llm user simulator")?),
        },
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = match (&args.tasks, &args.arenas) {
        (_, Some(arenas)) => rollout_arenas_file(arenas, &args.out, &config, &mut worlds, &Stderr)?,
        (Some(tasks), None) => rollout_file(tasks, &args.out, &config, &mut worlds, &Stderr)?,
        (None, None) => bail!("give --tasks or --arenas"),
    };
    print_errors(&report.errors);
    eprint!("{}", rollout_table(&config.policy.name(), &report.stats));
    let failed = report.stats.ended.iter().any(|(end, n)| end != EndReason::UserStop && n > 0);
    Ok(if failed || !report.errors.is_empty() { Outcome::Problems } else { Outcome::Ok })
}

pub fn arenas(args: &ArenasArgs) -> Result<Outcome> {
    let config = ArenaConfig {
        seed: args.seed,
        distractors: args.distractors,
        max_turns: args.max_turns,
        ..ArenaConfig::default()
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = arenas_files(&args.tasks, &args.out, &config, &mut worlds)?;
    print_errors(&report.errors);
    eprint!("{}", arenas_table(&report.stats));
    eprintln!(
        "wrote {} and {}",
        args.out.join("arenas.jsonl").display(),
        args.out.join("arenas_summary.json").display()
    );
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// The `noisy` policy with the given rates, each checked to be a probability.
fn noisy(args: &NoiseArgs) -> Result<Policy> {
    for (name, rate) in [("--mistake-rate", args.mistake_rate), ("--recovery-rate", args.recovery_rate)] {
        if !(0.0..=1.0).contains(&rate) {
            bail!("{name} must be between 0 and 1, not {rate}");
        }
    }
    Ok(Policy::Noisy(Noise { mistake_rate: args.mistake_rate, recovery_rate: args.recovery_rate }))
}

pub fn grpo_simulate(args: &GrpoSimulateArgs) -> Result<Outcome> {
    let policy = match args.policy {
        PolicyName::Oracle => Policy::Oracle,
        PolicyName::Noisy => noisy(&args.noise)?,
        PolicyName::Openai => bail!("grpo simulate runs a scripted policy (oracle or noisy)"),
    };
    let config = SimulateConfig {
        rollout: RolloutConfig { policy: policy.clone(), seed: args.seed, ..RolloutConfig::default() },
        group: args.group,
        batch: args.batch,
        steps: args.steps,
        delta: args.delta,
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = worldsmith_pipeline::grpo::simulate(&args.arenas, &config, &policy, &mut worlds)?;
    if let Some(path) = &args.summary {
        write_atomic(path, &pretty_json(&report.stats)?)?;
    }
    print_errors(&report.errors);
    eprint!("{}", worldsmith_pipeline::tables::grpo_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

pub fn reward(args: &RewardArgs) -> Result<Outcome> {
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = reward_files(
        &args.arenas,
        &args.episodes,
        &args.out,
        &mut worlds,
        if args.trust_recorded { Evidence::Recorded } else { Evidence::Replay },
    )?;
    if let Some(path) = &args.summary {
        write_atomic(path, &pretty_json(&report.stats)?)?;
    }
    print_errors(&report.errors);
    eprint!("{}", reward_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

pub fn verify(args: &VerifyArgs) -> Result<Outcome> {
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = verify_files(&args.episodes, &args.out, &mut worlds)?;
    if let Some(path) = &args.summary {
        write_atomic(path, &pretty_json(&report.stats)?)?;
    }
    print_errors(&report.errors);
    eprint!("{}", verify_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

pub fn export_sft(args: &ExportSftArgs) -> Result<Outcome> {
    if args.max_tokens == Some(0) {
        bail!("--max-tokens must be at least 1");
    }
    let now_unix = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH is not a Unix time: {v}"))?,
        Err(_) => 0,
    };
    let output = SftOutput {
        tokenizer: args.tokenizer.clone(),
        max_tokens: args.max_tokens,
        parquet: args.format == SftFormatName::Parquet,
        now_unix,
    };
    let report = export_sft_files_with(&args.verdicts, &args.episodes, &args.out, &output)?;
    print_errors(&report.errors);
    eprint!("{}", sft_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

pub fn export_trainer(trainer: Trainer, args: &ExportTrainerArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.test_fraction) {
        bail!("--test-fraction must be between 0 and 1, not {}", args.test_fraction);
    }
    let config = worldsmith_trainer::ExportConfig {
        split: worldsmith_trainer::SplitConfig {
            by: match args.split_by {
                SplitByName::Task => worldsmith_trainer::SplitBy::Task,
                SplitByName::World => worldsmith_trainer::SplitBy::World,
            },
            test_fraction: args.test_fraction,
            seed: args.seed,
        },
        ask_user: args.ask_user,
    };
    let mut worlds = WorldCache::with_worlds(&args.worlds)?;
    let report = export_trainer_files(trainer, &args.arenas, &args.out, &config, &mut worlds)?;
    print_errors(&report.errors);
    eprint!("{}", worldsmith_trainer::stats_table(&report.stats));
    let files: Vec<String> = report.stats.files.keys().map(|f| args.out.join(f).display().to_string()).collect();
    eprintln!("wrote {} and {}", files.join(", "), args.out.join("manifest.json").display());
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

pub fn eval(args: &EvalArgs) -> Result<Outcome> {
    let report = eval_files(&args.verdicts, &args.out)?;
    print_errors(&report.errors);
    eprint!("{}", metrics_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}
