//! The step-level process-reward benchmark (ToolPRMBench's protocol, labelled by execution).
//!
//! - [`build`]: pairs of a correct and an incorrect next action at one decision, offline (a
//!   gold prefix and a mistake generated from the world: [`offline`]) and online (the first
//!   erroneous step of a failed episode: [`online`]), each label proven by execution on a
//!   fork of the world ([`judge`]: judge 1) and cross-checked against the gold step (judge 2,
//!   offline pairs);
//! - [`layout`]: the pair lines in worldsmith's, ToolPRMBench's and TRL's field names, and
//!   seeded train/test splits by task or world;
//! - [`eval`]: forced-choice accuracy of a PRM (a model, a scorer endpoint, or a built-in
//!   baseline) with position bias and 95% intervals;
//! - [`search`]: reward-guided search, a PRM choosing among sampled candidate actions.

pub mod eval;
pub mod judge;
pub mod layout;
pub mod offline;
pub mod online;
pub mod path;
pub mod search;

use judge::{Decision, Proof, prove};
use path::{GoldPath, points};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use worldsmith_core::canonical::json_eq;
use worldsmith_core::episode::{Episode, Message};
use worldsmith_core::prm::{ErrorType, Judge, JudgeVerdict, PAIR_FORMAT, PairLine, PairSource};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::tally::Tally;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;

/// A number in `0..n` (n > 0).
pub(crate) fn below(rng: &mut SplitMix64, n: usize) -> usize {
    usize::try_from(rng.below(n as u64)).unwrap_or(0)
}

/// A seeded Fisher-Yates shuffle.
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        items.swap(i, below(rng, i + 1));
    }
}

/// How to build a pair set.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// The seed of every random choice.
    pub seed: u64,
    /// The most offline pairs kept per task (0: all), chosen round-robin over error types.
    pub per_task: usize,
}

impl Default for BuildConfig {
    fn default() -> BuildConfig {
        BuildConfig { seed: 0, per_task: 8 }
    }
}

/// What building a pair set found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrmSummary {
    /// Pairs kept.
    pub pairs: usize,
    /// Kept pairs by source.
    pub by_source: BTreeMap<PairSource, usize>,
    /// Tasks whose gold path gave offline pairs.
    pub tasks: usize,
    /// Tasks skipped, by reason (`oracle_failed`: the oracle's episode does not verify;
    /// `oracle_deviates`: its calls are not the task's gold calls).
    pub tasks_skipped: BTreeMap<String, usize>,
    /// Offline mistakes generated, by error type.
    pub generated: Tally<ErrorType>,
    /// Of those, proven wrong by execution (and agreed by every judge).
    pub proven: Tally<ErrorType>,
    /// Of those, harmless when run (equivalent alternatives): discarded, never labelled.
    pub harmless: Tally<ErrorType>,
    /// Proven mistakes left out by `per_task`.
    pub capped: usize,
    /// Kept pairs by error type (offline and online).
    pub kept: Tally<ErrorType>,
    /// Failed episodes examined for online pairs.
    pub episodes_examined: usize,
    /// Failed episodes that gave no online pair, by reason.
    pub episodes_without_pair: Tally<online::NoPair>,
    /// Pairs on which a judge disagreed (dropped).
    pub judge_disagreements: usize,
    /// Model judges' answers that named neither action (not applied to their pair).
    pub judge_unanswered: usize,
    /// Judge agreement: for every pair a judge saw, how often it preferred the chosen action.
    pub agreement: BTreeMap<Judge, [usize; 2]>,
}

/// A task with its world, its verified oracle episode, and failed episodes to mine.
pub struct TaskInput<'a> {
    /// The world.
    pub world: &'a World,
    /// The task.
    pub task: &'a TaskLine,
    /// Its oracle episode (the gold path).
    pub oracle: &'a Episode,
    /// Whether the oracle episode verified successful.
    pub oracle_success: bool,
    /// Failed episodes of the task (any policy) to find online pairs in.
    pub failed: Vec<&'a Episode>,
}

