//! Arena lines (`arenas.jsonl`): everything one RL episode needs, self-contained (ASTRA's
//! verifiable arenas).
//!
//! An **arena line** (JSON Lines; readers ignore fields they don't know):
//!
//! - `id`: the task's id for the whole task, `<task id>/hop-<k>` for the k-th hop (from 1) of
//!   a multi-hop question;
//! - `format`: [`ARENA_FORMAT`];
//! - `world`, `origin`: the world and where it came from;
//! - `task`: the id of the task it came from; `hop`: the hop's number, absent for the whole
//!   task;
//! - `init`: how to start: `{"world", "digest"}`, the world and the digest of the state the
//!   episode starts from (a fork of the world's initial state; a mismatch means another
//!   version of the world);
//! - `messages`: the system prompt and the user's first message, exactly as the agent sees
//!   them (OpenAI chat messages);
//! - `tools`: the tools offered, OpenAI function format: the world's own and the task's
//!   distractors in one seeded shuffle;
//! - `subgoals`: what the episode is scored on, each checkable by rule ([`Subgoal`]): a
//!   record that must end in a given state, or a value the agent must state (a typed
//!   [`Answer`], matched as `verify` matches answers);
//! - `gold`: the gold calls (the path the F1 reward is normalised to);
//! - `scenario`: what the simulated user wants and knows (for a hop, the earlier hops'
//!   answers are among the known facts);
//! - `max_turns`: the most agent turns an episode may take;
//! - `reward`: the name of the reward it is scored with (`f1` unless told otherwise);
//! - `needs_user`: whether the first message withholds a fact the gold calls need, so that
//!   the agent must ask the user for it.

use crate::Origin;
use crate::digest::Digest;
use crate::episode::Message;
use crate::task::{Action, Answer, Scenario};
use crate::tool::FunctionTool;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the arena line format.
pub const ARENA_FORMAT: u32 = 1;

/// One arena (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arena {
    /// `<task id>` or `<task id>/hop-<k>`.
    pub id: String,
    /// [`ARENA_FORMAT`].
    pub format: u32,
    /// The world.
    pub world: String,
    /// Where the world came from.
    pub origin: Origin,
    /// The task it came from.
    pub task: Value,
    /// The hop of a multi-hop question (from 1), absent for the whole task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<usize>,
    /// The state it starts from.
    pub init: Init,
    /// The system prompt and the user's first message.
    pub messages: Vec<Message>,
    /// The tools offered.
    pub tools: Vec<FunctionTool>,
    /// What it is scored on.
    pub subgoals: Vec<Subgoal>,
    /// The gold calls.
    pub gold: Vec<Action>,
    /// What the simulated user wants and knows.
    pub scenario: Scenario,
    /// The most agent turns an episode may take.
    pub max_turns: u32,
    /// The reward it is scored with, by name.
    pub reward: String,
    /// Whether the agent must ask the user for a fact the first message does not give.
    pub needs_user: bool,
}

/// Where an arena's episode starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    /// The world.
    pub world: String,
    /// The digest of the starting state.
    pub digest: Digest,
}

/// One rule-checkable sub-goal: `{"record": {...}}` or `{"answer": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subgoal {
    /// A record that must end in a given state.
    Record(RecordGoal),
    /// A value the agent must state.
    Answer(Answer),
}

/// A record that must end in a given state: equal to `value`, or absent when `value` is
/// null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordGoal {
    /// The collection.
    pub collection: String,
    /// The record's key.
    pub key: String,
    /// The record's final value (numbers compared by value), or null when it must be gone.
    pub value: Option<Value>,
}

impl Arena {
    /// The records the arena's sub-goals name, with their final values, as a task's
    /// `changed_records`.
    #[must_use]
    pub fn changed_records(&self) -> crate::task::ChangedRecords {
        let mut out = crate::task::ChangedRecords::new();
        for goal in &self.subgoals {
            if let Subgoal::Record(r) = goal {
                out.entry(r.collection.clone()).or_default().insert(r.key.clone(), r.value.clone());
            }
        }
        out
    }

    /// The arena as a task line, for what runs and judges task episodes: its gold calls,
    /// the records its sub-goals name (with the digest they give when some do), its answers
    /// and its scenario; kind `write` when a sub-goal is a record, else `read`.
    #[must_use]
    pub fn task_line(&self) -> crate::task::TaskLine {
        let records = self.changed_records();
        crate::task::TaskLine {
            id: Value::String(self.id.clone()),
            format: crate::task::TASK_FORMAT,
            world: Some(self.world.clone()),
            actions: self.gold.clone(),
            expected_digest: None,
            kind: Some(if records.is_empty() { crate::task::TaskKind::Read } else { crate::task::TaskKind::Write }),
            changed_records: (!records.is_empty()).then_some(records),
            scenario: Some(self.scenario.clone()),
            answers: self.answers().cloned().collect(),
            results: None,
            distractors: Vec::new(),
            assertions: Vec::new(),
            hops: Vec::new(),
        }
    }

    /// The answers the arena's sub-goals ask for, in order.
    pub fn answers(&self) -> impl Iterator<Item = &Answer> {
        self.subgoals.iter().filter_map(|g| match g {
            Subgoal::Answer(a) => Some(a),
            Subgoal::Record(_) => None,
        })
    }
}

/// The version of the reward line format.
pub const REWARD_FORMAT: u32 = 1;

/// A line of `worldsmith reward`'s output: one episode scored against one arena.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardLine {
    /// The arena's id.
    pub arena: String,
    /// The episode's id.
    pub episode: String,
    /// [`REWARD_FORMAT`].
    pub format: u32,
    /// The episode is well formed and re-derives (verification's layer 1).
    pub valid: bool,
    /// Every sub-goal reached, nothing else changed.
    pub success: bool,
    /// Why it did not succeed, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rewards by name, as verdicts carry them (`success`, `f1`).
    pub rewards: crate::episode::Rewards,
    /// The credit of each sub-goal, in the arena's order: 1 reached, 0 not (all 0 for an
    /// invalid episode or one that changed what the arena does not ask for).
    pub subgoals: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subgoals_read_and_write_as_tagged_objects() {
        let goals = vec![
            Subgoal::Record(RecordGoal { collection: "orders".into(), key: "O1".into(), value: None }),
            Subgoal::Answer(Answer::infer(json!(12.5), Some("total".into()))),
        ];
        let text = serde_json::to_string(&goals).unwrap();
        assert_eq!(
            text,
            r#"[{"record":{"collection":"orders","key":"O1","value":null}},{"answer":{"value":12.5,"kind":"money","label":"total"}}]"#
        );
        let back: Vec<Subgoal> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, goals);
        assert!(serde_json::from_str::<Subgoal>(r#"{"model_judge":{}}"#).is_err());
    }
}
