//! Reward-guided search: at every turn, N candidate actions are sampled from a policy, a PRM
//! scores them, and the best is taken.
//!
//! The policy is the noisy one at the level of single steps: each candidate is the oracle's
//! next action, or with probability `mistake_rate` a mistake generated from the world at
//! that state (the offline taxonomy: [`crate::offline::candidates`]). With N = 1 that is a
//! noisy agent that never notices its mistakes; more candidates give the PRM more to choose
//! from. The guide is [`Guide::Lookahead`] (judge 1 on a fork: the upper bound of a PRM) or
//! a scorer endpoint ([`crate::eval::ScorerPrm`]).

use crate::eval::ScorerPrm;
use crate::judge::{Decision, prove};
use crate::offline::{call_message, candidates};
use crate::path::{GoldPath, Point};
use serde::{Deserialize, Serialize};
use worldsmith_core::episode::{Episode, Message};
use worldsmith_core::prm::PairLine;
use worldsmith_core::rng::SplitMix64;
use worldsmith_rollout::agent::{Agent, ProposedCall, Turn};
use worldsmith_rollout::scripted::Scripted;
use worldsmith_rollout::{EpisodeRun, EpisodeSettings};

/// What scores the candidates.
pub enum Guide {
    /// Judge 1 on a fork: 1 for an action not proven wrong, 0 for one proven wrong.
    Lookahead,
    /// A reward model's endpoint.
    Scorer(Box<ScorerPrm>),
}

/// How to search.
#[derive(Debug, Clone, Copy)]
pub struct SearchConfig {
    /// Candidates per turn.
    pub candidates: usize,
    /// The chance that a candidate is a mistake.
    pub mistake_rate: f64,
    /// The seed of the sampling.
    pub seed: u64,
    /// The most agent turns.
    pub max_steps: u32,
}

/// One searched episode, and the candidate choices it made.
pub struct Searched {
    /// The episode (policy `search-n<N>`).
    pub episode: Episode,
    /// Turns at which at least one candidate was a mistake.
    pub turns_with_mistakes: usize,
    /// Of those, turns at which the guide took a mistake.
    pub mistakes_taken: usize,
    /// Scorer failures (the candidate then scores lowest).
    pub guide_failures: usize,
}

/// Runs one episode of `path`'s task with reward-guided search (see the module docs).
#[must_use]
pub fn search(path: &GoldPath<'_>, guide: &Guide, config: &SearchConfig, trial: u32) -> Searched {
    let task = path.task;
    let settings = EpisodeSettings {
        policy: format!("search-n{}", config.candidates),
        max_steps: config.max_steps,
        ..EpisodeSettings::default()
    };
    let mut run = EpisodeRun::start(path.world, task, trial, &settings);
    let mut oracle = Scripted::oracle(path.world, task);
    let label = format!("search/{}/{trial}", worldsmith_rollout::id_text(&task.id));
    let mut rng = SplitMix64::for_stream(config.seed, &label);
    let (mut turns_with_mistakes, mut mistakes_taken, mut guide_failures) = (0, 0, 0);
    while run.done().is_none() {
        let context = run.context();
        let mut probe = oracle.clone();
        let Ok(gold_turn) = probe.next(&context) else { break };
        let history = run.messages().to_vec();
        let calls = run.calls().to_vec();
        let step = history.iter().filter(|m| m.role == "assistant").count();
        let point = Point { message: history.len(), step, calls_before: calls.len(), session: run.session().fork() };
        let gold = turn_message(step, &gold_turn);
        let decision = Decision { point: &point, history: &history, calls: &calls };
        let progress = path.progress(&calls);
        let mistakes = candidates(path, &decision, progress, &gold, &mut rng);
        let mut pool: Vec<Message> = Vec::with_capacity(config.candidates.max(1));
        for _ in 0..config.candidates.max(1) {
            if !mistakes.is_empty() && rng.unit() < config.mistake_rate {
                pool.push(mistakes[crate::below(&mut rng, mistakes.len())].action.clone());
            } else {
                pool.push(gold.clone());
            }
        }
        let has_mistake = pool.iter().any(|m| *m != gold);
        let scores: Vec<f64> = pool
            .iter()
            .map(|action| match guide {
                Guide::Lookahead => {
                    if prove(path, &decision, action).is_wrong() {
                        0.0
                    } else {
                        1.0
                    }
                }
                Guide::Scorer(scorer) => {
                    let pair = pair_for(path, &history, run.tools(), action, step);
                    scorer.score(&pair, action).unwrap_or_else(|_| {
                        guide_failures += 1;
                        f64::NEG_INFINITY
                    })
                }
            })
            .collect();
        let mut best = 0;
        for (i, s) in scores.iter().enumerate() {
            if *s > scores[best] {
                best = i;
            }
        }
        let picked = &pool[best];
        turns_with_mistakes += usize::from(has_mistake);
        if *picked == gold {
            oracle = probe;
        } else {
            mistakes_taken += 1;
        }
        run.step(message_turn(picked));
    }
    Searched { episode: run.finish(), turns_with_mistakes, mistakes_taken, guide_failures }
}

