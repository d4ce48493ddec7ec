//! `prm build`, `prm eval` and `prm search` as file-to-file functions (the step-level
//! process-reward benchmark: [`worldsmith_prm`]).

use crate::io::{json_lines, pretty_json, read_jsonl, read_jsonl_map, write_atomic, write_atomic_with};
use crate::progress::Progress;
use crate::stages::{StageReport, read_episodes, tasks_with_worlds, unique_ids};
use crate::worlds::WorldCache;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use worldsmith_core::episode::Episode;
use worldsmith_core::prm::PairLine;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_prm::eval::{
    EvalReport, HeuristicPrm, LookaheadPrm, ModelPrm, Prm, RandomPrm, ScorerPrm, evaluate, judge_pair,
};
use worldsmith_prm::layout::{Layout, Split, SplitBy, SplitConfig, render, split_key};
use worldsmith_prm::path::GoldPath;
use worldsmith_prm::search::{Guide, Proposer, SearchConfig, SearchRow, search_all};
use worldsmith_prm::{BuildConfig, PrmSummary, TaskInput, build};
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig};
use worldsmith_trainer::split::assign_keys;

/// Tasks with their worlds, their oracle episodes and whether those verified: what gold
/// paths borrow from.
#[derive(Default)]
pub struct GoldSet {
    /// (world, task, oracle episode, verified successful), in task order.
    pub items: Vec<(World, TaskLine, Episode, bool)>,
}

impl GoldSet {
    /// Reads `tasks`, loads their worlds, and runs and verifies the oracle on each.
    ///
    /// # Errors
    /// The task file cannot be read, or its ids repeat.
    pub fn load(tasks: &Path, worlds: &mut WorldCache) -> Result<(GoldSet, Vec<String>)> {
        let (lines, errors) = read_jsonl::<TaskLine>(tasks, "task")?;
        let ids: Vec<String> = lines.iter().map(|t| worldsmith_rollout::id_text(&t.id)).collect();
        unique_ids(ids.iter().map(String::as_str), "task")?;
        let (pairs, errors) = tasks_with_worlds((lines, errors), worlds);
        let (oracle, _) = worldsmith_rollout::rollout(&pairs, &RolloutConfig::default());
        let items = pairs
            .into_iter()
            .zip(oracle)
            .map(|((w, t), e)| {
                let ok = worldsmith_verify::verify(&e, &w).success;
                (w, t, e, ok)
            })
            .collect();
        Ok((GoldSet { items }, errors))
    }

    /// The gold paths of the tasks whose oracle verified.
    #[must_use]
    pub fn paths(&self) -> Vec<GoldPath<'_>> {
        self.items.iter().filter(|i| i.3).map(|(w, t, e, _)| GoldPath::new(w, t, e)).collect()
    }
}

/// A pair line's id alone (the rest of the line is skipped unread).
#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// How `prm build` runs.
#[derive(Debug, Clone)]
pub struct PrmBuildConfig {
    /// Seed and per-task cap.
    pub build: BuildConfig,
    /// Without episode files: the noisy policy whose failed episodes give online pairs.
    pub noise: Noise,
    /// Without episode files: noisy episodes per task.
    pub trials: u32,
    /// The field names of the output lines.
    pub layout: Layout,
    /// Also write `train.jsonl` and `test.jsonl`, split this way.
    pub split: Option<SplitConfig>,
    /// Model judges (judges 3..k): chat endpoints asked to pick the correct action of every
    /// pair; pairs any of them disagrees with are dropped.
    pub judges: Vec<worldsmith_llm::ChatConfig>,
}

/// Tasks built at once: pairs, episodes and gold paths of one chunk are held in memory,
/// written, and dropped (a generated world's pair carries its tools: tens of kilobytes).
const CHUNK: usize = 128;

