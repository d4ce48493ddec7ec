//! Verification: judge episodes in layers, reward them, and measure policies.
//!
//! 1. **Validity**: the episode replays: its calls, run again on a fresh fork of the world,
//!    give the outcomes and results it recorded, every tool message shows the agent exactly
//!    what running its call gives, the assistant messages' tool calls are the recorded
//!    calls, and the final digest is the one claimed. Its turns are well formed (a user
//!    opens, every tool call is answered by one tool message, no empty assistant turn), the
//!    user ended it, and the agent does not repeat itself degenerately.
//! 2. **State alignment** (tasks with writes): the final digest equals the task's expected
//!    digest and every assertion holds. **Consistency** (tasks without writes): no call
//!    changed the state; independent reads may come in any order and redundant lookups are
//!    allowed (they cost precision, not success).
//! 3. **Answers**: every expected answer is stated, checked by value and kind (the
//!    [`answers`] checker: no substrings, no credit for refusals, dumps, negations, hedges
//!    or conflicting values), and grounded (a successful call's result holds it).
//!
//! The strict **exact call match** (the successful calls, in order, are the gold calls;
//! AgentScaler's filter where there are no writes to check) is reported for every episode
//! beside the verdict, but success does not depend on it.
//!
//! Successful episodes are kept for training, including those whose intermediate calls
//! failed (they teach recovery). Rewards ([`Rewards`]): binary success, and ASTRA's F1 over
//! sub-goals (each gold write's record ending in its expected state, each expected answer
//! stated), normalised to the gold path: with n sub-goals, n' solved, c calls made and g gold
//! calls, recall = n'/n, precision = min(1, n'g/(nc)), so the gold path scores 1; `f1_raw`
//! keeps ASTRA's precision n'/c. An invalid episode, or one that changed records the task
//! does not change, earns an F1 of 0.
//!
//! [`metrics`] turns verdicts into pass^k (mean over tasks of C(c,k)/C(n,k)) and success by
//! gold chain length, per policy and per world.

pub mod answers;
mod metrics;
mod validity;

pub use validity::{Problem, made_up_identifier};
pub use worldsmith_core::episode::Invalid;

pub use metrics::{Metrics, PolicyMetrics, Rate, WorldMetrics, mean_of, mean_rewards, metrics, pass_hat_k};

use answers::{Miss, check_answers};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use worldsmith_core::Digest;
use worldsmith_core::arena::{Arena, REWARD_FORMAT, RewardLine};
use worldsmith_core::canonical::{canonical_json, contains_scalar, json_eq};
use worldsmith_core::episode::{
    EndReason, Episode, F1Reward, Reward, Rewards, ToolCall, VERDICT_FORMAT, Verdict, observation,
};
use worldsmith_core::tally::Tally;
use worldsmith_core::task::{Assertion, ChangedRecords, TaskKind, TaskLine};
use worldsmith_engine::{Session, State, World};

