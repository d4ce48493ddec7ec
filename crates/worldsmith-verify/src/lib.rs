//! Verification: judge episodes in three layers, reward them, and measure policies.
//!
//! 1. **Validity**: the episode replays (its calls, run again on a fresh fork of the world,
//!    give the same outcomes and final digest it claims), its turns are well formed (a user
//!    opens, every tool call is answered by one tool message, no empty assistant turn), the
//!    user ended it, and the agent does not repeat itself degenerately.
//! 2. **State alignment**: the final digest equals the task's expected digest and every
//!    assertion holds.
//! 3. **Exact call match**, for tasks without writes: the successful calls, in order, are
//!    the gold calls (failed calls are ignored, so recovered mistakes pass).
//!
//! An episode succeeds when it passes the layers that apply and states every expected
//! answer; successful episodes are kept for training, including those whose intermediate
//! calls failed. Rewards: binary, and ASTRA's F1 over sub-goals (each gold write's record
//! ending in its expected state, each expected answer stated): recall = solved / sub-goals,
//! precision = solved / calls made.
//!
//! [`metrics`] turns verdicts into pass^k (mean over tasks of C(c,k)/C(n,k)) and success by
//! gold chain length, per policy and per world.

mod metrics;
mod validity;

pub use metrics::{Metrics, PolicyMetrics, Rate, WorldMetrics, metrics, pass_hat_k};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use worldsmith_core::canonical::{canonical_json, json_eq};
use worldsmith_core::episode::{EndReason, Episode, F1Reward, Verdict};
use worldsmith_core::task::{Assertion, TaskLine};
use worldsmith_engine::{State, World};

/// Counts per layer over a set of episodes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VerifyStats {
    /// Episodes judged.
    pub episodes: usize,
    /// Episodes that failed layer 1, by reason.
    pub invalid: BTreeMap<String, usize>,
    /// Episodes checked by state (layer 2), and how many passed.
    pub state_checked: usize,
    /// Of those, aligned.
    pub state_aligned: usize,
    /// Episodes checked by exact call match (layer 3), and how many passed.
    pub exact_checked: usize,
    /// Of those, matched.
    pub exact_matched: usize,
    /// Valid, aligned or matched, but an expected answer was not stated.
    pub answers_missing: usize,
    /// Episodes kept (successful).
    pub kept: usize,
    /// Kept episodes with at least one failed call (they teach recovery).
    pub kept_with_failed_calls: usize,
    /// Episodes whose world could not be found, by world.
    pub unknown_world: BTreeMap<String, usize>,
    /// The mean F1 reward.
    pub mean_f1: f64,
}

/// Judges every episode whose world `world_of` finds, in input order.
pub fn verify_all<'w>(
    episodes: &[Episode],
    world_of: impl Fn(&str) -> Option<&'w World> + Sync,
) -> (Vec<Verdict>, VerifyStats) {
    let judged: Vec<Result<Verdict, String>> =
        episodes.par_iter().map(|e| world_of(&e.world).map(|w| verify(e, w)).ok_or_else(|| e.world.clone())).collect();
    let mut stats = VerifyStats::default();
    let mut verdicts = Vec::new();
    for v in judged {
        match v {
            Ok(v) => verdicts.push(v),
            Err(world) => *stats.unknown_world.entry(world).or_default() += 1,
        }
    }
    for v in &verdicts {
        stats.episodes += 1;
        if !v.valid {
            let reason = v.reason.as_deref().unwrap_or("invalid");
            // "invalid: turns: ..." is counted under "turns".
            let category = reason.strip_prefix("invalid: ").unwrap_or(reason);
            *stats.invalid.entry(category.split(':').next().unwrap_or(category).to_owned()).or_default() += 1;
            continue;
        }
        if let Some(aligned) = v.state_aligned {
            stats.state_checked += 1;
            stats.state_aligned += usize::from(aligned);
        }
        if let Some(matched) = v.exact_match {
            stats.exact_checked += 1;
            stats.exact_matched += usize::from(matched);
        }
        let layers_pass = v.state_aligned != Some(false) && v.exact_match != Some(false);
        if layers_pass && v.answers_stated[0] < v.answers_stated[1] {
            stats.answers_missing += 1;
        }
        if v.kept {
            stats.kept += 1;
            stats.kept_with_failed_calls += usize::from(v.failed_calls > 0);
        }
    }
    if !verdicts.is_empty() {
        stats.mean_f1 = verdicts.iter().map(|v| v.f1.f1).sum::<f64>() / verdicts.len() as f64;
    }
    (verdicts, stats)
}