/// Builds pairs from `tasks` (and the failed episodes of `episodes`, or of a noisy rollout
/// when none are given) and writes `out/pairs.jsonl`, `out/prm_summary.json`, and with a
/// split `out/train.jsonl` and `out/test.jsonl`. Tasks are processed in chunks (oracle,
/// noisy episodes, pairs), so memory stays bounded however many tasks there are; the bytes
/// do not depend on the chunk size.
///
/// # Errors
/// An input cannot be read, ids repeat, or an output cannot be written.
pub fn prm_build_files(
    tasks: &Path,
    episodes: &[PathBuf],
    out: &Path,
    config: &PrmBuildConfig,
    worlds: &mut WorldCache,
    progress: &dyn Progress,
) -> Result<StageReport<PrmSummary>> {
    let (lines, errors) = read_jsonl::<TaskLine>(tasks, "task")?;
    let ids: Vec<String> = lines.iter().map(|t| worldsmith_rollout::id_text(&t.id)).collect();
    unique_ids(ids.iter().map(String::as_str), "task")?;
    let (pairs, mut errors) = tasks_with_worlds((lines, errors), worlds);
    let key = |w: &World, t: &TaskLine| (w.name().to_owned(), worldsmith_rollout::id_text(&t.id));
    // Episodes given: grouped by their task; those of tasks not given are reported.
    let given: Vec<Episode> = if episodes.is_empty() {
        Vec::new()
    } else {
        let (lines, read_errors) = read_episodes(episodes)?;
        errors.extend(read_errors);
        unique_ids(lines.iter().map(|e| e.id.as_str()), "episode")?;
        lines
    };
    let mut of_task: BTreeMap<(String, String), Vec<&Episode>> =
        pairs.iter().map(|(w, t)| (key(w, t), Vec::new())).collect();
    for e in &given {
        match of_task.get_mut(&(e.world.clone(), worldsmith_rollout::id_text(&e.task.id))) {
            Some(list) => list.push(e),
            None => errors.push(format!("episode {}: its task is not in {}; skipped", e.id, tasks.display())),
        }
    }
    // The split is decided by the tasks' keys before any pair exists.
    let split_of: Option<BTreeMap<String, Split>> = config.split.as_ref().map(|c| {
        let keys: Vec<String> = pairs.iter().map(|(w, t)| split_key(w.name(), &key(w, t).1, c.by)).collect();
        keys.iter().cloned().zip(assign_keys(&keys, c)).collect()
    });
    let by = config.split.as_ref().map_or(SplitBy::Task, |c| c.by);
    let judges: Vec<ModelPrm> = config.judges.iter().map(model).collect();
    std::fs::create_dir_all(out)?;
    progress.log(&format!("prm build: pairs of {} tasks, each label proven by execution", pairs.len()));
    let bar = progress.bar(pairs.len(), "tasks");
    let mut summary = PrmSummary::default();
    let mut emit = |chunk: &[(World, TaskLine)], sinks: &mut [&mut dyn Write]| -> Result<()> {
        let part = chunk_pairs(chunk, &of_task, episodes.is_empty(), config, &judges)?;
        for pair in &part.0 {
            let line = line_of(pair, config.layout)?;
            sinks[0].write_all(&line)?;
            if let Some(split_of) = &split_of {
                let which = split_of.get(&split_key(&pair.world, &pair.task, by)).copied();
                let sink = if which == Some(Split::Test) { 2 } else { 1 };
                sinks[sink].write_all(&line)?;
            }
        }
        summary.merge(part.1);
        bar.inc(chunk.len() as u64);
        Ok(())
    };
    let pairs_path = out.join("pairs.jsonl");
    if split_of.is_some() {
        write_atomic_with(&pairs_path, |all| {
            write_atomic_with(&out.join("train.jsonl"), |train| {
                write_atomic_with(&out.join("test.jsonl"), |test| {
                    pairs.chunks(CHUNK).try_for_each(|chunk| emit(chunk, &mut [&mut *all, &mut *train, &mut *test]))
                })
            })
        })?;
    } else {
        write_atomic_with(&pairs_path, |all| pairs.chunks(CHUNK).try_for_each(|chunk| emit(chunk, &mut [all])))?;
    }
    bar.finish();
    write_atomic(&out.join("prm_summary.json"), &pretty_json(&summary)?)?;
    Ok(StageReport { stats: summary, errors })
}

/// One pair as a JSON line in `layout`.
fn line_of(pair: &PairLine, layout: Layout) -> Result<Vec<u8>> {
    let mut line = match layout {
        Layout::Worldsmith => serde_json::to_vec(pair)?,
        other => serde_json::to_vec(&render(pair, other))?,
    };
    line.push(b'\n');
    Ok(line)
}