/// Counts per layer over a set of episodes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VerifyStats {
    /// Episodes judged.
    pub episodes: usize,
    /// Episodes that failed layer 1, by reason.
    pub invalid: Tally<Invalid>,
    /// Episodes checked by state (layer 2), and how many passed.
    pub state_checked: usize,
    /// Of those, aligned.
    pub state_aligned: usize,
    /// Valid episodes checked by the strict exact call match (all of them), and how many
    /// matched.
    pub exact_checked: usize,
    /// Of those, matched.
    pub exact_matched: usize,
    /// Valid episodes of tasks without writes checked for consistency (no change made).
    pub consistency_checked: usize,
    /// Of those, consistent.
    pub consistent: usize,
    /// Valid, aligned or matched, but an expected answer was not stated.
    pub answers_missing: usize,
    /// Episodes kept (successful).
    pub kept: usize,
    /// Kept episodes whose successful calls are also exactly the gold calls (what the strict
    /// filter alone would keep).
    pub kept_exact: usize,
    /// Kept episodes with at least one failed call (they teach recovery).
    pub kept_with_failed_calls: usize,
    /// Episodes whose world could not be found, by world.
    pub unknown_world: BTreeMap<String, usize>,
    /// The mean of each reward, by name.
    pub mean_rewards: BTreeMap<String, f64>,
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
            stats.invalid.add(v.invalid.unwrap_or(Invalid::Turns));
            continue;
        }
        if let Some(aligned) = v.state_aligned {
            stats.state_checked += 1;
            stats.state_aligned += usize::from(aligned);
        }
        stats.exact_checked += 1;
        stats.exact_matched += usize::from(v.exact_match);
        if let Some(consistent) = v.calls_consistent {
            stats.consistency_checked += 1;
            stats.consistent += usize::from(consistent);
        }
        let layers_pass = v.state_aligned != Some(false) && v.calls_consistent != Some(false);
        if layers_pass && v.answers_stated[0] < v.answers_stated[1] {
            stats.answers_missing += 1;
        }
        if v.kept {
            stats.kept += 1;
            stats.kept_exact += usize::from(v.exact_match);
            stats.kept_with_failed_calls += usize::from(v.failed_calls > 0);
        }
    }
    stats.mean_rewards = mean_rewards(&verdicts);
    (verdicts, stats)
}

/// Judges one episode in `world` (see the crate documentation).
#[must_use]
pub fn verify(episode: &Episode, world: &World) -> Verdict {
    judge(episode, &episode.task, world, Evidence::Replay).0
}

/// How scoring learns what an episode's calls did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Run every call again on a fresh fork of the world and require the recorded outcomes,
    /// results, tool messages, changes and final digest to be what running them gives: a
    /// tampered or hand-edited episode is invalid. What `verify` always does.
    #[default]
    Replay,
    /// Trust the recorded results and `changes` (episodes this process or its own rollout
    /// produced, as an RL trainer's rewards do): no call runs again, so scoring costs a
    /// fraction of a replay. The transcript is still checked against the recorded calls,
    /// and an episode without recorded `changes` (format 1) is replayed instead.
    Recorded,
}

/// Scores an episode against an arena: the same judgement as [`verify`] with the arena's
/// [`task_line`](Arena::task_line) as the task (one implementation of every reward), and
/// the credit of each of the arena's sub-goals in their order. `evidence` says whether the
/// calls run again ([`Evidence::Replay`], as `verify`) or their recorded results are
/// trusted; for an untampered episode both give the same line.
#[must_use]
pub fn score(arena: &Arena, episode: &Episode, world: &World, evidence: Evidence) -> RewardLine {
    let (verdict, credit) = judge(episode, &arena.task_line(), world, evidence);
    RewardLine {
        arena: arena.id.clone(),
        episode: episode.id.clone(),
        format: REWARD_FORMAT,
        valid: verdict.valid,
        success: verdict.success,
        reason: verdict.reason,
        rewards: verdict.rewards,
        subgoals: credit.into_iter().map(u8::from).collect(),
    }
}

/// What scoring episodes against arenas found (the reward command's summary).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RewardStats {
    /// Episodes scored.
    pub scored: usize,
    /// Of those, successful.
    pub success: usize,
    /// Of those, invalid (layer 1).
    pub invalid: usize,
    /// Sub-goals reached and in all, over every scored episode.
    pub subgoals: [usize; 2],
    /// The mean of every reward, by name.
    pub mean_rewards: BTreeMap<String, f64>,
}

/// Scores every (arena, episode, world) triple in parallel, in input order.
#[must_use]
pub fn score_all(jobs: &[(&Arena, &Episode, &World)], evidence: Evidence) -> (Vec<RewardLine>, RewardStats) {
    let lines: Vec<RewardLine> = jobs.par_iter().map(|(a, e, w)| score(a, e, w, evidence)).collect();
    let mut stats = RewardStats { scored: lines.len(), ..RewardStats::default() };
    for l in &lines {
        stats.success += usize::from(l.success);
        stats.invalid += usize::from(!l.valid);
        stats.subgoals[0] += l.subgoals.iter().filter(|c| **c == 1).count();
        stats.subgoals[1] += l.subgoals.len();
    }
    stats.mean_rewards = mean_of(lines.iter().map(|l| &l.rewards));
    (lines, stats)
}

