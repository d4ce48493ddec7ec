//! The stages as file-to-file functions: each reads its inputs, writes its outputs
//! atomically, and returns its counts with a message per input it skipped, so the command
//! line, `run` and later the server and the Python binding chain the very same functions.

use crate::io::{
    Span, json_lines, pretty_json, read_jsonl, read_jsonl_map, read_jsonl_spans, read_spans, write_atomic,
    write_atomic_with,
};
use crate::progress::Progress;
use crate::worlds::WorldCache;
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use worldsmith_core::arena::Arena;
use worldsmith_core::episode::{Episode, Verdict};
use worldsmith_core::task::TaskLine;
use worldsmith_core::tool::ToolSpec;
use worldsmith_engine::World;
use worldsmith_export::SftStats;
use worldsmith_graph::{Domain, GraphConfig, GraphSummary, Similarity, ToolProfile, agreement, discover, label_of};
use worldsmith_materialize::refine::Refiner;
use worldsmith_materialize::{MaterializeConfig, MaterializeSummary};
use worldsmith_rollout::arena::{ArenaConfig, ArenaStats};
use worldsmith_rollout::{RolloutConfig, RolloutStats};
use worldsmith_verify::{Metrics, RewardStats, VerifyStats};

pub use worldsmith_verify::Evidence;

/// What a stage did, with a message per input it skipped.
pub struct StageReport<S> {
    /// The stage's counts.
    pub stats: S,
    /// Skipped inputs, one message each.
    pub errors: Vec<String>,
}

