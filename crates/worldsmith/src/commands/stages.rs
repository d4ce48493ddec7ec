//! `worldsmith rollout | verify | export sft | eval`: each stage reads files and writes
//! files, so `run` chains the very same functions.

use super::Outcome;
use crate::cli::{EndpointArgs, EvalArgs, ExportSftArgs, PolicyName, RolloutArgs, UserName, VerifyArgs};
use crate::output::{json_lines, pretty_json, read_jsonl, write_atomic};
use crate::worlds::WorldCache;
use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use worldsmith_core::episode::{Episode, Verdict};
use worldsmith_core::task::TaskLine;
use worldsmith_export::SftStats;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, RolloutStats};
use worldsmith_verify::{Metrics, VerifyStats};

/// What a stage did, with a message per input it skipped.
pub struct StageReport<S> {
    /// The stage's counts.
    pub stats: S,
    /// Skipped inputs, one message each.
    pub errors: Vec<String>,
}

fn print_errors(errors: &[String]) {
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
        PolicyName::Noisy => {
            for (name, rate) in [("--mistake-rate", args.mistake_rate), ("--recovery-rate", args.recovery_rate)] {
                if !(0.0..=1.0).contains(&rate) {
                    bail!("{name} must be between 0 and 1, not {rate}");
                }
            }
            Policy::Noisy(Noise { mistake_rate: args.mistake_rate, recovery_rate: args.recovery_rate })
        }
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
    let report = rollout_file(&args.tasks, &args.out, &config, &mut worlds)?;
    print_errors(&report.errors);
    eprint!("{}", rollout_table(&config.policy.name(), &report.stats));
    let failed = report.stats.ended.iter().any(|(end, n)| end != "user_stop" && *n > 0);
    Ok(if failed || !report.errors.is_empty() { Outcome::Problems } else { Outcome::Ok })
}

/// Runs episodes for every task of `tasks` and writes them to `out`.
pub fn rollout_file(
    tasks: &Path,
    out: &Path,
    config: &RolloutConfig,
    worlds: &mut WorldCache,
) -> Result<StageReport<RolloutStats>> {
    let (lines, mut errors) = read_jsonl::<TaskLine>(tasks, "task")?;
    let names: BTreeSet<&str> = lines.iter().filter_map(|t| t.world.as_deref()).collect();
    errors.extend(worlds.load_all(names));
    let mut pairs = Vec::new();
    for t in lines {
        match t.world.as_deref().map(|w| worlds.get(w)) {
            Some(Some(w)) => pairs.push((w.clone(), t)),
            Some(None) => {} // reported when loading
            None => errors.push(format!("task {} names no world; skipped", t.id)),
        }
    }
    let bar = progress(pairs.len() * config.trials as usize, "episodes");
    let (episodes, stats) = worldsmith_rollout::rollout_observed(&pairs, config, &|_| bar.inc(1));
    bar.finish_and_clear();
    write_atomic(out, &json_lines(&episodes)?)?;
    Ok(StageReport { stats, errors })
}

/// The rollout summary people read.
pub fn rollout_table(policy: &str, stats: &RolloutStats) -> String {
    let ended: Vec<String> = stats.ended.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "{policy}: {} episodes ({}), {} calls, {} failed\n",
        stats.episodes,
        ended.join(", "),
        stats.calls,
        stats.failed_calls
    )
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

/// Reads episode files in order, one after another.
fn read_episodes(paths: &[PathBuf]) -> Result<(Vec<Episode>, Vec<String>)> {
    let mut episodes = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let (mut e, errs) = read_jsonl::<Episode>(path, "episode")?;
        episodes.append(&mut e);
        errors.extend(errs);
    }
    Ok((episodes, errors))
}

/// Fails when an id occurs more than once (a file given twice, or two runs mixed), naming
/// the first few: every reader of episodes and verdicts counts each id once.
fn unique_ids<'a>(ids: impl Iterator<Item = &'a str>, what: &str) -> Result<()> {
    let mut seen = BTreeSet::new();
    let mut twice = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            twice.insert(id);
        }
    }
    if twice.is_empty() {
        return Ok(());
    }
    let named: Vec<&str> = twice.iter().take(5).copied().collect();
    anyhow::bail!(
        "{} {what} ids occur more than once ({}{}); is a file given twice?",
        twice.len(),
        named.join(", "),
        if twice.len() > named.len() { ", ..." } else { "" }
    )
}

/// Judges every episode of `paths` and writes the verdicts to `out`.
pub fn verify_files(paths: &[PathBuf], out: &Path, worlds: &mut WorldCache) -> Result<StageReport<VerifyStats>> {
    let (episodes, mut errors) = read_episodes(paths)?;
    unique_ids(episodes.iter().map(|e| e.id.as_str()), "episode")?;
    let names: BTreeSet<&str> = episodes.iter().map(|e| e.world.as_str()).collect();
    errors.extend(worlds.load_all(names));
    let (verdicts, stats) = worldsmith_verify::verify_all(&episodes, |w| worlds.get(w));
    write_atomic(out, &json_lines(&verdicts)?)?;
    Ok(StageReport { stats, errors })
}