/// Asks each model judge (judges 3..k: [`eval::ModelPrm`]s, the actions in a seeded random
/// order) about every pair, records its verdict, and keeps only the pairs no judge
/// disagrees with. A judge that gives no usable answer on a pair is counted
/// (`judge_unanswered`) and not applied to it, so a flaky endpoint cannot thin the set.
pub fn cross_check(
    pairs: Vec<PairLine>,
    judges: &[eval::ModelPrm],
    seed: u64,
    summary: &mut PrmSummary,
) -> Vec<PairLine> {
    if judges.is_empty() {
        return pairs;
    }
    let checked: Vec<(PairLine, usize)> = pairs
        .into_par_iter()
        .map(|mut pair| {
            let mut unanswered = 0;
            for judge in judges {
                let (chosen_first, shown) = eval::Shown::in_seeded_order(&pair, seed, "judge");
                let picked = eval::Prm::pick(judge, &shown);
                let agrees = match picked {
                    Ok(eval::Pick::First) => chosen_first,
                    Ok(eval::Pick::Second) => !chosen_first,
                    Ok(eval::Pick::Neither) | Err(_) => {
                        unanswered += 1;
                        continue;
                    }
                };
                pair.judges.push(JudgeVerdict {
                    judge: Judge::Model,
                    model: Some(judge.client.config().model.clone()),
                    agrees,
                    evidence: format!(
                        "picked the {} action, shown {}",
                        if agrees { "chosen" } else { "rejected" },
                        if chosen_first == agrees { "first" } else { "second" }
                    ),
                });
            }
            (pair, unanswered)
        })
        .collect();
    let mut kept = Vec::new();
    for (pair, unanswered) in checked {
        summary.judge_unanswered += unanswered;
        for j in pair.judges.iter().filter(|j| j.judge == Judge::Model) {
            let e = summary.agreement.entry(Judge::Model).or_default();
            e[0] += usize::from(j.agrees);
            e[1] += 1;
        }
        if pair.judges.iter().all(|j| j.agrees) {
            kept.push(pair);
        } else {
            summary.judge_disagreements += 1;
        }
    }
    recount(&kept, summary);
    kept
}

/// The counts of kept pairs, by source and error type.
fn recount(pairs: &[PairLine], summary: &mut PrmSummary) {
    summary.pairs = pairs.len();
    summary.by_source = BTreeMap::new();
    summary.kept = Tally::default();
    for p in pairs {
        *summary.by_source.entry(p.source).or_default() += 1;
        summary.kept.add(p.error_type);
    }
}