/// Judges `episode` against `task`; also returns each sub-goal's credit: the records of
/// `task.changed_records` in their order, then its answers.
fn judge(episode: &Episode, task: &TaskLine, world: &World, evidence: Evidence) -> (Verdict, Vec<bool>) {
    let replay = gather(episode, world, evidence);
    let validity_problem = replay.problem.clone().or_else(|| validity::problem(episode));
    let writes = task.changed_records.as_ref().is_some_and(|c| c.values().any(|r| !r.is_empty()));
    let final_state = &replay.state;
    // Records changed that the task does not expect to change (on a task without writes:
    // any change at all).
    let changes = final_state.changes();
    let collateral = changes.iter().any(|(collection, records)| {
        records.keys().any(|key| {
            task.changed_records.as_ref().and_then(|c| c.get(collection)).is_none_or(|r| !r.contains_key(key))
        })
    });
    // Without an expected digest, the records the task changes decide: each in its expected
    // final state and nothing else changed (what the digest would say).
    let records = write_subgoals(task, final_state);
    let (record_goals, records_reached) = (records.len(), records.iter().filter(|r| **r).count());
    let state_aligned = (task.expected_digest.is_some() || !task.assertions.is_empty() || writes).then(|| {
        task.expected_digest.map_or(records_reached == record_goals && !collateral, |d| d == final_state.digest())
            && task.assertions.iter().all(|a| assertion_holds(a, final_state))
    });
    let calls_consistent = (!writes).then_some(!collateral);
    let exact_match = {
        let made: Vec<(&str, &Value)> =
            episode.calls.iter().filter(|c| c.ok).map(|c| (c.name.as_str(), &c.arguments)).collect();
        made.len() == task.actions.len()
            && made.iter().zip(&task.actions).all(|((n, a), g)| *n == g.name && json_eq(a, &g.arguments))
    };
    let misses = answer_misses(episode, task, &replay.results);
    let stated = misses.iter().filter(|m| m.is_none()).count();
    let valid = validity_problem.is_none();
    let invalid = validity_problem.as_ref().map(|p| p.kind);
    let reason = if let Some(problem) = validity_problem {
        Some(format!("invalid: {problem}"))
    } else if state_aligned == Some(false) {
        Some("state: the final state differs from the expected one".to_owned())
    } else if calls_consistent == Some(false) {
        Some("calls: a task without writes changed the state".to_owned())
    } else if stated < task.answers.len() {
        let first = task.answers.iter().zip(&misses).find_map(|(a, m)| m.map(|m| (a, m)));
        let detail = first.map(|(a, m)| {
            let what = a.label.clone().unwrap_or_else(|| canonical_json(&a.value));
            format!(" (`{what}`: {})", m.describe())
        });
        Some(format!(
            "answers: {} of {} expected answers stated{}",
            stated,
            task.answers.len(),
            detail.unwrap_or_default()
        ))
    } else {
        None
    };
    let success = reason.is_none();
    let judgement = Judgement {
        episode,
        valid,
        success,
        collateral,
        subgoals: record_goals + task.answers.len(),
        solved: records_reached + stated,
        gold_calls: task.actions.len(),
    };
    let rewards = Rewards(REWARDS.iter().map(|(name, reward)| ((*name).to_owned(), reward(&judgement))).collect());
    // Like F1, no credit for a malformed transcript or a change the task did not ask for.
    let earned = valid && !collateral;
    let credit: Vec<bool> =
        records.iter().copied().chain(misses.iter().map(Option::is_none)).map(|c| c && earned).collect();
    let verdict = Verdict {
        episode: episode.id.clone(),
        format: VERDICT_FORMAT,
        task: task.id.clone(),
        world: episode.world.clone(),
        origin: episode.origin,
        policy: episode.policy.clone(),
        trial: episode.trial,
        kind: task.kind.unwrap_or(if writes { TaskKind::Write } else { TaskKind::Read }),
        chain_length: task.actions.len(),
        valid,
        invalid,
        state_aligned,
        exact_match,
        calls_consistent,
        answers_stated: [stated, task.answers.len()],
        success,
        kept: success,
        failed_calls: episode.calls.iter().filter(|c| !c.ok).count(),
        reason,
        rewards,
    };
    (verdict, credit)
}