/// The pairs of one chunk of tasks: their oracle episodes (verified), their failed episodes
/// (given, or rolled out with the noisy policy), the pairs and the model judges' check.
fn chunk_pairs(
    chunk: &[(World, TaskLine)],
    of_task: &BTreeMap<(String, String), Vec<&Episode>>,
    roll_noisy: bool,
    config: &PrmBuildConfig,
    judges: &[ModelPrm],
) -> Result<(Vec<PairLine>, PrmSummary)> {
    use rayon::prelude::*;
    let (oracle, _) = worldsmith_rollout::rollout(chunk, &RolloutConfig::default());
    let noisy: Vec<Episode> = if roll_noisy {
        let rollout = RolloutConfig {
            policy: Policy::Noisy(config.noise),
            trials: config.trials,
            seed: config.build.seed,
            ..RolloutConfig::default()
        };
        worldsmith_rollout::rollout(chunk, &rollout).0
    } else {
        Vec::new()
    };
    let mut candidates: Vec<(usize, &Episode)> = Vec::new();
    for (i, (w, t)) in chunk.iter().enumerate() {
        let given = &of_task[&(w.name().to_owned(), worldsmith_rollout::id_text(&t.id))];
        candidates.extend(given.iter().map(|e| (i, *e)));
    }
    candidates.extend(noisy.iter().map(|e| {
        let i = chunk.iter().position(|(_, t)| t.id == e.task.id).unwrap_or(0);
        (i, e)
    }));
    let success: Vec<bool> =
        oracle.par_iter().zip(chunk).map(|(e, (w, _))| worldsmith_verify::verify(e, w).success).collect();
    let failed: Vec<bool> = candidates
        .par_iter()
        .map(|(i, e)| {
            let v = worldsmith_verify::verify(e, &chunk[*i].0);
            v.valid && !v.success
        })
        .collect();
    let inputs: Vec<TaskInput<'_>> = chunk
        .iter()
        .zip(&oracle)
        .zip(&success)
        .enumerate()
        .map(|(i, (((world, task), oracle), ok))| TaskInput {
            world,
            task,
            oracle,
            oracle_success: *ok,
            failed: candidates.iter().zip(&failed).filter(|((j, _), f)| *j == i && **f).map(|((_, e), _)| *e).collect(),
        })
        .collect();
    let (pairs, mut summary) = build(&inputs, &config.build);
    let pairs = worldsmith_prm::cross_check(pairs, judges, config.build.seed, &mut summary);
    Ok((pairs, summary))
}

/// The PRM `prm eval` measures.
#[derive(Debug, Clone)]
pub enum PrmChoice {
    /// A seeded coin.
    Random,
    /// The rule of thumb ([`HeuristicPrm`]).
    Heuristic,
    /// Execution on a fork (needs the tasks).
    Lookahead,
    /// An OpenAI-compatible chat model.
    Model(worldsmith_llm::ChatConfig),
    /// A scorer endpoint's URL, with the client settings.
    Scorer(String, worldsmith_llm::ChatConfig),
}

/// Evaluates a PRM on the pairs of `pairs` (worldsmith's layout) and writes the report to
/// `out` (JSON).
///
/// # Errors
/// An input cannot be read, the lookahead has no tasks, or the output cannot be written.
pub fn prm_eval_files(
    pairs: &Path,
    choice: &PrmChoice,
    tasks: Option<&Path>,
    out: &Path,
    seed: u64,
    worlds: &mut WorldCache,
) -> Result<StageReport<EvalReport>> {
    let gold = match (choice, tasks) {
        (PrmChoice::Lookahead, None) => bail!("the lookahead runs the pairs' tasks: pass --tasks"),
        (PrmChoice::Lookahead, Some(tasks)) => GoldSet::load(tasks, worlds)?.0,
        _ => GoldSet::default(),
    };
    let prm: Box<dyn Prm + '_> = match choice {
        PrmChoice::Random => Box::new(RandomPrm { seed }),
        PrmChoice::Heuristic => Box::new(HeuristicPrm),
        PrmChoice::Lookahead => Box::new(lookahead(&gold)),
        PrmChoice::Model(config) => Box::new(model(config)),
        PrmChoice::Scorer(url, config) => Box::new(scorer(url, config)),
    };
    // A file given twice is refused before any model is asked: a first pass reads the ids
    // alone (its malformed lines are reported by the second).
    let stdin = pairs == Path::new("-");
    if !stdin {
        let (ids, _) = read_jsonl_map(pairs, "pair", |line: IdOnly| line.id)?;
        unique_ids(ids.iter().map(String::as_str), "pair")?;
    }
    // Each block of lines is judged as it is read: only a pick per pair is kept, never the
    // pairs themselves (a million pairs with their histories would not fit).
    let (judged, errors) = read_jsonl_map(pairs, "pair", |pair: PairLine| judge_pair(&pair, &*prm, seed))?;
    if stdin {
        unique_ids(judged.iter().map(|j| j.id.as_str()), "pair")?;
    }
    let report = EvalReport::tally(prm.name(), &judged);
    write_atomic(out, &pretty_json(&report)?)?;
    Ok(StageReport { stats: report, errors })
}