/// Builds the pairs of every task, in input order (parallel, deterministic).
#[must_use]
pub fn build(inputs: &[TaskInput<'_>], config: &BuildConfig) -> (Vec<PairLine>, PrmSummary) {
    let per_task: Vec<(Vec<PairLine>, PrmSummary)> = inputs.par_iter().map(|i| build_task(i, config)).collect();
    let mut summary = PrmSummary::default();
    let mut pairs = Vec::new();
    for (p, s) in per_task {
        pairs.extend(p);
        merge(&mut summary, s);
    }
    recount(&pairs, &mut summary);
    (pairs, summary)
}

impl PrmSummary {
    /// Adds the counts of another part of the same pair set (built in chunks).
    pub fn merge(&mut self, other: PrmSummary) {
        merge(self, other);
    }
}

fn merge(into: &mut PrmSummary, from: PrmSummary) {
    into.pairs += from.pairs;
    for (k, v) in from.by_source {
        *into.by_source.entry(k).or_default() += v;
    }
    into.kept.merge(&from.kept);
    into.tasks += from.tasks;
    for (k, v) in from.tasks_skipped {
        *into.tasks_skipped.entry(k).or_default() += v;
    }
    into.generated.merge(&from.generated);
    into.proven.merge(&from.proven);
    into.harmless.merge(&from.harmless);
    into.capped += from.capped;
    into.episodes_examined += from.episodes_examined;
    into.episodes_without_pair.merge(&from.episodes_without_pair);
    into.judge_disagreements += from.judge_disagreements;
    into.judge_unanswered += from.judge_unanswered;
    for (k, [a, n]) in from.agreement {
        let e = into.agreement.entry(k).or_default();
        e[0] += a;
        e[1] += n;
    }
}

/// The text id of a task.
fn task_id(task: &TaskLine) -> String {
    worldsmith_rollout::id_text(&task.id)
}

fn build_task(input: &TaskInput<'_>, config: &BuildConfig) -> (Vec<PairLine>, PrmSummary) {
    let mut summary = PrmSummary::default();
    let task = input.task;
    let deviates = input.oracle.calls.len() != task.actions.len()
        || input
            .oracle
            .calls
            .iter()
            .zip(&task.actions)
            .any(|(c, a)| c.name != a.name || !json_eq(&c.arguments, &a.arguments));
    let skip = if !input.oracle_success {
        Some("oracle_failed")
    } else if deviates {
        Some("oracle_deviates")
    } else {
        None
    };
    if let Some(reason) = skip {
        summary.tasks_skipped.insert(reason.to_owned(), 1);
        return (Vec::new(), summary);
    }
    let path = GoldPath::new(input.world, task, input.oracle);
    let id = task_id(task);
    let mut rng = SplitMix64::for_stream(config.seed, &format!("prm/{id}"));
    let mut proven: Vec<PairLine> = Vec::new();
    for point in points(input.world, input.oracle) {
        let history = &input.oracle.messages[..point.message];
        let calls = &input.oracle.calls[..point.calls_before];
        let gold = &input.oracle.messages[point.message];
        let decision = Decision { point: &point, history, calls };
        // The gold step itself must pass judge 1, or the point is not used.
        if prove(&path, &decision, gold).is_wrong() {
            continue;
        }
        let mut seen: BTreeMap<ErrorType, usize> = BTreeMap::new();
        for candidate in offline::candidates(&path, &decision, point.calls_before, gold, &mut rng) {
            summary.generated.add(candidate.error_type);
            let Proof::Wrong(evidence) = prove(&path, &decision, &candidate.action) else {
                summary.harmless.add(candidate.error_type);
                continue;
            };
            let exact = exact_call(gold, &candidate.action);
            let judges = vec![
                JudgeVerdict { judge: Judge::Execution, model: None, agrees: true, evidence },
                JudgeVerdict {
                    judge: Judge::ExactCall,
                    model: None,
                    agrees: exact,
                    evidence: if exact {
                        "the chosen action is the gold step; the rejected one is not".to_owned()
                    } else {
                        "the rejected action is the gold step".to_owned()
                    },
                },
            ];
            for j in &judges {
                let e = summary.agreement.entry(j.judge).or_default();
                e[0] += usize::from(j.agrees);
                e[1] += 1;
            }
            if !exact {
                summary.judge_disagreements += 1;
                continue;
            }
            summary.proven.add(candidate.error_type);
            let n = seen.entry(candidate.error_type).or_default();
            let suffix = if *n == 0 { String::new() } else { format!("/{n}") };
            *n += 1;
            proven.push(PairLine {
                id: format!("{id}/offline/{}/{}{suffix}", point.step, candidate.error_type),
                format: PAIR_FORMAT,
                world: input.oracle.world.clone(),
                task: id.clone(),
                step: point.step,
                source: PairSource::Offline,
                error_type: candidate.error_type,
                history: history.to_vec(),
                functions: input.oracle.tools.clone(),
                action_chosen: gold.clone(),
                action_rejected: candidate.action,
                judges,
            });
        }
    }
    summary.tasks = 1;
    let kept = cap(proven, config.per_task, &mut rng);
    summary.capped = summary.proven.total() - kept.len();
    let mut pairs = kept;
    for episode in &input.failed {
        summary.episodes_examined += 1;
        match online::first_error(&path, episode) {
            Err(reason) => summary.episodes_without_pair.add(reason),
            Ok(found) => {
                let judges = vec![JudgeVerdict {
                    judge: Judge::Execution,
                    model: None,
                    agrees: true,
                    evidence: format!("{}; chosen: {}", found.evidence, found.support),
                }];
                let e = summary.agreement.entry(Judge::Execution).or_default();
                e[0] += 1;
                e[1] += 1;
                pairs.push(PairLine {
                    id: format!("{}/online/{}", episode.id, found.step),
                    format: PAIR_FORMAT,
                    world: episode.world.clone(),
                    task: id.clone(),
                    step: found.step,
                    source: PairSource::Online,
                    error_type: found.error_type,
                    history: episode.messages[..found.message].to_vec(),
                    functions: episode.tools.clone(),
                    action_chosen: found.chosen,
                    action_rejected: episode.messages[found.message].clone(),
                    judges,
                });
            }
        }
    }
    (pairs, summary)
}

/// Whether the rejected action differs from the gold step (judge 2: exact-call comparison).
fn exact_call(gold: &Message, rejected: &Message) -> bool {
    let call = |m: &Message| -> Vec<(String, serde_json::Value)> {
        m.tool_calls
            .iter()
            .map(|c| (c.function.name.clone(), serde_json::from_str(&c.function.arguments).unwrap_or_default()))
            .collect()
    };
    let (g, r) = (call(gold), call(rejected));
    let same_calls = g.len() == r.len() && g.iter().zip(&r).all(|(a, b)| a.0 == b.0 && json_eq(&a.1, &b.1));
    !(same_calls && gold.content.as_deref().unwrap_or("") == rejected.content.as_deref().unwrap_or(""))
}

/// At most `per_task` pairs (0: all), round-robin over error types in a seeded order, so a
/// capped task keeps every kind of mistake it has; the kept pairs stay in step order.
fn cap(pairs: Vec<PairLine>, per_task: usize, rng: &mut SplitMix64) -> Vec<PairLine> {
    if per_task == 0 || pairs.len() <= per_task {
        return pairs;
    }
    let mut by_type: BTreeMap<ErrorType, Vec<usize>> = BTreeMap::new();
    for (i, p) in pairs.iter().enumerate() {
        by_type.entry(p.error_type).or_default().push(i);
    }
    let mut queues: Vec<Vec<usize>> = by_type.into_values().collect();
    for q in &mut queues {
        shuffle(q, rng);
    }
    shuffle(&mut queues, rng);
    let mut chosen = Vec::new();
    'fill: loop {
        let mut any = false;
        for q in &mut queues {
            if let Some(i) = q.pop() {
                chosen.push(i);
                any = true;
                if chosen.len() == per_task {
                    break 'fill;
                }
            }
        }
        if !any {
            break;
        }
    }
    chosen.sort_unstable();
    let mut slots: Vec<Option<PairLine>> = pairs.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| slots[i].take()).collect()
}