/// What a reward sees of a judged episode.
#[derive(Debug, Clone, Copy)]
pub struct Judgement<'a> {
    /// The episode (its calls, messages and task).
    pub episode: &'a Episode,
    /// It passed layer 1 (a well-formed, re-derived transcript).
    pub valid: bool,
    /// It succeeded.
    pub success: bool,
    /// It changed records the task does not change.
    pub collateral: bool,
    /// The task's sub-goals: each record a gold write changes, each expected answer.
    pub subgoals: usize,
    /// Sub-goals reached.
    pub solved: usize,
    /// Calls on the gold path.
    pub gold_calls: usize,
}

/// A reward: a function of a judged episode.
pub type RewardFn = fn(&Judgement<'_>) -> Reward;

/// Every reward a verdict carries, by name. Adding a reward is one function and one line
/// here; verdicts, metrics, `eval` and the report pick it up by name.
pub const REWARDS: &[(&str, RewardFn)] = &[("f1", f1_of), ("success", success_of)];

/// 1 when the episode succeeded.
fn success_of(j: &Judgement<'_>) -> Reward {
    Reward::Binary(u8::from(j.success))
}

/// ASTRA's F1 normalised to the gold path; 0 for a malformed transcript or a change the
/// task did not ask for.
fn f1_of(j: &Judgement<'_>) -> Reward {
    let f1 = f1_reward(j.subgoals, j.solved, j.episode.calls.len(), j.gold_calls);
    Reward::F1(if !j.valid || j.collateral {
        F1Reward { recall: 0.0, precision: 0.0, f1: 0.0, f1_raw: 0.0, ..f1 }
    } else {
        f1
    })
}

/// ASTRA's F1 normalised to the gold path: recall = solved / sub-goals, precision =
/// `min(1, solved·gold_calls / (sub-goals·calls))`, 0 when nothing is solved; `f1_raw` uses
/// ASTRA's precision solved / calls.
#[must_use]
pub fn f1_reward(subgoals: usize, solved: usize, calls: usize, gold_calls: usize) -> F1Reward {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let recall = ratio(solved, subgoals);
    // With no sub-goals nothing can be solved; with no calls made, precision is perfect.
    let precision = if calls == 0 { 1.0 } else { ratio(solved * gold_calls.max(1), subgoals * calls).min(1.0) };
    let raw_precision = if calls == 0 { 1.0 } else { ratio(solved, calls).min(1.0) };
    let harmonic = |p: f64, r: f64| if solved == 0 || p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    F1Reward {
        subgoals,
        solved,
        calls,
        gold_calls,
        recall,
        precision,
        f1: harmonic(precision, recall),
        f1_raw: harmonic(raw_precision, recall),
    }
}

/// What the calls did: run again on a fresh fork, or as recorded.
struct Gathered<'e> {
    /// The state the calls end in.
    state: FinalState<'e>,
    /// The results of the successful calls (what an answer is grounded in).
    results: Vec<Cow<'e, Value>>,
    /// The first disagreement with what the episode recorded or showed the agent.
    problem: Option<Problem>,
}

/// The state an episode's calls end in.
enum FinalState<'e> {
    /// The calls ran again in this session.
    Replayed(Session),
    /// The world's initial state with the episode's recorded changes over it.
    Recorded { start: &'e State, changes: &'e ChangedRecords, digest: Digest },
}

