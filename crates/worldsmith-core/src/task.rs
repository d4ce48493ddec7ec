//! Task lines and replay result lines: the one task format every command reads.
//!
//! A **task line** (JSON Lines, one task per line) has `id`, optionally `world`, `actions`
//! (the gold calls, in order) and optionally `expected_digest` and `changed_records`. Other
//! fields (`scenario`, `answers`, `assertions`, `kind`, `distractors`, ...) belong to later
//! stages and are ignored by readers that do not know them.
//!
//! A **replay result line** has `id`, `results` (one `{"ok", "value"}` per call, where
//! `value` is the JSON result, the string result or the error message), `final_digest`,
//! `changed_records` and `passed`: `true`/`false` when the task line has an
//! `expected_digest` or `changed_records` to check, `null` otherwise. When `passed` is
//! false, `mismatch` says where the first difference is.

use crate::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One tool call: a tool name and its JSON arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The tool's name.
    pub name: String,
    /// The arguments, a JSON object (absent means `{}`).
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Records that differ between two states: collection -> key -> the final value, or `null`
/// for a record that was deleted. Both levels are sorted, so the JSON form is stable.
pub type ChangedRecords = BTreeMap<String, BTreeMap<String, Option<Value>>>;

/// What the simulated user knows and wants (ASTRA/AgentScaler's user scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Scenario {
    /// The user's goal, as they would state it.
    pub goal: String,
    /// Facts the user knows and gives when asked (names, ids, emails), by name.
    #[serde(default)]
    pub known_facts: BTreeMap<String, Value>,
    /// A short description of the user's manner.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub persona: String,
}

/// A task line as the engine reads it (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLine {
    /// The task's identifier: a string or a number, echoed in the result line.
    #[serde(default)]
    pub id: Value,
    /// The world the task runs in, when the command does not name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// The gold calls, in order.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// The digest the final state must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_digest: Option<Digest>,
    /// The records the task must change, with their final values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_records: Option<ChangedRecords>,
    /// `write` (checked by state), `read` (checked by answers and exact calls) or `multi_hop`
    /// (each hop's answer is the next hop's input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// What the simulated user knows and wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Scenario>,
    /// Values the agent must state to the user (from read results the user asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Value>,
    /// The gold calls' results, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<CallResult>>,
    /// Tools from other worlds offered alongside the world's own (OpenAI function format),
    /// each with its similarity band (`near`, `middle`, `far`) under `"band"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distractors: Vec<Value>,
    /// Predicates over the final state that must hold (so alternative correct paths pass).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// For multi-hop questions: the linked sub-questions, in order (ASTRA's QA
    /// decomposition); each hop's answer is the next hop's input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<Hop>,
}

/// One sub-question of a multi-hop task and its rule-checkable answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// The sub-question.
    pub question: String,
    /// Its answers (values the call's result holds).
    pub answers: Vec<Value>,
    /// The index of the gold call that answers it.
    pub call: usize,
}

/// A predicate over one record of the final state.
///
/// With `exists: false` the record must be absent; otherwise it must exist and, when
/// `equals` is given, the value at `pointer` (a JSON pointer into the record, `""` for the
/// whole record) must equal it (numbers by value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assertion {
    /// The collection.
    pub collection: String,
    /// The record's key.
    pub key: String,
    /// A JSON pointer into the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pointer: String,
    /// The value expected at `pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// Whether the record must exist (default true).
    #[serde(default = "yes")]
    pub exists: bool,
}

fn yes() -> bool {
    true
}

/// The outcome of one call as it appears in a result line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// Whether the call succeeded (and, for a write, committed).
    pub ok: bool,
    /// The JSON result, the string result, or the error message.
    pub value: Value,
}

/// A replay result line (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayResult {
    /// The task's identifier, as given.
    pub id: Value,
    /// One entry per call, in order.
    pub results: Vec<CallResult>,
    /// The digest of the final state.
    pub final_digest: Digest,
    /// Every record whose final value differs from the initial one.
    pub changed_records: ChangedRecords,
    /// Whether the final state matched the task's expectations; `None` when it had none.
    pub passed: Option<bool>,
    /// Where the first difference is, when `passed` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
}