/// Reads episode files in order, one after another.
///
/// # Errors
///
/// When a file cannot be read (see [`read_jsonl`]).
pub fn read_episodes(paths: &[PathBuf]) -> Result<(Vec<Episode>, Vec<String>)> {
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
///
/// # Errors
///
/// When an id occurs more than once, naming up to five such ids.
pub fn unique_ids<'a>(ids: impl Iterator<Item = &'a str>, what: &str) -> Result<()> {
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

/// Runs episodes for every task of `tasks` and writes them to `out`.
///
/// # Errors
///
/// When the task file cannot be read or the episodes cannot be written; unloadable
/// worlds and tasks without a world are skipped with a message.
pub fn rollout_file(
    tasks: &Path,
    out: &Path,
    config: &RolloutConfig,
    worlds: &mut WorldCache,
    progress: &dyn Progress,
) -> Result<StageReport<RolloutStats>> {
    let (pairs, errors) = tasks_with_worlds(read_jsonl::<TaskLine>(tasks, "task")?, worlds);
    let bar = progress.bar(pairs.len() * config.trials as usize, "episodes");
    let (episodes, stats) = worldsmith_rollout::rollout_observed(&pairs, config, &|_| bar.inc(1));
    bar.finish();
    write_atomic(out, &json_lines(&episodes)?)?;
    Ok(StageReport { stats, errors })
}

/// Task lines (with the messages of lines that did not parse) paired with their worlds;
/// tasks of a world that does not load, or that name none, are reported and left out.
pub(crate) fn tasks_with_worlds(
    (lines, mut errors): (Vec<TaskLine>, Vec<String>),
    worlds: &mut WorldCache,
) -> (Vec<(World, TaskLine)>, Vec<String>) {
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
    (pairs, errors)
}

/// Builds the arenas of every task of `tasks` and writes `arenas.jsonl` and
/// `arenas_summary.json` into `out`.
///
/// # Errors
/// The task file cannot be read, or the outputs cannot be written.
pub fn arenas_files(
    tasks: &Path,
    out: &Path,
    config: &ArenaConfig,
    worlds: &mut WorldCache,
) -> Result<StageReport<ArenaStats>> {
    let (lines, errors) = read_jsonl::<TaskLine>(tasks, "task")?;
    let ids: Vec<String> = lines.iter().map(|t| worldsmith_rollout::id_text(&t.id)).collect();
    unique_ids(ids.iter().map(String::as_str), "task")?;
    let (pairs, errors) = tasks_with_worlds((lines, errors), worlds);
    let (arenas, stats) = worldsmith_rollout::arena::build_arenas(&pairs, config);
    std::fs::create_dir_all(out)?;
    write_atomic(&out.join("arenas.jsonl"), &json_lines(&arenas)?)?;
    write_atomic(&out.join("arenas_summary.json"), &pretty_json(&stats)?)?;
    Ok(StageReport { stats, errors })
}

/// Runs episodes in every arena of `arenas` and writes them to `out`.
///
/// # Errors
/// The arena file cannot be read, or the output cannot be written.
pub fn rollout_arenas_file(
    arenas: &Path,
    out: &Path,
    config: &RolloutConfig,
    worlds: &mut WorldCache,
    progress: &dyn Progress,
) -> Result<StageReport<RolloutStats>> {
    let (pairs, errors) = arenas_with_worlds(arenas, worlds)?;
    let bar = progress.bar(pairs.len() * config.trials as usize, "episodes");
    let (episodes, stats) = worldsmith_rollout::rollout_arenas(&pairs, config, &config.policy, &|_| bar.inc(1));
    bar.finish();
    write_atomic(out, &json_lines(&episodes)?)?;
    Ok(StageReport { stats, errors })
}

/// Arenas with the worlds they run in.
pub(crate) type ArenasInWorlds = Vec<(World, Arena)>;

/// The arenas of a file with their worlds; arenas of unknown worlds are reported.
pub(crate) fn arenas_with_worlds(path: &Path, worlds: &mut WorldCache) -> Result<(ArenasInWorlds, Vec<String>)> {
    let (lines, mut errors) = read_jsonl::<Arena>(path, "arena")?;
    unique_ids(lines.iter().map(|a| a.id.as_str()), "arena")?;
    errors.extend(worlds.load_all(lines.iter().map(|a| a.world.as_str()).collect::<BTreeSet<&str>>()));
    let mut pairs = Vec::new();
    for arena in lines {
        let Some(world) = worlds.get(&arena.world) else { continue }; // reported when loading
        if world.initial_state().digest() != arena.init.digest {
            errors.push(format!(
                "arena {}: world `{}` does not start from the arena's state (another version of the world?); skipped",
                arena.id, arena.world
            ));
            continue;
        }
        pairs.push((world.clone(), arena));
    }
    Ok((pairs, errors))
}

/// Scores every episode of `episodes` against its arena in `arenas` (the arena it ran in, or
/// its task's whole-task arena) and writes reward lines to `out`.
///
/// # Errors
/// An input cannot be read, ids repeat, or the output cannot be written.
pub fn reward_files(
    arenas: &Path,
    episodes: &[PathBuf],
    out: &Path,
    worlds: &mut WorldCache,
    evidence: Evidence,
) -> Result<StageReport<RewardStats>> {
    let (pairs, mut errors) = arenas_with_worlds(arenas, worlds)?;
    let (episode_lines, episode_errors) = read_episodes(episodes)?;
    errors.extend(episode_errors);
    unique_ids(episode_lines.iter().map(|e| e.id.as_str()), "episode")?;
    let by_id: std::collections::BTreeMap<&str, &(World, Arena)> = pairs.iter().map(|p| (p.1.id.as_str(), p)).collect();
    let mut jobs = Vec::new();
    for e in &episode_lines {
        let id = e.arena.clone().unwrap_or_else(|| worldsmith_rollout::id_text(&e.task.id));
        match by_id.get(id.as_str()) {
            Some((world, arena)) if arena.world == e.world => jobs.push((arena, e, world)),
            Some((_, arena)) => errors.push(format!(
                "episode {} ran in world `{}`, arena {} is of `{}`; skipped",
                e.id, e.world, arena.id, arena.world
            )),
            None => errors.push(format!("episode {}: no arena `{id}` in {}; skipped", e.id, arenas.display())),
        }
    }
    let (lines, stats) = worldsmith_verify::score_all(&jobs, evidence);
    write_atomic(out, &json_lines(&lines)?)?;
    Ok(StageReport { stats, errors })
}

/// The RL trainers `export_trainer_files` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trainer {
    /// verl: `train.parquet`, `test.parquet` (`worldsmith_trainer::verl`).
    Verl,
    /// TRL: a Hugging Face dataset directory (`worldsmith_trainer::trl`).
    Trl,
}