fn lookahead(gold: &GoldSet) -> LookaheadPrm<'_> {
    LookaheadPrm {
        paths: gold
            .paths()
            .into_iter()
            .map(|p| ((p.oracle.world.clone(), worldsmith_rollout::id_text(&p.task.id)), p))
            .collect(),
    }
}

fn model(config: &worldsmith_llm::ChatConfig) -> ModelPrm {
    ModelPrm { client: worldsmith_llm::ChatClient::new(config.clone()), timeout: config.request_timeout }
}

fn scorer(url: &str, config: &worldsmith_llm::ChatConfig) -> ScorerPrm {
    ScorerPrm {
        url: url.to_owned(),
        client: worldsmith_llm::ChatClient::new(config.clone()),
        timeout: config.request_timeout,
    }
}

/// Evaluates several PRMs on the same pairs (the report's baselines).
#[must_use]
pub fn evaluate_all(pairs: &[PairLine], prms: &[&dyn Prm], seed: u64) -> Vec<EvalReport> {
    prms.iter().map(|p| evaluate(pairs, *p, seed)).collect()
}

/// What `prm search` measured (`search.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// The guide (`lookahead` or the scorer's URL).
    pub guide: String,
    /// The policy the candidates came from: `noisy`, or `openai:<model>`.
    #[serde(default = "noisy")]
    pub policy: String,
    /// The noisy policy's chance that a sampled candidate is a mistake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mistake_rate: Option<f64>,
    /// Episodes per task and number of candidates.
    pub trials: u32,
    /// Tasks searched (those whose oracle verified).
    pub tasks: usize,
    /// One row per number of candidates.
    pub rows: Vec<SearchRow>,
}

/// How `prm search` runs.
#[derive(Debug, Clone)]
pub struct PrmSearchConfig {
    /// The numbers of candidates to compare.
    pub candidates: Vec<usize>,
    /// Episodes per task and number.
    pub trials: u32,
    /// Where the candidates come from.
    pub proposer: Proposer,
    /// The seed.
    pub seed: u64,
    /// The guide: `None` for the lookahead, or a scorer URL and client settings.
    pub scorer: Option<(String, worldsmith_llm::ChatConfig)>,
    /// Episodes searched at once (0: one per core). Endpoints want more than the cores.
    pub concurrency: usize,
}

/// The default policy's name, for `search.json` files written before it was recorded.
fn noisy() -> String {
    "noisy".to_owned()
}

/// Runs reward-guided search on `tasks` for each number of candidates and writes
/// `out/search.json`, the chart `out/search.svg` and the episodes, `out/episodes_n<N>.jsonl`.
///
/// # Errors
/// The task file cannot be read, no number of candidates is given, or an output cannot be
/// written.
pub fn prm_search_files(
    tasks: &Path,
    config: &PrmSearchConfig,
    out: &Path,
    worlds: &mut WorldCache,
    progress: &dyn Progress,
) -> Result<StageReport<SearchReport>> {
    if config.candidates.is_empty() || config.candidates.contains(&0) {
        bail!("--candidates must list numbers of at least 1");
    }
    let (gold, errors) = GoldSet::load(tasks, worlds)?;
    let mut report = search_with(&gold, config, out, progress)?;
    report.errors.splice(0..0, errors);
    Ok(report)
}

