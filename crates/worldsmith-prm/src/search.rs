//! Reward-guided search: at every turn, N candidate actions are sampled from a policy, a PRM
//! scores them, and the best is taken.
//!
//! The policy ([`Proposer`]) is the noisy one at the level of single steps (each candidate is
//! the oracle's next action, or with probability `mistake_rate` a mistake generated from the
//! world at that state: the offline taxonomy, [`crate::offline::candidates`]), or a model
//! behind an OpenAI-compatible endpoint sampled N times at the state. With N = 1 that is an
//! agent that never notices its mistakes; more candidates give the PRM more to choose from.
//! The guide is [`Guide::Lookahead`] (judge 1 on a fork: the upper bound of a PRM) or a
//! scorer endpoint ([`crate::eval::ScorerPrm`]). Every candidate is also judged by execution,
//! whatever the guide, so the report can say how often a wrong one was on offer and taken.

use crate::eval::ScorerPrm;
use crate::judge::{Decision, prove};
use crate::offline::candidates;
use crate::path::{GoldPath, Point};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use worldsmith_core::episode::{Episode, FunctionCall, Message, ToolCall};
use worldsmith_core::rng::SplitMix64;
use worldsmith_rollout::agent::{Agent, ProposedCall, Turn};
use worldsmith_rollout::openai::{OpenAiAgent, OpenAiConfig};
use worldsmith_rollout::scripted::Scripted;
use worldsmith_rollout::{EpisodeRun, EpisodeSettings};

/// What scores the candidates.
pub enum Guide {
    /// Judge 1 on a fork: 1 for an action not proven wrong, 0 for one proven wrong.
    Lookahead,
    /// A reward model's endpoint.
    Scorer(Box<ScorerPrm>),
}

/// Where the candidates come from.
#[derive(Debug, Clone)]
pub enum Proposer {
    /// The oracle's next action, or with probability `mistake_rate` a mistake generated
    /// from the world at that state. Repeatable for a seed.
    Noisy {
        /// The chance that a candidate is a mistake.
        mistake_rate: f64,
    },
    /// A model behind an OpenAI-compatible endpoint: N choices per state (one request with
    /// `n`, topped up by single requests where a server returns fewer). Set a temperature
    /// above 0, or the candidates are N copies of one answer.
    OpenAi(OpenAiConfig),
}

impl Proposer {
    /// The policy's name in the report: `noisy` or `openai:<model>`.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Proposer::Noisy { .. } => "noisy".to_owned(),
            Proposer::OpenAi(config) => format!("openai:{}", config.model),
        }
    }
}

/// How to search.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// Candidates per turn.
    pub candidates: usize,
    /// Where they come from.
    pub proposer: Proposer,
    /// The seed of the sampling (sent to an endpoint as the request's `seed`).
    pub seed: u64,
    /// The most agent turns.
    pub max_steps: u32,
}