/// Writes the arenas of `arenas` as a trainer's dataset into `out`: the Parquet files of
/// `trainer` and `manifest.json` (the counts and each file's arenas), and for TRL the
/// dataset card `README.md`. Arenas of unknown worlds, of another version of their world,
/// or whose gold calls name a tool they do not offer are skipped with a message.
///
/// # Errors
///
/// The arena file cannot be read, arena ids repeat, no arena is left to export, or an
/// output cannot be written.
pub fn export_trainer_files(
    trainer: Trainer,
    arenas: &Path,
    out: &Path,
    config: &worldsmith_trainer::ExportConfig,
    worlds: &mut WorldCache,
) -> Result<StageReport<worldsmith_trainer::ExportStats>> {
    let (pairs, mut errors) = arenas_with_worlds(arenas, worlds)?;
    let mut kept = Vec::with_capacity(pairs.len());
    for (_, arena) in pairs {
        let offered: BTreeSet<&str> = arena.tools.iter().map(worldsmith_core::tool::FunctionTool::name).collect();
        if let Some(call) = arena.gold.iter().find(|c| !offered.contains(c.name.as_str())) {
            errors.push(format!(
                "arena {}: gold call `{}` names a tool the arena does not offer; skipped",
                arena.id, call.name
            ));
            continue;
        }
        kept.push(arena);
    }
    let export = match trainer {
        Trainer::Verl => worldsmith_trainer::verl::export(&kept, config),
        Trainer::Trl => worldsmith_trainer::trl::export(&kept, config),
    };
    let export = match export {
        Ok(export) => export,
        Err(e @ worldsmith_trainer::TrainerError::Empty { needs_user, .. }) if needs_user > 0 => {
            bail!("{e}\nhint: pass --ask-user to keep them (the agent asks through an ask_user tool)")
        }
        Err(e) => return Err(e.into()),
    };
    std::fs::create_dir_all(out)?;
    for (name, bytes) in &export.files {
        write_atomic(&out.join(name), bytes)?;
    }
    if trainer == Trainer::Trl {
        write_atomic(&out.join("README.md"), worldsmith_trainer::trl::DATASET_CARD.as_bytes())?;
    }
    write_atomic(&out.join("manifest.json"), &pretty_json(&export.stats)?)?;
    Ok(StageReport { stats: export.stats, errors })
}

/// Judges every episode of `paths` and writes the verdicts to `out`.
///
/// # Errors
///
/// When an episode file cannot be read, an episode id occurs twice, or the verdicts
/// cannot be written.
pub fn verify_files(paths: &[PathBuf], out: &Path, worlds: &mut WorldCache) -> Result<StageReport<VerifyStats>> {
    let (episodes, mut errors) = read_episodes(paths)?;
    unique_ids(episodes.iter().map(|e| e.id.as_str()), "episode")?;
    let names: BTreeSet<&str> = episodes.iter().map(|e| e.world.as_str()).collect();
    errors.extend(worlds.load_all(names));
    let (verdicts, stats) = worldsmith_verify::verify_all(&episodes, |w| worlds.get(w));
    write_atomic(out, &json_lines(&verdicts)?)?;
    Ok(StageReport { stats, errors })
}

/// Writes the SFT lines of the kept episodes: `out/stage1_general.jsonl`,
/// `out/stage2_vertical.jsonl` and `out/manifest.json` (counts and episode ids per line).
///
/// # Errors
///
/// When an input cannot be read, a verdict or episode id occurs twice, or an output
/// cannot be written.
pub fn export_sft_files(verdicts: &Path, episodes: &[PathBuf], out: &Path) -> Result<StageReport<SftStats>> {
    export_sft_files_with(verdicts, episodes, out, &SftOutput::default())
}

/// How `export sft` writes its lines.
#[derive(Debug, Clone, Default)]
pub struct SftOutput {
    /// A Hugging Face tokenizer directory: lines gain `input_ids` and `assistant_masks`, and
    /// the manifest a `tokens` section.
    pub tokenizer: Option<PathBuf>,
    /// With a tokenizer, the most tokens a line may have (longer lines are cut after an
    /// earlier assistant turn, or dropped).
    pub max_tokens: Option<usize>,
    /// Parquet (`stage*.parquet`) instead of JSON Lines.
    pub parquet: bool,
    /// The instant `strftime_now` formats in chat templates (Unix seconds).
    pub now_unix: i64,
}