/// Judges one episode in `world` (see the crate documentation).
#[must_use]
pub fn verify(episode: &Episode, world: &World) -> Verdict {
    let task = &episode.task;
    let (final_state, replay_problem) = replay_calls(episode, world);
    let validity_problem = replay_problem.or_else(|| validity::problem(episode));
    let writes = task.changed_records.as_ref().is_some_and(|c| c.values().any(|r| !r.is_empty()));
    let state_aligned = (task.expected_digest.is_some() || !task.assertions.is_empty()).then(|| {
        task.expected_digest.is_none_or(|d| d == final_state.digest())
            && task.assertions.iter().all(|a| assertion_holds(a, &final_state))
    });
    let exact_match = (!writes).then(|| {
        let made: Vec<(&str, &Value)> =
            episode.calls.iter().filter(|c| c.ok).map(|c| (c.name.as_str(), &c.arguments)).collect();
        made.len() == task.actions.len()
            && made.iter().zip(&task.actions).all(|((n, a), g)| *n == g.name && json_eq(a, &g.arguments))
    });
    let said = assistant_text(episode);
    let stated = task.answers.iter().filter(|a| is_stated(a, &said)).count();
    let valid = validity_problem.is_none();
    let reason = if let Some(problem) = validity_problem {
        Some(format!("invalid: {problem}"))
    } else if state_aligned == Some(false) {
        Some("state: the final state differs from the expected one".to_owned())
    } else if exact_match == Some(false) {
        Some("calls: the successful calls differ from the gold calls".to_owned())
    } else if stated < task.answers.len() {
        Some(format!("answers: {} of {} expected answers stated", stated, task.answers.len()))
    } else {
        None
    };
    let success = reason.is_none();
    let (record_goals, records_reached) = write_subgoals(task, &final_state);
    Verdict {
        episode: episode.id.clone(),
        task: task.id.clone(),
        world: episode.world.clone(),
        origin: episode.origin.clone(),
        policy: episode.policy.clone(),
        trial: episode.trial,
        kind: task.kind.clone().unwrap_or_else(|| if writes { "write" } else { "read" }.to_owned()),
        chain_length: task.actions.len(),
        valid,
        state_aligned,
        exact_match,
        answers_stated: [stated, task.answers.len()],
        success,
        kept: success,
        failed_calls: episode.calls.iter().filter(|c| !c.ok).count(),
        reason,
        reward: if success { 1.0 } else { 0.0 },
        f1: f1_reward(record_goals + task.answers.len(), records_reached + stated, episode.calls.len()),
    }
}

/// ASTRA's F1: recall = solved / sub-goals, precision = solved / calls, 0 when nothing is
/// solved.
#[must_use]
pub fn f1_reward(subgoals: usize, solved: usize, calls: usize) -> F1Reward {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let recall = ratio(solved, subgoals);
    let precision = ratio(solved, calls).min(1.0);
    let f1 =
        if solved == 0 || precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    F1Reward { subgoals, solved, calls, recall, precision, f1 }
}