/// The verification summary people read: one line per layer.
pub fn verify_table(s: &VerifyStats) -> String {
    let mut t = String::new();
    let valid = s.episodes - s.invalid.values().sum::<usize>();
    let _ = writeln!(t, "episodes                 {:>6}", s.episodes);
    let _ = writeln!(t, "1 validity               {valid:>6} valid");
    for (reason, n) in &s.invalid {
        let _ = writeln!(t, "    {reason:<20} {n:>6} dropped");
    }
    let _ = writeln!(t, "2 state alignment        {:>6} of {} aligned", s.state_aligned, s.state_checked);
    let _ = writeln!(
        t,
        "  consistency            {:>6} of {} without changes (tasks without writes)",
        s.consistent, s.consistency_checked
    );
    let _ = writeln!(t, "3 answers missing        {:>6}", s.answers_missing);
    let _ = writeln!(
        t,
        "kept                     {:>6} ({} with failed calls that were recovered)",
        s.kept, s.kept_with_failed_calls
    );
    let _ = writeln!(
        t,
        "strict exact call match  {:>6} of {} valid; {} of the kept (AgentScaler's filter)",
        s.exact_matched, s.exact_checked, s.kept_exact
    );
    let _ = writeln!(t, "mean F1 reward           {:>6.3}", s.mean_f1);
    for (world, n) in &s.unknown_world {
        let _ = writeln!(t, "unknown world {world}: {n} episodes skipped");
    }
    t
}

pub fn export_sft(args: &ExportSftArgs) -> Result<Outcome> {
    let report = export_sft_files(&args.verdicts, &args.episodes, &args.out)?;
    print_errors(&report.errors);
    eprint!("{}", sft_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// Writes the SFT lines of the kept episodes: `out/stage1_general.jsonl`,
/// `out/stage2_vertical.jsonl` and `out/manifest.json` (counts and episode ids per line).
pub fn export_sft_files(verdicts: &Path, episodes: &[PathBuf], out: &Path) -> Result<StageReport<SftStats>> {
    let (verdict_lines, mut errors) = read_jsonl::<Verdict>(verdicts, "verdict")?;
    let (episode_lines, episode_errors) = read_episodes(episodes)?;
    errors.extend(episode_errors);
    unique_ids(verdict_lines.iter().map(|v| v.episode.as_str()), "verdict")?;
    unique_ids(episode_lines.iter().map(|e| e.id.as_str()), "episode")?;
    let (split, stats) = worldsmith_export::sft(&episode_lines, &verdict_lines);
    write_atomic(&out.join("stage1_general.jsonl"), &json_lines(&split.general)?)?;
    write_atomic(&out.join("stage2_vertical.jsonl"), &json_lines(&split.vertical)?)?;
    let manifest = serde_json::json!({
        "format": worldsmith_export::SFT_FORMAT,
        "stats": stats,
        "files": {
            "stage1_general.jsonl": {"origin": "generated", "episodes": split.general_ids},
            "stage2_vertical.jsonl": {"origin": "bundled", "episodes": split.vertical_ids},
        },
    });
    write_atomic(&out.join("manifest.json"), &pretty_json(&manifest)?)?;
    Ok(StageReport { stats, errors })
}

/// The export summary people read.
pub fn sft_table(s: &SftStats) -> String {
    let lines: Vec<String> = s.lines.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(
        "sft: {} lines ({}) from {} verdicts; {} not kept, {} duplicates, {} without episode; {} assistant messages trained, {} context only\n",
        s.lines.values().sum::<usize>(),
        lines.join(", "),
        s.verdicts,
        s.not_kept,
        s.duplicates,
        s.missing_episode,
        s.trained_messages,
        s.context_messages
    )
}

pub fn eval(args: &EvalArgs) -> Result<Outcome> {
    let report = eval_files(&args.verdicts, &args.out)?;
    print_errors(&report.errors);
    eprint!("{}", metrics_table(&report.stats));
    Ok(if report.errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// Writes `out/metrics.json` and the charts: `pass_hat_k.svg`, `success_by_length.svg`,
/// `success_by_world.svg`.
pub fn eval_files(verdicts: &Path, out: &Path) -> Result<StageReport<Metrics>> {
    let (verdict_lines, errors) = read_jsonl::<Verdict>(verdicts, "verdict")?;
    unique_ids(verdict_lines.iter().map(|v| v.episode.as_str()), "verdict")?;
    let metrics = worldsmith_verify::metrics(&verdict_lines);
    write_atomic(&out.join("metrics.json"), &pretty_json(&metrics)?)?;
    write_atomic(&out.join("pass_hat_k.svg"), crate::charts::pass_hat_k_svg(&metrics)?.as_bytes())?;
    write_atomic(&out.join("success_by_length.svg"), crate::charts::success_by_length_svg(&metrics)?.as_bytes())?;
    write_atomic(&out.join("success_by_world.svg"), crate::charts::success_by_world_svg(&metrics)?.as_bytes())?;
    Ok(StageReport { stats: metrics, errors })
}

/// The metrics people read: per policy, success, F1, pass^k and success by chain length.
pub fn metrics_table(m: &Metrics) -> String {
    let mut t = String::new();
    for (name, p) in &m.policies {
        let curve: Vec<String> = p.pass_hat_k.iter().enumerate().map(|(k, v)| format!("^{} {v:.3}", k + 1)).collect();
        let _ = writeln!(
            t,
            "{name}: {} tasks, {} episodes, success {:.3}, mean F1 {:.3}, pass{}",
            p.tasks,
            p.episodes,
            p.success.rate,
            p.mean_f1,
            curve.join(" pass")
        );
        let lengths: Vec<String> =
            p.by_chain_length.iter().map(|(len, r)| format!("{len}: {:.2} ({}/{})", r.rate, r.ok, r.n)).collect();
        let _ = writeln!(t, "  success by gold calls  {}", lengths.join("  "));
    }
    t
}