/// One searched episode, and the candidate choices it made.
pub struct Searched {
    /// The episode (policy `search-n<N>`).
    pub episode: Episode,
    /// Turns at which at least one candidate was proven wrong by execution.
    pub turns_with_mistakes: usize,
    /// Of those, turns at which the guide took a wrong one.
    pub mistakes_taken: usize,
    /// Scorer failures (the candidate then scores lowest).
    pub guide_failures: usize,
    /// Whether the policy's endpoint failed (the episode then ends there, failed).
    pub policy_failed: bool,
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
    let mut model = match &config.proposer {
        Proposer::OpenAi(chat) => {
            let timeout = chat.request_timeout.saturating_mul(config.max_steps.max(1)) + Duration::from_secs(1);
            Some(OpenAiAgent::new(chat, rng.next_u64(), timeout))
        }
        Proposer::Noisy { .. } => None,
    };
    let mistake_rate = match &config.proposer {
        Proposer::Noisy { mistake_rate } => *mistake_rate,
        Proposer::OpenAi(_) => 0.0,
    };
    let (mut turns_with_mistakes, mut mistakes_taken, mut guide_failures, mut policy_failed) = (0, 0, 0, false);
    let n = config.candidates.max(1);
    while run.done().is_none() {
        let context = run.context();
        let history = run.messages().to_vec();
        let calls = run.calls().to_vec();
        let step = history.iter().filter(|m| m.role == "assistant").count();
        let point = Point { message: history.len(), step, calls_before: calls.len(), session: run.session().fork() };
        let decision = Decision { point: &point, history: &history, calls: &calls };
        // The candidates, and for the noisy policy the oracle as it would be after its turn.
        let (pool, gold) = if let Some(agent) = model.as_mut() {
            match agent.sample(&context, n) {
                Ok(turns) => (turns.iter().map(|t| turn_message(step, t)).collect(), None),
                Err(e) => {
                    policy_failed = true;
                    run.fail(&e);
                    break;
                }
            }
        } else {
            let mut probe = oracle.clone();
            let Ok(gold_turn) = probe.next(&context) else { break };
            let gold = turn_message(step, &gold_turn);
            let mistakes = candidates(path, &decision, path.progress(&calls), &gold, &mut rng);
            let mut pool: Vec<Message> = Vec::with_capacity(n);
            for _ in 0..n {
                if !mistakes.is_empty() && rng.unit() < mistake_rate {
                    pool.push(mistakes[crate::below(&mut rng, mistakes.len())].action.clone());
                } else {
                    pool.push(gold.clone());
                }
            }
            (pool, Some((gold, probe)))
        };
        // Judge 1 on every distinct candidate: the lookahead's score, and the report's counts.
        let mut wrong: Vec<bool> = Vec::with_capacity(pool.len());
        for (i, action) in pool.iter().enumerate() {
            let seen = pool[..i].iter().position(|earlier| earlier == action);
            wrong.push(match seen {
                Some(j) => wrong[j],
                None => prove(path, &decision, action).is_wrong(),
            });
        }
        let scores: Vec<f64> = pool
            .iter()
            .zip(&wrong)
            .map(|(action, &is_wrong)| match guide {
                Guide::Lookahead => {
                    if is_wrong {
                        0.0
                    } else {
                        1.0
                    }
                }
                Guide::Scorer(scorer) => scorer.score(&history, run.tools(), action).unwrap_or_else(|_| {
                    guide_failures += 1;
                    f64::NEG_INFINITY
                }),
            })
            .collect();
        let mut best = 0;
        for (i, s) in scores.iter().enumerate() {
            if *s > scores[best] {
                best = i;
            }
        }
        turns_with_mistakes += usize::from(wrong.iter().any(|w| *w));
        mistakes_taken += usize::from(wrong[best]);
        let picked = &pool[best];
        if let Some((gold, probe)) = gold
            && *picked == gold
        {
            oracle = probe;
        }
        run.step(message_turn(picked));
    }
    Searched { episode: run.finish(), turns_with_mistakes, mistakes_taken, guide_failures, policy_failed }
}

/// An agent turn as the assistant message it becomes (arguments that parse as JSON written
/// compactly, others kept as the model wrote them).
fn turn_message(step: usize, turn: &Turn) -> Message {
    match turn {
        Turn::Text(text) => Message::text("assistant", text.clone()),
        Turn::Calls(calls) => Message::calls(
            calls
                .iter()
                .enumerate()
                .map(|(k, c)| ToolCall {
                    id: format!("call_{step}_{k}"),
                    kind: worldsmith_core::tool::ToolType::Function,
                    function: FunctionCall {
                        name: c.name.clone(),
                        arguments: serde_json::from_str::<serde_json::Value>(&c.arguments)
                            .map_or_else(|_| c.arguments.clone(), |v| v.to_string()),
                    },
                })
                .collect(),
        ),
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
    /// Episodes ended by the policy's endpoint failing (counted as failed episodes).
    #[serde(default)]
    pub policy_failures: usize,
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
        row.policy_failures += usize::from(s.policy_failed);
        episodes.push(s.episode);
    }
    if row.episodes > 0 {
        row.success_rate = row.success as f64 / row.episodes as f64;
        row.mean_f1 = f1 / row.episodes as f64;
    }
    (row, episodes)
}