/// Runs the episode's calls again on a fresh fork; returns the final state and the first
/// disagreement with what the episode recorded.
fn replay_calls(episode: &Episode, world: &World) -> (State, Option<String>) {
    let mut session = world.session();
    let mut problem = None;
    for (i, call) in episode.calls.iter().enumerate() {
        if call.arguments.is_null() {
            if call.ok && problem.is_none() {
                problem = Some(format!("replay: call {} has no arguments but succeeded", i + 1));
            }
            continue;
        }
        let ok = session.execute(&call.name, &call.arguments).is_ok();
        if ok != call.ok && problem.is_none() {
            problem = Some(format!("replay: call {} ({}) gives a different outcome when run again", i + 1, call.name));
        }
    }
    if problem.is_none() && session.digest() != episode.final_digest {
        problem = Some(format!(
            "replay: the calls end in {} but the episode claims {}",
            session.digest(),
            episode.final_digest
        ));
    }
    (session.state().clone(), problem)
}

/// Each record a gold write changes is a sub-goal, reached when it ends in its expected
/// state. Returns (sub-goals, reached).
fn write_subgoals(task: &TaskLine, state: &State) -> (usize, usize) {
    let Some(changed) = &task.changed_records else { return (0, 0) };
    let mut goals = 0;
    let mut reached = 0;
    for (collection, records) in changed {
        for (key, expected) in records {
            goals += 1;
            let actual = state.get(collection, key);
            let ok = match (expected, actual) {
                (None, None) => true,
                (Some(e), Some(a)) => json_eq(e, a),
                _ => false,
            };
            reached += usize::from(ok);
        }
    }
    (goals, reached)
}

fn assertion_holds(assertion: &Assertion, state: &State) -> bool {
    match state.get(&assertion.collection, &assertion.key) {
        None => !assertion.exists,
        Some(record) => {
            assertion.exists
                && assertion
                    .equals
                    .as_ref()
                    .is_none_or(|want| record.pointer(&assertion.pointer).is_some_and(|got| json_eq(got, want)))
        }
    }
}

/// Everything the agent said to the user, lower-cased.
fn assistant_text(episode: &Episode) -> String {
    let mut text = String::new();
    for m in &episode.messages {
        if m.role == "assistant"
            && let Some(c) = &m.content
        {
            text.push_str(&c.to_lowercase());
            text.push('\n');
        }
    }
    text
}

/// Whether an expected answer appears in what the agent said: strings case-insensitively,
/// numbers by their shortest form (`3.0` is stated as `3`) or with two decimals (money).
fn is_stated(answer: &Value, said_lower: &str) -> bool {
    match answer {
        Value::String(s) => said_lower.contains(&s.to_lowercase()),
        Value::Number(n) => {
            let shortest = canonical_json(answer);
            said_lower.contains(&shortest) || n.as_f64().is_some_and(|f| said_lower.contains(&format!("{f:.2}")))
        }
        Value::Bool(b) => said_lower.contains(if *b { "yes" } else { "no" }) || said_lower.contains(&b.to_string()),
        Value::Null => true,
        other => said_lower.contains(&canonical_json(other).to_lowercase()),
    }
}

/// Whether the episode ended because the user ended it.
#[must_use]
pub fn ended_by_user(episode: &Episode) -> bool {
    episode.end == EndReason::UserStop
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn f1_balances_completion_and_efficiency() {
        assert_eq!(f1_reward(2, 0, 3).f1, 0.0);
        let perfect = f1_reward(2, 2, 2);
        assert!((perfect.f1 - 1.0).abs() < 1e-12);
        let wasteful = f1_reward(2, 2, 8);
        assert!((wasteful.precision - 0.25).abs() < 1e-12 && wasteful.f1 < 0.5);
        let partial = f1_reward(4, 1, 1);
        assert!((partial.recall - 0.25).abs() < 1e-12 && (partial.f1 - 0.4).abs() < 1e-12);
        assert_eq!(f1_reward(0, 0, 0).f1, 0.0);
    }

    #[test]
    fn answers_are_found_by_value() {
        let said = "your balance is 58.16 and the status is delivered; 3 items".to_owned();
        assert!(is_stated(&json!(58.16), &said));
        assert!(is_stated(&json!(3.0), &said));
        assert!(is_stated(&json!("Delivered"), &said));
        assert!(!is_stated(&json!("cancelled"), &said));
        assert!(is_stated(&json!(12.5), "it costs $12.50"));
    }
}
