//! Episodes and verdicts: what `rollout` writes and `verify` judges.
//!
//! An **episode line** is one conversation of a simulated user, an agent and a world on one
//! task: the chat `messages` in OpenAI's format (assistant `tool_calls`, `tool` results),
//! the `tools` the agent was offered, every call the agent made with its outcome, and how
//! the episode ended. It carries its task, so later stages need no other input.
//!
//! A **verdict line** is `verify`'s judgement of one episode: the three filtering layers,
//! the rewards, and whether the episode is kept for training.

use crate::Digest;
use crate::task::TaskLine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the episode and verdict formats.
pub const EPISODE_FORMAT: u32 = 1;

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
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function called.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_owned()
}

impl ToolCall {
    /// A function call with the given id, name and arguments.
    #[must_use]
    pub fn new(id: String, name: &str, arguments: &Value) -> ToolCall {
        ToolCall {
            id,
            kind: function_type(),
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

/// How an episode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The user ended the conversation.
    UserStop,
    /// The agent reached the step limit.
    StepLimit,
    /// The episode ran out of time.
    Timeout,
    /// The agent's endpoint failed after all retries.
    AgentError,
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
    pub origin: String,
    /// The agent policy (`oracle`, `noisy`, `openai:<model>`).
    pub policy: String,
    /// The trial number, from 0.
    pub trial: u32,
    /// The conversation.
    pub messages: Vec<Message>,
    /// The tools the agent was offered (OpenAI function format).
    pub tools: Vec<Value>,
    /// Every call the agent made, in order.
    pub calls: Vec<CallOutcome>,
    /// The digest of the final state.
    pub final_digest: Digest,
    /// How the episode ended.
    pub end: EndReason,
    /// What went wrong, when the episode ended on an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The task, as synthesized.
    pub task: TaskLine,
}

/// ASTRA's F1 reward and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct F1Reward {
    /// The task's sub-goals: its gold writes' effects and its expected answers.
    pub subgoals: usize,
    /// Sub-goals reached.
    pub solved: usize,
    /// Tool calls made.
    pub calls: usize,
    /// solved / subgoals.
    pub recall: f64,
    /// solved / calls.
    pub precision: f64,
    /// 2pr / (p + r), 0 when nothing is solved.
    pub f1: f64,
}

/// `verify`'s judgement of one episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The episode's id.
    pub episode: String,
    /// The task's id.
    pub task: Value,
    /// The world.
    pub world: String,
    /// The world's origin.
    pub origin: String,
    /// The policy.
    pub policy: String,
    /// The trial.
    pub trial: u32,
    /// The task's kind.
    pub kind: String,
    /// The number of gold calls.
    pub chain_length: usize,
    /// Layer 1: well-formed turns, no degenerate repetition.
    pub valid: bool,
    /// Layer 2: the final state equals the expected one and the assertions hold (`None`
    /// when the task expects no state).
    pub state_aligned: Option<bool>,
    /// Layer 3: the successful calls equal the gold calls (only for tasks without writes).
    pub exact_match: Option<bool>,
    /// Expected answers the agent stated, of all expected answers.
    pub answers_stated: [usize; 2],
    /// The episode reached the goal: valid, and aligned or exactly matched, and every
    /// expected answer stated.
    pub success: bool,
    /// Kept for training: successful. Failed intermediate calls do not matter.
    pub kept: bool,
    /// Calls that failed.
    pub failed_calls: usize,
    /// Why the episode failed (the first failing layer), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// 1.0 on success, else 0.0.
    pub reward: f64,
    /// ASTRA's F1 reward.
    pub f1: F1Reward,
}
