//! Episodes and verdicts: what `rollout` writes and `verify` judges.
//!
//! An **episode line** is one conversation of a simulated user, an agent and a world on one
//! task: the chat `messages` in OpenAI's format (assistant `tool_calls`, `tool` results),
//! the `tools` the agent was offered, every call the agent made with its outcome, and how
//! the episode ended. It carries its task, so later stages need no other input.
//!
//! A **verdict line** is `verify`'s judgement of one episode: the three filtering layers,
//! the rewards, and whether the episode is kept for training.

use crate::task::TaskLine;
use crate::{Digest, Origin};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The version of the episode format. 2: `changes`, the records the calls changed.
pub const EPISODE_FORMAT: u32 = 2;

/// One chat message, in OpenAI's chat-completions shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text; `null` for an assistant message that only calls tools.
    pub content: Option<String>,
    /// The calls an assistant message makes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with text only.
    #[must_use]
    pub fn text(role: &str, content: impl Into<String>) -> Message {
        Message { role: role.to_owned(), content: Some(content.into()), tool_calls: Vec::new(), tool_call_id: None }
    }

    /// An assistant message that calls tools.
    #[must_use]
    pub fn calls(tool_calls: Vec<ToolCall>) -> Message {
        Message { role: "assistant".to_owned(), content: None, tool_calls, tool_call_id: None }
    }

    /// A tool result answering the call `id`.
    #[must_use]
    pub fn tool_result(id: &str, content: impl Into<String>) -> Message {
        Message {
            role: "tool".to_owned(),
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: Some(id.to_owned()),
        }
    }
}

/// One tool call inside an assistant message (OpenAI shape: arguments are a JSON string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed by the `tool` message that answers it.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default)]
    pub kind: crate::tool::ToolType,
    /// The function called.
    pub function: FunctionCall,
}

impl ToolCall {
    /// A function call with the given id, name and arguments.
    #[must_use]
    pub fn new(id: String, name: &str, arguments: &Value) -> ToolCall {
        ToolCall {
            id,
            kind: crate::tool::ToolType::Function,
            function: FunctionCall { name: name.to_owned(), arguments: arguments.to_string() },
        }
    }
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name.
    pub name: String,
    /// The arguments as a JSON text (as the model wrote it; it may not parse).
    pub arguments: String,
}

/// One call the agent made, with what the world answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallOutcome {
    /// The tool's name.
    pub name: String,
    /// The arguments (`null` when the model's text did not parse as JSON).
    pub arguments: Value,
    /// Whether the call succeeded (and, for a write, committed).
    pub ok: bool,
    /// The result, or the error the agent saw.
    pub value: Value,
    /// Whether the call changed the state.
    #[serde(default)]
    pub wrote: bool,
}

impl CallOutcome {
    /// What the agent sees of the call in its `tool` message: the JSON result, a string
    /// result as it is, or `Error: ` and the error.
    #[must_use]
    pub fn observation(&self) -> String {
        observation(self.ok, &self.value)
    }
}

/// What the agent sees of a call's outcome (see [`CallOutcome::observation`]).
#[must_use]
pub fn observation(ok: bool, value: &Value) -> String {
    match (ok, value) {
        (true, Value::String(s)) => s.clone(),
        (true, v) => v.to_string(),
        (false, Value::String(s)) => format!("Error: {s}"),
        (false, v) => format!("Error: {v}"),
    }
}

/// How an episode ended. (Variants in alphabetical order, so maps keyed by them list them
/// as their names sort.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The agent's endpoint failed after all retries.
    AgentError,
    /// The agent reached the step limit.
    StepLimit,
    /// The episode ran out of time.
    Timeout,
    /// The user ended the conversation.
    UserStop,
}

impl EndReason {
    /// The name in episode lines: `agent_error`, `step_limit`, `timeout`, `user_stop`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EndReason::AgentError => "agent_error",
            EndReason::StepLimit => "step_limit",
            EndReason::Timeout => "timeout",
            EndReason::UserStop => "user_stop",
        }
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One episode line (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// `<task id>/<policy>/<trial>`.
    pub id: String,
    /// The format version.
    pub format: u32,
    /// The task's world.
    pub world: String,
    /// The world's origin: `bundled` or `generated`.
    pub origin: Origin,
    /// The agent policy (`oracle`, `noisy`, `openai:<model>`).
    pub policy: String,
    /// The trial number, from 0.
    pub trial: u32,
    /// The conversation.
    pub messages: Vec<Message>,
    /// The tools the agent was offered (OpenAI function format).
    pub tools: Vec<crate::tool::FunctionTool>,
    /// Every call the agent made, in order.
    pub calls: Vec<CallOutcome>,
    /// The digest of the final state.
    pub final_digest: Digest,
    /// Every record the calls changed, in its final state (`null`: deleted), by collection
    /// and key (format 2; absent in format 1 lines). What scoring a recorded episode without
    /// running its calls again reads; `verify` checks it against the replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<crate::task::ChangedRecords>,
    /// How the episode ended.
    pub end: EndReason,
    /// What went wrong, when the episode ended on an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The task, as synthesized (for an arena's episode, the arena's task line).
    pub task: TaskLine,
    /// The arena the episode ran in, when it ran in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arena: Option<String>,
}