/// A pair line carrying a search state, for a scorer (only `history`, `functions`, `world`
/// and `task` are read).
fn pair_for(
    path: &GoldPath<'_>,
    history: &[Message],
    tools: &[worldsmith_core::tool::FunctionTool],
    action: &Message,
    step: usize,
) -> PairLine {
    PairLine {
        id: String::new(),
        format: worldsmith_core::prm::PAIR_FORMAT,
        world: path.oracle.world.clone(),
        task: worldsmith_rollout::id_text(&path.task.id),
        step,
        source: worldsmith_core::prm::PairSource::Online,
        error_type: worldsmith_core::prm::ErrorType::WrongTool,
        history: history.to_vec(),
        functions: tools.to_vec(),
        action_chosen: action.clone(),
        action_rejected: action.clone(),
        judges: Vec::new(),
    }
}

/// An agent turn as the assistant message it becomes.
fn turn_message(step: usize, turn: &Turn) -> Message {
    match turn {
        Turn::Text(text) => Message::text("assistant", text.clone()),
        Turn::Calls(calls) => {
            let first = calls.first();
            let args = first.and_then(|c| serde_json::from_str(&c.arguments).ok()).unwrap_or_default();
            call_message(step, first.map_or("", |c| c.name.as_str()), &args)
        }
    }
}

/// An assistant message as the turn that makes it.
fn message_turn(message: &Message) -> Turn {
    if message.tool_calls.is_empty() {
        Turn::Text(message.content.clone().unwrap_or_default())
    } else {
        Turn::Calls(
            message
                .tool_calls
                .iter()
                .map(|c| ProposedCall { name: c.function.name.clone(), arguments: c.function.arguments.clone() })
                .collect(),
        )
    }
}

/// Success and F1 of searched episodes, by the number of candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    /// Candidates per turn.
    pub candidates: usize,
    /// Episodes run.
    pub episodes: usize,
    /// Of those, successful (verified).
    pub success: usize,
    /// success / episodes.
    pub success_rate: f64,
    /// The mean F1 reward.
    pub mean_f1: f64,
    /// Turns with a mistake among the candidates, and mistakes taken.
    pub turns_with_mistakes: usize,
    /// See `turns_with_mistakes`.
    pub mistakes_taken: usize,
    /// Scorer failures.
    pub guide_failures: usize,
}

/// Searches every task `trials` times with `config` and verifies the episodes: the row of
/// the report, and the episodes in task order.
#[must_use]
pub fn search_all(
    paths: &[GoldPath<'_>],
    guide: &Guide,
    config: &SearchConfig,
    trials: u32,
) -> (SearchRow, Vec<Episode>) {
    use rayon::prelude::*;
    let jobs: Vec<(usize, u32)> = (0..paths.len()).flat_map(|i| (0..trials).map(move |t| (i, t))).collect();
    let results: Vec<(Searched, worldsmith_core::episode::Verdict)> = jobs
        .par_iter()
        .map(|&(i, t)| {
            let s = search(&paths[i], guide, config, t);
            let v = worldsmith_verify::verify(&s.episode, paths[i].world);
            (s, v)
        })
        .collect();
    let mut row = SearchRow { candidates: config.candidates, ..SearchRow::default() };
    let mut f1 = 0.0;
    let mut episodes = Vec::with_capacity(results.len());
    for (s, v) in results {
        row.episodes += 1;
        row.success += usize::from(v.success);
        f1 += v.rewards.f1().map_or(0.0, |f| f.f1);
        row.turns_with_mistakes += s.turns_with_mistakes;
        row.mistakes_taken += s.mistakes_taken;
        row.guide_failures += s.guide_failures;
        episodes.push(s.episode);
    }
    if row.episodes > 0 {
        row.success_rate = row.success as f64 / row.episodes as f64;
        row.mean_f1 = f1 / row.episodes as f64;
    }
    (row, episodes)
}
