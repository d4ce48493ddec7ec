//! The gold path of a task (its verified oracle episode) and the decision points of an
//! episode: where the agent took a turn, with the state it took it in.

use std::collections::{BTreeSet, HashSet};
use worldsmith_core::Digest;
use worldsmith_core::canonical::{contains_scalar, json_eq};
use worldsmith_core::episode::{CallOutcome, Episode, Message};
use worldsmith_core::task::TaskLine;
use worldsmith_engine::{Session, World};

/// A task's gold path: the oracle's episode, verified successful, and what execution along
/// it showed.
pub struct GoldPath<'a> {
    /// The world.
    pub world: &'a World,
    /// The task.
    pub task: &'a TaskLine,
    /// The oracle's episode (its calls are the task's gold calls).
    pub oracle: &'a Episode,
    /// Every state the gold path passes through, the initial one included.
    pub digests: HashSet<Digest>,
    /// The tools the gold path calls.
    pub names: BTreeSet<String>,
    /// The state the gold path ends in.
    pub final_digest: Digest,
    /// The oracle's final reply (the answers stated), when it has one.
    pub final_reply: Option<String>,
}

impl<'a> GoldPath<'a> {
    /// The gold path of `task`, from its oracle episode (which the caller has verified).
    #[must_use]
    pub fn new(world: &'a World, task: &'a TaskLine, oracle: &'a Episode) -> GoldPath<'a> {
        let mut session = world.session();
        let mut digests = HashSet::from([session.digest()]);
        for call in &oracle.calls {
            if !call.arguments.is_null() {
                let _ = session.execute(&call.name, &call.arguments);
            }
            digests.insert(session.digest());
        }
        let final_reply = oracle
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "assistant" && m.tool_calls.is_empty())
            .and_then(|m| m.content.clone());
        GoldPath {
            world,
            task,
            oracle,
            digests,
            names: task.actions.iter().map(|a| a.name.clone()).collect(),
            final_digest: session.digest(),
            final_reply,
        }
    }

    /// The values the `index`-th gold call's result gives that the rest of the task needs:
    /// arguments of later gold calls and expected answers.
    #[must_use]
    pub fn needed(&self, index: usize) -> Vec<&serde_json::Value> {
        let Some(result) = self.oracle.calls.get(index).filter(|c| c.ok).map(|c| &c.value) else {
            return Vec::new();
        };
        let mut needed: Vec<&serde_json::Value> = Vec::new();
        let later = self.task.actions.iter().skip(index + 1).flat_map(|a| scalars(&a.arguments));
        let answers = self.task.answers.iter().flat_map(|a| a.members());
        for value in later.chain(answers) {
            let trivial = matches!(value, serde_json::Value::Bool(_) | serde_json::Value::Null);
            if !trivial && contains_scalar(result, value) && !needed.iter().any(|n| json_eq(n, value)) {
                needed.push(value);
            }
        }
        needed
    }

    /// How many of the gold calls, in order, `calls` has made successfully (a subsequence
    /// match by name and arguments: extra calls in between do not count against it).
    #[must_use]
    pub fn progress(&self, calls: &[CallOutcome]) -> usize {
        let mut done = 0;
        for call in calls.iter().filter(|c| c.ok) {
            if let Some(gold) = self.task.actions.get(done)
                && gold.name == call.name
                && json_eq(&gold.arguments, &call.arguments)
            {
                done += 1;
            }
        }
        done
    }
}

/// Every scalar inside a value.
pub(crate) fn scalars(value: &serde_json::Value) -> Vec<&serde_json::Value> {
    match value {
        serde_json::Value::Array(items) => items.iter().flat_map(scalars).collect(),
        serde_json::Value::Object(map) => map.values().flat_map(scalars).collect(),
        v => vec![v],
    }
}

/// One turn of an episode: where in the conversation it was taken and in what state.
pub struct Point {
    /// The index of the assistant message in the episode's messages.
    pub message: usize,
    /// The turn's index among the assistant messages, from 0.
    pub step: usize,
    /// How many calls were made before it.
    pub calls_before: usize,
    /// The state before it (a fork: O(1)).
    pub session: Session,
}

/// The decision points of `episode` in `world`: one per assistant message, each with the
/// state its earlier calls left (run again, in order).
#[must_use]
pub fn points(world: &World, episode: &Episode) -> Vec<Point> {
    let mut session = world.session();
    let mut out = Vec::new();
    let mut calls = 0;
    for (i, m) in episode.messages.iter().enumerate().filter(|(_, m)| m.role == "assistant") {
        out.push(Point { message: i, step: out.len(), calls_before: calls, session: session.fork() });
        for _ in &m.tool_calls {
            if let Some(call) = episode.calls.get(calls)
                && !call.arguments.is_null()
            {
                let _ = session.execute(&call.name, &call.arguments);
            }
            calls += 1;
        }
    }
    out
}

/// Whether the user has just confirmed a change: the last message is the user's and says
/// yes (the scripted user's "Yes, please go ahead.", or a model's "yes, do it").
#[must_use]
pub fn confirmed(history: &[Message]) -> bool {
    history.last().is_some_and(|m| {
        m.role == "user" && {
            let text = m.content.as_deref().unwrap_or("").to_lowercase();
            let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
            words.iter().any(|w| matches!(*w, "yes" | "confirm" | "confirmed" | "proceed")) || text.contains("go ahead")
        }
    })
}