/// The version of the verdict format. 2: named rewards under `rewards`, the exact call
/// match reported for every task, the F1 precision normalised to the gold path.
pub const VERDICT_FORMAT: u32 = 2;

/// ASTRA's F1 reward and its parts, with the precision normalised to the gold path.
///
/// With n sub-goals, n' solved, c calls made (failed and distractor calls included) and g
/// calls on the gold path: recall = n'/n, precision = min(1, n'·g / (n·c)), f1 = 2pr/(p+r),
/// 0 when n' = 0; so the gold path scores 1. `f1_raw` is ASTRA's own form, with precision
/// n'/c.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct F1Reward {
    /// The task's sub-goals: its gold writes' effects and its expected answers.
    pub subgoals: usize,
    /// Sub-goals reached.
    pub solved: usize,
    /// Tool calls made.
    pub calls: usize,
    /// Calls on the gold path (absent in verdict format 1).
    #[serde(default)]
    pub gold_calls: usize,
    /// solved / subgoals.
    pub recall: f64,
    /// `min(1, solved·gold_calls / (subgoals·calls))`.
    pub precision: f64,
    /// 2pr / (p + r), 0 when nothing is solved.
    pub f1: f64,
    /// ASTRA's F1, with precision solved / calls (absent in verdict format 1).
    #[serde(default)]
    pub f1_raw: f64,
}

/// One reward's value: a 0/1 outcome, ASTRA's F1 with its parts, or a plain score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reward {
    /// 0 or 1 (`"success": 1`).
    Binary(u8),
    /// ASTRA's F1 and its parts (`"f1": {"subgoals": ..., "f1": ...}`).
    F1(F1Reward),
    /// Any other score.
    Score(f64),
}

// By hand: untagged enums cannot read numbers under serde_json's `arbitrary_precision`,
// which the workspace has on (see ARCHITECTURE.md).
impl<'de> Deserialize<'de> for Reward {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Reward, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        match &value {
            Value::Number(n) => match n.as_u64() {
                Some(b @ 0..=1) => Ok(Reward::Binary(u8::from(b == 1))),
                _ => n.as_f64().map(Reward::Score).ok_or_else(|| D::Error::custom("a reward out of range")),
            },
            Value::Object(_) => serde_json::from_value(value).map(Reward::F1).map_err(D::Error::custom),
            _ => Err(D::Error::custom("a reward is a number or an F1 object")),
        }
    }
}

impl Reward {
    /// The reward as one number: the outcome, the F1, or the score.
    #[must_use]
    pub fn value(&self) -> f64 {
        match self {
            Reward::Binary(b) => f64::from(*b),
            Reward::F1(f1) => f1.f1,
            Reward::Score(s) => *s,
        }
    }
}

/// The rewards of one episode, by name: the one layout of verdict lines, reward lines and
/// every later reader (`"rewards": {"f1": {...}, "success": 0|1, ...}`). Readers iterate
/// over the names present ([`Rewards::scalars`]), so a new reward needs no new field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Rewards(pub BTreeMap<String, Reward>);

impl Rewards {
    /// The reward named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Reward> {
        self.0.get(name)
    }

    /// Whether the `success` reward is 1.
    #[must_use]
    pub fn success(&self) -> bool {
        self.get("success").is_some_and(|r| r.value() > 0.0)
    }

    /// The `f1` reward with its parts.
    #[must_use]
    pub fn f1(&self) -> Option<&F1Reward> {
        match self.get("f1") {
            Some(Reward::F1(f1)) => Some(f1),
            _ => None,
        }
    }

    /// Every reward's value, by name, in name order.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(name, r)| (name.as_str(), r.value()))
    }
}

/// Why an episode is invalid (layer 1), by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invalid {
    /// It did not end with the user (the step limit, a timeout, an endpoint error).
    Ended,
    /// Its calls, run again, do not give what it recorded or showed the agent.
    Replay,
    /// The agent repeated itself degenerately.
    Repetition,
    /// Its turns are malformed (roles, order, call and result pairing).
    Turns,
    /// A successful call used an identifier no earlier message gave.
    Ungrounded,
}

impl Invalid {
    /// The name in summaries and reasons: `ended`, `replay`, `repetition`, `turns`,
    /// `ungrounded`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Invalid::Ended => "ended",
            Invalid::Replay => "replay",
            Invalid::Repetition => "repetition",
            Invalid::Turns => "turns",
            Invalid::Ungrounded => "ungrounded",
        }
    }
}

