//! Online sampling: a failed episode's first erroneous step, found by execution, against the
//! correct next action from the state the agent was in.

use crate::judge::{Decision, Proof, prove};
use crate::offline::call_message;
use crate::path::{GoldPath, confirmed, points};
use serde::{Deserialize, Serialize};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::episode::{Episode, Message};
use worldsmith_core::prm::ErrorType;
use worldsmith_engine::manifest::Effect;

/// Why a failed episode gave no online pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoPair {
    /// No step of it is proven wrong by execution (it failed another way, e.g. the user
    /// gave up or the step limit came).
    NoErroneousStep,
    /// The correct action there is a write the user has not confirmed yet (the correct next
    /// step is a question, which the gold path does not hold).
    NeedsConfirmation,
    /// The correct action followed by the rest of the gold path does not reach the gold
    /// path's final state from there.
    NotRecoverable,
}

/// The first erroneous step of `episode` (on `path`'s task): the step, the rejected action
/// (the episode's), the chosen one (the correct next action from the same state), its
/// error type and the evidence.
pub struct Found {
    /// The index of the assistant message in the episode's messages.
    pub message: usize,
    /// The step among the agent's turns.
    pub step: usize,
    /// The correct next action.
    pub chosen: Message,
    /// What is wrong with the episode's action.
    pub error_type: ErrorType,
    /// Judge 1's evidence against the episode's action.
    pub evidence: String,
    /// Judge 1's evidence for the chosen action.
    pub support: String,
}

/// Finds the first erroneous step of `episode` (see the module documentation).
///
/// # Errors
/// Why no pair can be made of it.
pub fn first_error(path: &GoldPath<'_>, episode: &Episode) -> Result<Found, NoPair> {
    for point in points(path.world, episode) {
        let history = &episode.messages[..point.message];
        let calls = &episode.calls[..point.calls_before.min(episode.calls.len())];
        let action = &episode.messages[point.message];
        let decision = Decision { point: &point, history, calls };
        let Proof::Wrong(evidence) = prove(path, &decision, action) else { continue };
        // The correct next action from this state: the next gold call, or the final answer.
        let progress = path.progress(calls);
        let chosen = match path.task.actions.get(progress) {
            Some(gold) => {
                let write = path.world.tool(&gold.name).is_some_and(|t| t.effect() == Effect::Write);
                if write && !confirmed(history) {
                    // The correct step is the oracle's question for that write.
                    confirmation(path, progress).ok_or(NoPair::NeedsConfirmation)?
                } else {
                    call_message(point.step, &gold.name, &gold.arguments)
                }
            }
            None => match &path.final_reply {
                Some(reply) => Message::text("assistant", reply.clone()),
                None => return Err(NoPair::NoErroneousStep),
            },
        };
        if prove(path, &decision, &chosen).is_wrong() || !recovers(path, &point.session, progress) {
            return Err(NoPair::NotRecoverable);
        }
        let due = path.task.actions.get(progress);
        let error_type = classify(path, action, due, calls);
        let support = match (due, chosen.tool_calls.is_empty()) {
            (Some(_), false) => format!(
                "the next gold call, then the remaining {} reach the gold path's final state",
                path.task.actions.len() - progress - 1
            ),
            (Some(_), true) => "the gold path's request for confirmation of the write due next".to_owned(),
            (None, _) => "the gold path's final answer, every value stated and grounded".to_owned(),
        };
        return Ok(Found { message: point.message, step: point.step, chosen, error_type, evidence, support });
    }
    Err(NoPair::NoErroneousStep)
}

/// The oracle's request for confirmation before its `index`-th call: the last reply it
/// gave before the assistant message that makes that call.
fn confirmation(path: &GoldPath<'_>, index: usize) -> Option<Message> {
    let mut calls = 0;
    let mut last_reply: Option<&Message> = None;
    for m in path.oracle.messages.iter().filter(|m| m.role == "assistant") {
        if m.tool_calls.is_empty() {
            last_reply = Some(m);
            continue;
        }
        if calls == index {
            return last_reply.filter(|r| r.content.as_deref().is_some_and(|t| t.contains('?'))).cloned();
        }
        calls += m.tool_calls.len();
        last_reply = None;
    }
    None
}

/// Whether the gold calls from `progress` on, run from `session`'s state, all succeed and end
/// in the gold path's final state.
fn recovers(path: &GoldPath<'_>, session: &worldsmith_engine::Session, progress: usize) -> bool {
    let mut s = session.fork();
    path.task.actions[progress..].iter().all(|a| s.execute(&a.name, &a.arguments).is_ok())
        && s.digest() == path.final_digest
}

/// The error type of a rejected action, against the gold call due next (`due`, `None` when
/// the final answer is due).
pub(crate) fn classify(
    path: &GoldPath<'_>,
    rejected: &Message,
    due: Option<&worldsmith_core::task::Action>,
    calls: &[worldsmith_core::episode::CallOutcome],
) -> ErrorType {
    let Some(r) = rejected.tool_calls.first() else {
        return match due {
            Some(_) if rejected.content.as_deref().is_some_and(|t| t.contains('?')) => ErrorType::RedundantQuestion,
            Some(_) => ErrorType::PrematureAnswer,
            None => ErrorType::WrongAnswer,
        };
    };
    let r_args = serde_json::from_str::<serde_json::Value>(&r.function.arguments).unwrap_or_default();
    if calls.iter().any(|k| k.ok && k.name == r.function.name && json_eq(&k.arguments, &r_args)) {
        return ErrorType::RepeatedCall;
    }
    let Some(due) = due else { return ErrorType::WrongTool };
    if r.function.name != due.name {
        let later = path.task.actions.iter().any(|a| a.name == r.function.name && json_eq(&a.arguments, &r_args));
        return if later { ErrorType::OutOfOrder } else { ErrorType::WrongTool };
    }
    if json_eq(&r_args, &due.arguments) {
        // The call due, made before the user confirmed it.
        return ErrorType::UnconfirmedWrite;
    }
    let keys = |v: &serde_json::Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let (rk, dk) = (keys(&r_args), keys(&due.arguments));
    if dk.iter().any(|k| !rk.contains(k)) {
        ErrorType::MissingArgument
    } else if rk.iter().any(|k| !dk.contains(k)) {
        ErrorType::InventedArgument
    } else {
        ErrorType::WrongArgumentValue
    }
}