/// [`export_sft_files`] with a tokenizer, a token budget and Parquet output. A line the
/// template cannot render exactly is skipped with a message naming the file and line.
///
/// # Errors
///
/// As [`export_sft_files`], and when the tokenizer directory cannot be loaded.
pub fn export_sft_files_with(
    verdicts: &Path,
    episodes: &[PathBuf],
    out: &Path,
    output: &SftOutput,
) -> Result<StageReport<SftStats>> {
    let (verdict_lines, mut errors) = read_jsonl::<Verdict>(verdicts, "verdict")?;
    let (episode_lines, episode_errors) = read_episodes(episodes)?;
    errors.extend(episode_errors);
    unique_ids(verdict_lines.iter().map(|v| v.episode.as_str()), "verdict")?;
    unique_ids(episode_lines.iter().map(|e| e.id.as_str()), "episode")?;
    let (split, mut stats) = worldsmith_export::sft(&episode_lines, &verdict_lines);
    let tokenizer = match &output.tokenizer {
        Some(dir) => Some(
            worldsmith_tokens::ChatTokenizer::load(dir, &worldsmith_tokens::Options { now_unix: output.now_unix })
                .with_context(|| format!("cannot load the tokenizer directory {}", dir.display()))?,
        ),
        None => None,
    };
    let extension = if output.parquet { "parquet" } else { "jsonl" };
    let mut tokens = worldsmith_export::tokens::TokensManifest {
        tokenizer: tokenizer.as_ref().map(|t| t.info().clone()),
        tool_call_content: tokenizer.as_ref().map(worldsmith_tokens::ChatTokenizer::tool_call_content),
        max_tokens: output.max_tokens,
        ..Default::default()
    };
    let mut files = serde_json::Map::new();
    for (stem, origin, lines, ids) in [
        ("stage1_general", "generated", &split.general, &split.general_ids),
        ("stage2_vertical", "bundled", &split.vertical, &split.vertical_ids),
    ] {
        let name = format!("{stem}.{extension}");
        let (bytes, kept_ids) = if let Some(tokenizer) = &tokenizer {
            use worldsmith_export::tokens::Tokenized;
            let mut kept = Vec::new();
            let mut kept_ids = Vec::new();
            for (i, result) in
                worldsmith_export::tokens::tokenize_lines(tokenizer, lines, output.max_tokens).into_iter().enumerate()
            {
                let line = match result {
                    Tokenized::Whole(line) => line,
                    Tokenized::Cut(line) => {
                        tokens.cut += 1;
                        line
                    }
                    Tokenized::TooLong => {
                        tokens.too_long += 1;
                        continue;
                    }
                    Tokenized::Failed(e) => {
                        *tokens.failed.entry(worldsmith_export::tokens::reason(&e).to_owned()).or_insert(0) += 1;
                        errors.push(format!("{name}: SFT line {} (episode {}): skipped: {e}", i + 1, ids[i]));
                        continue;
                    }
                };
                tokens.stats.add(&worldsmith_tokens::Encoded {
                    input_ids: line.input_ids.clone(),
                    assistant_masks: line.assistant_masks.clone(),
                });
                kept.push(line);
                kept_ids.push(ids[i].clone());
            }
            let bytes =
                if output.parquet { worldsmith_export::parquet::tokenized_parquet(&kept)? } else { json_lines(&kept)? };
            (bytes, kept_ids)
        } else if output.parquet {
            (worldsmith_export::parquet::sft_parquet(lines)?, ids.clone())
        } else {
            (json_lines(lines)?, ids.clone())
        };
        write_atomic(&out.join(&name), &bytes)?;
        files.insert(name, serde_json::json!({"origin": origin, "episodes": kept_ids}));
    }
    let mut manifest = serde_json::json!({
        "format": worldsmith_export::SFT_FORMAT,
        "stats": stats,
        "files": files,
    });
    if tokenizer.is_some() {
        manifest["tokens"] = serde_json::to_value(&tokens)?;
        stats.tokens = Some(tokens);
    }
    write_atomic(&out.join("manifest.json"), &pretty_json(&manifest)?)?;
    Ok(StageReport { stats, errors })
}

/// Writes `out/metrics.json` and the charts: `pass_hat_k.svg`, `success_by_length.svg`,
/// `success_by_world.svg`.
///
/// # Errors
///
/// When the verdicts cannot be read, two verdicts judge the same episode id, or an
/// output cannot be written.
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