/// The first check a failed episode did not pass, in the order `verify` applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Layer 1: the episode is not valid.
    Invalid(Invalid),
    /// Layer 2: the final state differs from the expected one.
    State,
    /// A task without writes changed the state.
    Calls,
    /// Not every expected answer was stated.
    Answers,
}

impl Failure {
    /// The name reports group failures by: the invalid kind's name (`ended`, `replay`, ...),
    /// `state`, `calls` or `answers`, as the verdict's `reason` begins.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Failure::Invalid(kind) => kind.name(),
            Failure::State => "state",
            Failure::Calls => "calls",
            Failure::Answers => "answers",
        }
    }
}

/// `verify`'s judgement of one episode. Lines of format 1 (`reward` and `f1` beside each
/// other, `exact_match` only for tasks without writes) are read too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "VerdictLine")]
pub struct Verdict {
    /// The episode's id.
    pub episode: String,
    /// The format version ([`VERDICT_FORMAT`]).
    pub format: u32,
    /// The task's id.
    pub task: Value,
    /// The world.
    pub world: String,
    /// The world's origin.
    pub origin: Origin,
    /// The policy.
    pub policy: String,
    /// The trial.
    pub trial: u32,
    /// The task's kind.
    pub kind: crate::task::TaskKind,
    /// The number of gold calls.
    pub chain_length: usize,
    /// Layer 1: well-formed turns, no degenerate repetition, and every tool message and
    /// recorded call equal to what running the calls again gives.
    pub valid: bool,
    /// Why it is not valid, by kind (absent when it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Invalid>,
    /// Layer 2: the final state equals the expected one and the assertions hold (`None`
    /// when the task expects no state).
    pub state_aligned: Option<bool>,
    /// The strict filter (AgentScaler's layer 3): the successful calls, in order, equal the
    /// gold calls. Reported for every task; success does not depend on it.
    pub exact_match: bool,
    /// For tasks without writes: no call changed the state (independent reads may come in
    /// any order, redundant lookups are allowed). `None` for tasks with writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_consistent: Option<bool>,
    /// Expected answers the agent stated, of all expected answers.
    pub answers_stated: [usize; 2],
    /// The episode reached the goal: valid, aligned (tasks with writes) or consistent (tasks
    /// without), and every expected answer stated.
    pub success: bool,
    /// Kept for training: successful. Failed intermediate calls do not matter.
    pub kept: bool,
    /// Calls that failed.
    pub failed_calls: usize,
    /// Why the episode failed (the first failing layer), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rewards.
    pub rewards: Rewards,
}

impl Verdict {
    /// The first check the episode did not pass, or `None` when it succeeded.
    #[must_use]
    pub fn failure(&self) -> Option<Failure> {
        if self.success {
            None
        } else if let Some(kind) = self.invalid {
            Some(Failure::Invalid(kind))
        } else if self.state_aligned == Some(false) {
            Some(Failure::State)
        } else if self.calls_consistent == Some(false) {
            Some(Failure::Calls)
        } else {
            Some(Failure::Answers)
        }
    }
}

/// A verdict line of any format, as read.
#[derive(Deserialize)]
struct VerdictLine {
    episode: String,
    #[serde(default = "crate::format_one")]
    format: u32,
    task: Value,
    world: String,
    origin: Origin,
    policy: String,
    trial: u32,
    kind: crate::task::TaskKind,
    chain_length: usize,
    valid: bool,
    #[serde(default)]
    invalid: Option<Invalid>,
    state_aligned: Option<bool>,
    #[serde(default)]
    exact_match: Option<bool>,
    #[serde(default)]
    calls_consistent: Option<bool>,
    answers_stated: [usize; 2],
    success: bool,
    kept: bool,
    failed_calls: usize,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    rewards: Option<Rewards>,
    /// Format 1: the binary reward.
    #[serde(default)]
    reward: Option<f64>,
    /// Format 1: the F1 reward.
    #[serde(default)]
    f1: Option<F1Reward>,
}

impl From<VerdictLine> for Verdict {
    fn from(line: VerdictLine) -> Verdict {
        let rewards = line.rewards.unwrap_or_else(|| {
            let success = u8::from(line.reward.map_or(line.success, |r| r > 0.0));
            let mut named = BTreeMap::from([("success".to_owned(), Reward::Binary(success))]);
            if let Some(f1) = line.f1 {
                named.insert("f1".to_owned(), Reward::F1(f1));
            }
            Rewards(named)
        });
        Verdict {
            episode: line.episode,
            format: line.format,
            task: line.task,
            world: line.world,
            origin: line.origin,
            policy: line.policy,
            trial: line.trial,
            kind: line.kind,
            chain_length: line.chain_length,
            valid: line.valid,
            invalid: line.invalid,
            state_aligned: line.state_aligned,
            exact_match: line.exact_match.unwrap_or(false),
            calls_consistent: line.calls_consistent,
            answers_stated: line.answers_stated,
            success: line.success,
            kept: line.kept,
            failed_calls: line.failed_calls,
            reason: line.reason,
            rewards,
        }
    }
}