impl FinalState<'_> {
    /// A record of the final state.
    fn get(&self, collection: &str, key: &str) -> Option<&Value> {
        match self {
            FinalState::Replayed(session) => session.state().get(collection, key).map(AsRef::as_ref),
            FinalState::Recorded { start, changes, .. } => {
                match changes.get(collection).and_then(|records| records.get(key)) {
                    Some(changed) => changed.as_ref(),
                    None => start.get(collection, key).map(AsRef::as_ref),
                }
            }
        }
    }

    /// The final state's digest.
    fn digest(&self) -> Digest {
        match self {
            FinalState::Replayed(session) => session.digest(),
            FinalState::Recorded { digest, .. } => *digest,
        }
    }

    /// The records changed from the world's initial state.
    fn changes(&self) -> Cow<'_, ChangedRecords> {
        match self {
            FinalState::Replayed(session) => Cow::Owned(session.changes()),
            FinalState::Recorded { changes, .. } => Cow::Borrowed(changes),
        }
    }
}

/// Finds what the episode's calls did, and checks, call by call, that the assistant
/// messages' tool calls are the recorded calls and that every tool message shows the agent
/// exactly the call's outcome. With [`Evidence::Replay`] (or when the episode records no
/// changes) the calls run again on a fresh fork, and every recorded outcome, result, change
/// and the final digest must be what running them gives.
fn gather<'e>(episode: &'e Episode, world: &'e World, evidence: Evidence) -> Gathered<'e> {
    let recorded = match (evidence, &episode.changes) {
        (Evidence::Recorded, Some(changes)) => Some(changes),
        _ => None,
    };
    let mut session = recorded.is_none().then(|| world.session());
    let mut problem: Option<Problem> = None;
    let mut note = |p: Problem| {
        if problem.is_none() {
            problem = Some(p);
        }
    };
    // The calls as the assistant messages made them, and the tool messages answering them.
    let mut shown: Vec<(&ToolCall, Option<&str>)> = Vec::new();
    for m in &episode.messages {
        if m.role == "assistant" {
            shown.extend(m.tool_calls.iter().map(|c| (c, None)));
        } else if m.role == "tool"
            && let Some(id) = &m.tool_call_id
            && let Some(slot) = shown.iter_mut().find(|(c, answer)| c.id == *id && answer.is_none())
        {
            slot.1 = Some(m.content.as_deref().unwrap_or(""));
        }
    }
    let mut results = Vec::with_capacity(episode.calls.len());
    for (i, call) in episode.calls.iter().enumerate() {
        let n = i + 1;
        if let Some((made, _)) = shown.get(i) {
            let parsed: Option<Value> = serde_json::from_str(&made.function.arguments).ok();
            let same_arguments = match &parsed {
                Some(v) => json_eq(v, &call.arguments),
                None => call.arguments.is_null(),
            };
            if made.function.name != call.name || !same_arguments {
                note(Problem::new(
                    Invalid::Replay,
                    format!("call {n} ({}) is not the call the assistant message makes", call.name),
                ));
            }
        }
        if call.arguments.is_null() {
            if call.ok {
                note(Problem::new(Invalid::Replay, format!("call {n} has no arguments but succeeded")));
            }
            continue;
        }
        let (ok, value) = match &mut session {
            None => (call.ok, Cow::Borrowed(&call.value)),
            Some(session) => match session.execute(&call.name, &call.arguments) {
                Ok(v) => (true, Cow::Owned(v)),
                Err(e) => (false, Cow::Owned(Value::String(e.to_string()))),
            },
        };
        if ok != call.ok {
            note(Problem::new(
                Invalid::Replay,
                format!("call {n} ({}) gives a different outcome when run again", call.name),
            ));
        } else if session.is_some() && !json_eq(&value, &call.value) {
            note(Problem::new(
                Invalid::Replay,
                format!("call {n} ({}) records a result other than running it gives", call.name),
            ));
        }
        if let Some((_, Some(content))) = shown.get(i)
            && *content != observation(ok, &value)
        {
            note(Problem::new(
                Invalid::Replay,
                format!("the tool message of call {n} ({}) is not what running it gives", call.name),
            ));
        }
        if ok {
            results.push(value);
        }
    }
    if shown.len() != episode.calls.len() {
        note(Problem::new(
            Invalid::Turns,
            format!("{} tool calls in the messages but {} recorded", shown.len(), episode.calls.len()),
        ));
    }
    let state = match (session, recorded) {
        (Some(session), _) => {
            if session.digest() != episode.final_digest {
                note(Problem::new(
                    Invalid::Replay,
                    format!("the calls end in {} but the episode claims {}", session.digest(), episode.final_digest),
                ));
            } else if let Some(claimed) = &episode.changes
                && *claimed != session.changes()
            {
                note(Problem::new(
                    Invalid::Replay,
                    "the changes the episode records are not the calls' changes".to_owned(),
                ));
            }
            FinalState::Replayed(session)
        }
        (None, Some(changes)) => {
            FinalState::Recorded { start: world.initial_state(), changes, digest: episode.final_digest }
        }
        (None, None) => unreachable!("a session runs whenever no changes are trusted"),
    };
    Gathered { state, results, problem }
}