/// [`prm_search_files`] on gold paths already loaded.
fn search_with(
    gold: &GoldSet,
    config: &PrmSearchConfig,
    out: &Path,
    progress: &dyn Progress,
) -> Result<StageReport<SearchReport>> {
    let mut errors = Vec::new();
    let paths = gold.paths();
    let guide = match &config.scorer {
        None => Guide::Lookahead,
        Some((url, chat)) => Guide::Scorer(Box::new(scorer(url, chat))),
    };
    std::fs::create_dir_all(out)?;
    let bar = progress.bar(config.candidates.len(), "candidate counts");
    let mut rows = Vec::new();
    for &n in &config.candidates {
        let search =
            SearchConfig { candidates: n, proposer: config.proposer.clone(), seed: config.seed, max_steps: 30 };
        let (row, episodes) = match config.concurrency {
            0 => search_all(&paths, &guide, &search, config.trials),
            threads => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .context("starting the search's threads")?
                .install(|| search_all(&paths, &guide, &search, config.trials)),
        };
        write_atomic(&out.join(format!("episodes_n{n}.jsonl")), &json_lines(&episodes)?)?;
        if row.policy_failures > 0 {
            let first = episodes.iter().find_map(|e| e.error.as_deref()).unwrap_or("no reason recorded");
            errors.push(format!(
                "N = {n}: the policy's endpoint failed in {} of {} episodes, which count as failed (first: {first})",
                row.policy_failures, row.episodes
            ));
        }
        rows.push(row);
        bar.inc(1);
    }
    bar.finish();
    let report = SearchReport {
        guide: config.scorer.as_ref().map_or_else(|| "lookahead".to_owned(), |(u, _)| u.clone()),
        policy: config.proposer.name(),
        mistake_rate: match config.proposer {
            Proposer::Noisy { mistake_rate } => Some(mistake_rate),
            Proposer::OpenAi(_) => None,
        },
        trials: config.trials,
        tasks: paths.len(),
        rows,
    };
    write_atomic(&out.join("search.json"), &pretty_json(&report)?)?;
    write_atomic(&out.join("search.svg"), crate::charts::search_svg(&report)?.as_bytes())?;
    Ok(StageReport { stats: report, errors })
}

/// What the main job's PRM stage found (the main job writes it to `prm/prm_run.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrmRunSummary {
    /// The pair set.
    pub build: PrmSummary,
    /// The built-in PRMs on it: random, heuristic, lookahead.
    pub eval: Vec<EvalReport>,
    /// Lookahead-guided search for N = 1, 2, 4, 8.
    pub search: SearchReport,
}

/// The main job's PRM stage: pairs from `tasks` and the failed episodes of `episodes`
/// (`out/pairs.jsonl`), the three baselines on them (`out/eval.json`), and lookahead-guided
/// search with 1, 2, 4 and 8 candidates (`out/search.json`, `out/search.svg`), the gold
/// paths loaded once.
///
/// # Errors
/// An input cannot be read or an output cannot be written.
pub fn prm_run_files(
    tasks: &Path,
    episodes: &[PathBuf],
    out: &Path,
    seed: u64,
    worlds: &mut WorldCache,
    progress: &dyn Progress,
) -> Result<StageReport<PrmRunSummary>> {
    let config = PrmBuildConfig {
        build: BuildConfig { seed, per_task: 8 },
        noise: Noise::default(),
        trials: 2,
        layout: Layout::Worldsmith,
        split: None,
        judges: Vec::new(),
    };
    let built = prm_build_files(tasks, episodes, out, &config, worlds, progress)?;
    let (gold, mut errors) = GoldSet::load(tasks, worlds)?;
    errors.extend(built.errors);
    let (pairs, read_errors) = read_jsonl::<PairLine>(&out.join("pairs.jsonl"), "pair")?;
    errors.extend(read_errors);
    progress.log("prm eval: random, heuristic and lookahead baselines");
    let lookahead = lookahead(&gold);
    let prms: [&dyn Prm; 3] = [&RandomPrm { seed }, &HeuristicPrm, &lookahead];
    let eval = evaluate_all(&pairs, &prms, seed);
    write_atomic(&out.join("eval.json"), &pretty_json(&eval)?)?;
    progress.log("prm search: lookahead-guided, 1, 2, 4 and 8 candidates per turn");
    let search_config = PrmSearchConfig {
        candidates: vec![1, 2, 4, 8],
        trials: 1,
        proposer: Proposer::Noisy { mistake_rate: 0.5 },
        seed,
        scorer: None,
        concurrency: 0,
    };
    let searched = search_with(&gold, &search_config, out, progress)?;
    errors.extend(searched.errors);
    let summary = PrmRunSummary { build: built.stats, eval, search: searched.stats };
    Ok(StageReport { stats: summary, errors })
}