/// What `graph` compares tools by.
pub enum Embedder {
    /// TF-IDF vectors (offline).
    TfIdf,
    /// MiniLM sentence embeddings (build feature `neural`).
    MiniLm {
        /// The model directory (`config.json`, `model.safetensors`, `tokenizer.json`).
        dir: PathBuf,
        /// Texts are cut at this many tokens.
        max_tokens: usize,
        /// How each tool's nearest are found: an HNSW index (the default) or exactly.
        search: worldsmith_graph::knn::DenseMethod,
    },
}

/// Discovers the domains of the pool in `tools` and writes `out/domains.jsonl` and
/// `out/summary.json` (with NMI/ARI for each of `labels`); returns the summary and a
/// message per skipped input line.
///
/// # Errors
///
/// When the pool cannot be read, a label field is unknown, the MiniLM model cannot be
/// loaded (or the build lacks feature `neural`), or an output cannot be written.
pub fn graph_files(
    tools: &Path,
    out: &Path,
    config: &GraphConfig,
    embedder: &Embedder,
    labels: &[String],
    progress: &dyn Progress,
) -> Result<(GraphSummary, Vec<String>)> {
    let (lines, mut errors) = read_jsonl_map(tools, "tool", |t: ToolSpec| ToolProfile::of(&t))?;
    let mut seen = BTreeSet::new();
    let mut pool = Vec::with_capacity(lines.len());
    for t in lines {
        if seen.insert(t.id.clone()) {
            pool.push(t);
        } else {
            errors.push(format!("tool id `{}` appears twice; the second is skipped", t.id));
        }
    }
    if let Some(field) = labels.iter().find(|f| pool.first().is_some_and(|t| label_of(&t.provenance, f).is_none())) {
        bail!("unknown label field `{field}`\nhint: use provider, service, category, format, source or method");
    }
    let dense = match embedder {
        Embedder::TfIdf => None,
        Embedder::MiniLm { dir, max_tokens, search } => {
            Some((minilm_vectors(dir, *max_tokens, &pool, progress)?, dense_search(*search)?))
        }
    };
    let similarity = match &dense {
        None => Similarity::TfIdf,
        Some((vectors, search)) => Similarity::Dense { name: "minilm", vectors, search: *search },
    };
    let bar = progress.bar(pool.len(), "neighbours");
    let (domains, mut summary) = discover(&pool, config, similarity, &|done| bar.set_position(done as u64));
    bar.finish();
    for field in labels {
        if let Some(a) = agreement(&pool, &domains, field) {
            summary.labels.insert(field.clone(), a);
        }
    }
    write_atomic(&out.join("domains.jsonl"), &json_lines(&domains)?)?;
    write_atomic(&out.join("summary.json"), &pretty_json(&summary)?)?;
    let sizes: Vec<usize> = domains.iter().map(|d| d.tools.len()).collect();
    write_atomic(&out.join("domain_sizes.svg"), crate::charts::domain_sizes_svg(&sizes)?.as_bytes())?;
    Ok((summary, errors))
}

/// The dense search of `method`, with HNSW's default settings.
fn dense_search(method: worldsmith_graph::knn::DenseMethod) -> Result<worldsmith_graph::knn::DenseSearch> {
    use worldsmith_graph::knn::{DenseMethod, DenseSearch};
    match method {
        DenseMethod::Exact => Ok(DenseSearch::Exact),
        #[cfg(feature = "neural")]
        DenseMethod::Hnsw => Ok(DenseSearch::Hnsw(worldsmith_graph::knn::HnswConfig::default())),
        #[cfg(not(feature = "neural"))]
        DenseMethod::Hnsw => bail!(
            "an HNSW neighbour search needs the `neural` build feature\nhint: cargo build --release -p worldsmith --features neural"
        ),
    }
}