/// Per expected answer: `None` when the agent stated it and it is grounded (a successful
/// call's result, as run again, holds every value), else why not.
fn answer_misses(episode: &Episode, task: &TaskLine, results: &[Cow<'_, Value>]) -> Vec<Option<Miss>> {
    if task.answers.is_empty() {
        return Vec::new();
    }
    let replies: Vec<&str> = episode
        .messages
        .iter()
        .filter(|m| m.role == "assistant")
        .filter_map(|m| m.content.as_deref())
        .filter(|c| !c.trim().is_empty())
        .collect();
    let known: Vec<Value> =
        task.scenario.as_ref().map(|s| s.known_facts.values().cloned().collect()).unwrap_or_default();
    let mut misses = check_answers(&task.answers, &known, &replies);
    for (answer, miss) in task.answers.iter().zip(&mut misses) {
        let grounded = answer.members().iter().all(|v| results.iter().any(|r| contains_scalar(r, v)));
        if miss.is_none() && !grounded {
            *miss = Some(Miss::NotStated);
        }
    }
    misses
}

/// Each record a gold write changes is a sub-goal, reached when it ends in its expected
/// state. Returns (sub-goals, reached).
fn write_subgoals(task: &TaskLine, state: &FinalState<'_>) -> Vec<bool> {
    let Some(changed) = &task.changed_records else { return Vec::new() };
    let mut reached = Vec::new();
    for (collection, records) in changed {
        for (key, expected) in records {
            let actual = state.get(collection, key);
            reached.push(match (expected, actual) {
                (None, None) => true,
                (Some(e), Some(a)) => json_eq(e, a),
                _ => false,
            });
        }
    }
    reached
}

fn assertion_holds(assertion: &Assertion, state: &FinalState<'_>) -> bool {
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

/// Whether the episode ended because the user ended it.
#[must_use]
pub fn ended_by_user(episode: &Episode) -> bool {
    episode.end == EndReason::UserStop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_is_normalised_to_the_gold_path() {
        assert_eq!(f1_reward(2, 0, 3, 3).f1, 0.0);
        // The gold path scores 1 even when it holds lookups without sub-goals.
        let gold = f1_reward(2, 2, 4, 4);
        assert!((gold.f1 - 1.0).abs() < 1e-12 && (gold.f1_raw - 2.0 / 3.0).abs() < 1e-12, "{gold:?}");
        let wasteful = f1_reward(2, 2, 8, 2);
        assert!((wasteful.precision - 0.25).abs() < 1e-12 && wasteful.f1 < 0.5);
        let partial = f1_reward(4, 1, 1, 1);
        assert!((partial.recall - 0.25).abs() < 1e-12 && (partial.f1 - 0.25).abs() < 1e-12, "{partial:?}");
        assert!((partial.f1_raw - 0.4).abs() < 1e-12, "{partial:?}");
        // Fewer calls than the gold path never lift precision above 1.
        assert!((f1_reward(2, 2, 1, 3).f1 - 1.0).abs() < 1e-12);
        assert_eq!(f1_reward(0, 0, 0, 0).f1, 0.0);
    }
}
