//! Judge 1: execution. An action is proven wrong at a decision point when, run on a fork of
//! the state there, it fails, changes the state away from every state the gold path passes
//! through, repeats a call already made, calls a tool the task never needs, writes without
//! the user's confirmation, or misses what the task needs from the step; a reply is wrong
//! when it asks for a fact the user gave, answers before the work is done, or states a
//! wrong value. Anything else is harmless (an equivalent alternative), never labelled
//! rejected.

use crate::path::{GoldPath, Point, confirmed};
use serde_json::Value;
use worldsmith_core::canonical::{contains_scalar, json_eq};
use worldsmith_core::episode::{CallOutcome, Message};
use worldsmith_core::prose::plain;
use worldsmith_engine::manifest::Effect;
use worldsmith_verify::answers::check_answers;
use worldsmith_verify::made_up_identifier;

/// What running an action at a decision point showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The action is wrong; the evidence in words.
    Wrong(String),
    /// Nothing shows it wrong (an equivalent alternative, or a correct action).
    Harmless,
}

impl Proof {
    /// Whether the action was proven wrong.
    #[must_use]
    pub fn is_wrong(&self) -> bool {
        matches!(self, Proof::Wrong(_))
    }
}

/// Where a decision is taken: the point, the conversation before it and the calls made.
pub struct Decision<'p> {
    /// The state and position.
    pub point: &'p Point,
    /// The conversation before the decision.
    pub history: &'p [Message],
    /// The calls made before it, with their outcomes.
    pub calls: &'p [CallOutcome],
}

/// Judges `action` (an assistant message) taken at `decision` on `path`'s task.
#[must_use]
pub fn prove(path: &GoldPath<'_>, decision: &Decision<'_>, action: &Message) -> Proof {
    if action.tool_calls.is_empty() {
        return prove_reply(path, decision, action.content.as_deref().unwrap_or(""));
    }
    // Several calls in one turn run one after another; the first that is wrong decides.
    let mut session = decision.point.session.fork();
    let mut calls = decision.calls.to_vec();
    for call in &action.tool_calls {
        let progress = path.progress(&calls);
        let arguments: Value = match serde_json::from_str(&call.function.arguments) {
            Ok(v) => v,
            Err(e) => return Proof::Wrong(format!("the arguments of `{}` are not JSON: {e}", call.function.name)),
        };
        let name = call.function.name.as_str();
        let before = session.digest();
        let result = match session.execute(name, &arguments) {
            Err(e) => return Proof::Wrong(format!("the call `{name}` fails: {e}")),
            Ok(v) => v,
        };
        let after = session.digest();
        if let Some(id) = made_up_identifier(decision.history, &arguments) {
            return Proof::Wrong(format!("`{name}` uses `{id}`, which nothing in the conversation gave: a guess"));
        }
        if let Some(k) = calls.iter().position(|c| c.ok && c.name == name && json_eq(&c.arguments, &arguments)) {
            return Proof::Wrong(format!("`{name}` repeats call {} with the same arguments", k + 1));
        }
        if !path.names.contains(name) {
            return Proof::Wrong(format!("the task never needs `{name}`"));
        }
        let write = path.world.tool(name).is_some_and(|t| t.effect() == Effect::Write);
        if write && after != before && !confirmed(decision.history) {
            return Proof::Wrong(format!(
                "`{name}` changes records without the user's confirmation, which the world's rules require"
            ));
        }
        // A gold call still to make, taken now: the next one is the gold step; a later one is
        // wrong only when the rest of the gold path can no longer reach the expected state
        // from here (independent steps may come in any order).
        let pending = path.task.actions[progress.min(path.task.actions.len())..]
            .iter()
            .position(|a| a.name == name && json_eq(&a.arguments, &arguments))
            .map(|k| progress + k);
        match pending {
            Some(j) if j > progress => {
                let mut rest = session.fork();
                let completes = path.task.actions[progress..]
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| progress + k != j)
                    .all(|(_, a)| rest.execute(&a.name, &a.arguments).is_ok())
                    && rest.digest() == path.final_digest;
                if !completes {
                    return Proof::Wrong(format!(
                        "`{name}` comes too early: after it, the rest of the gold path no longer reaches the expected state"
                    ));
                }
            }
            Some(_) => {}
            None => {
                if after != before && !path.digests.contains(&after) {
                    return Proof::Wrong(format!(
                        "`{name}` changes the state away from every state of the gold path (from {before} to {after})"
                    ));
                }
                // A step of the gold path gives values the rest of the task needs; a call
                // in its place that gives none of them leaves the task stuck.
                if after == before && progress < path.task.actions.len() {
                    let needed = path.needed(progress);
                    if let Some(missing) = needed.iter().find(|v| !contains_scalar(&result, v)) {
                        return Proof::Wrong(format!(
                            "`{name}` does not give {}, which the task needs next",
                            plain(missing)
                        ));
                    }
                }
            }
        }
        calls.push(CallOutcome { name: name.to_owned(), arguments, ok: true, value: result, wrote: after != before });
    }
    Proof::Harmless
}

/// Judges a reply (an assistant message without tool calls).
fn prove_reply(path: &GoldPath<'_>, decision: &Decision<'_>, text: &str) -> Proof {
    let lower = text.to_lowercase();
    let said_by_user = |value: &Value| {
        let spoken = plain(value).to_lowercase();
        decision
            .history
            .iter()
            .filter(|m| m.role == "user")
            .any(|m| m.content.as_deref().is_some_and(|c| c.to_lowercase().contains(&spoken)))
    };
    if lower.contains('?') {
        let facts = path.task.scenario.iter().flat_map(|s| s.known_facts.iter());
        for (name, value) in facts {
            // Asking for it: naming the fact without its value (a confirmation that states
            // the value is no question for it).
            let asks =
                lower.contains(&name.replace('_', " ").to_lowercase()) && !lower.contains(&plain(value).to_lowercase());
            if asks && said_by_user(value) {
                return Proof::Wrong(format!("asks for the {}, which the user already gave", name.replace('_', " ")));
            }
        }
        return Proof::Harmless;
    }
    // A statement ends the conversation (the user takes it as the final answer), so before
    // the work is done it gives the task up.
    let remaining = path.task.actions.len().saturating_sub(path.progress(decision.calls));
    let done = decision.point.session.digest() == path.final_digest && remaining == 0;
    if !done {
        if remaining > 0 {
            return Proof::Wrong(format!(
                "answers before the work is done: {remaining} of {} gold calls still to make",
                path.task.actions.len()
            ));
        }
        return Proof::Wrong("answers while the records are not yet in their expected state".to_owned());
    }
    if done && !path.task.answers.is_empty() {
        let known: Vec<Value> =
            path.task.scenario.as_ref().map(|s| s.known_facts.values().cloned().collect()).unwrap_or_default();
        let misses = check_answers(&path.task.answers, &known, &[text]);
        if let Some((answer, miss)) = path.task.answers.iter().zip(&misses).find_map(|(a, m)| m.map(|m| (a, m))) {
            let what = answer.label.clone().unwrap_or_else(|| plain(&answer.value));
            return Proof::Wrong(format!("the reply does not state the {what} correctly ({})", miss.describe()));
        }
    }
    Proof::Harmless
}