/// One MiniLM vector per tool of the pool, from its text cut at `max_tokens` tokens.
#[cfg(feature = "neural")]
fn minilm_vectors(
    dir: &Path,
    max_tokens: usize,
    pool: &[ToolProfile],
    progress: &dyn Progress,
) -> Result<Vec<Vec<f32>>> {
    let model = worldsmith_graph::neural::NeuralEmbedder::load(dir)?.with_max_tokens(max_tokens)?;
    let texts: Vec<&str> = pool.iter().map(|t| t.text.as_str()).collect();
    let started = std::time::Instant::now();
    let bar = progress.bar(texts.len(), "embedding");
    let vectors = model.embed(&texts, &|done| bar.set_position(done as u64))?;
    bar.finish();
    progress.log(&format!(
        "graph: {} tool texts embedded with MiniLM (at most {max_tokens} tokens) in {:.1} s",
        texts.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(vectors)
}

#[cfg(not(feature = "neural"))]
fn minilm_vectors(
    _dir: &Path,
    _max_tokens: usize,
    _pool: &[ToolProfile],
    _progress: &dyn Progress,
) -> Result<Vec<Vec<f32>>> {
    bail!(
        "--embedder minilm needs the `neural` build feature\nhint: cargo build --release -p worldsmith --features neural"
    )
}

/// Materializes the domains of `domains` over the pool `tools` into `out`; returns the
/// summary and a message per skipped input line.
///
/// Memory is bounded by a batch of domains ([`MaterializeConfig::batch_tools`]), not by the
/// pool: the pool is read once for where its tools are (only the tools of some domain are
/// kept, as the place of their line), each batch's tools are read again from there, and each
/// world is written as soon as its batch is done, the report lines streamed into
/// `materialize_report.jsonl` (renamed into place at the end). Standard input (`-`) cannot
/// be read twice, so its tools are kept in memory.
///
/// # Errors
///
/// When an input cannot be read or an output cannot be written.
pub fn materialize_files(
    tools: &Path,
    domains: &Path,
    out: &Path,
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
    progress: &dyn Progress,
) -> Result<(MaterializeSummary, Vec<String>)> {
    let (domain_lines, mut errors) = read_jsonl::<Domain>(domains, "domain")?;
    let wanted: BTreeSet<&str> = domain_lines.iter().flat_map(|d| d.tools.iter().map(String::as_str)).collect();
    let in_memory = tools == Path::new("-");
    // Every line is parsed (a malformed one is reported, as by any reader); of the tools of
    // some domain, only where they are is kept (or, from standard input, the tool).
    let (pool, tool_errors) = read_jsonl_spans(tools, "tool", |t: ToolSpec, span| {
        wanted
            .contains(t.id.as_str())
            .then(|| if in_memory { (t.id.clone(), span, Some(t)) } else { (t.id, span, None) })
    })?;
    errors.extend(tool_errors);
    let pool_tools = pool.len();
    let mut kept_spans: BTreeMap<String, Span> = BTreeMap::new();
    let mut kept_tools: BTreeMap<String, ToolSpec> = BTreeMap::new();
    for (id, span, tool) in pool.into_iter().flatten() {
        if let Some(tool) = tool {
            kept_tools.insert(id.clone(), tool);
        }
        kept_spans.insert(id, span);
    }
    // The tools of a batch's domains, in pool order (an id that occurs twice: its last tool).
    let tools_of = |ids: &BTreeSet<&str>| -> Result<Vec<ToolSpec>> {
        let mut spans: Vec<(Span, &str)> = ids.iter().filter_map(|id| Some((*kept_spans.get(*id)?, *id))).collect();
        spans.sort_unstable();
        if in_memory {
            return Ok(spans.iter().filter_map(|(_, id)| kept_tools.get(*id).cloned()).collect());
        }
        let lines = read_spans(tools, &spans.iter().map(|(span, _)| *span).collect::<Vec<_>>())?;
        lines
            .par_iter()
            .map(|line| {
                serde_json::from_str::<ToolSpec>(line)
                    .with_context(|| format!("{} changed while it was read", tools.display()))
            })
            .collect()
    };
    let bar = progress.bar(domain_lines.len(), "domains");
    let mut summary = write_atomic_with(&out.join("materialize_report.jsonl"), |report| {
        worldsmith_materialize::materialize_each(
            &domain_lines,
            config,
            refiner,
            tools_of,
            |world, line| {
                if let Some(w) = world {
                    for (path, text) in &w.files {
                        write_atomic(&out.join(&w.name).join(path), text.as_bytes())?;
                    }
                }
                serde_json::to_writer(&mut *report, &line)?;
                report.write_all(b"\n").context("cannot write the output")?;
                Ok(())
            },
            &|done| bar.set_position(done as u64),
        )
    })?;
    bar.finish();
    summary.pool_tools = pool_tools;
    write_atomic(&out.join("materialize_summary.json"), &pretty_json(&summary)?)?;
    let quality = crate::tables::generated_quality(&summary);
    write_atomic(&out.join("quality.svg"), crate::charts::rates_svg("Generated-world quality", &quality)?.as_bytes())?;
    Ok((summary, errors))
}
