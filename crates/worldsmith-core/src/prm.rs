//! Process-reward pair lines (`pairs.jsonl`): one step-level decision with a correct and an
//! incorrect next action (ToolPRMBench's sample), labelled by execution.
//!
//! A **pair line** (JSON Lines; readers ignore fields they don't know):
//!
//! - `id`: `<task id>/<source>/<step>/<error type>` (with `/<n>` when one step gives several
//!   pairs of a type);
//! - `format`: [`PAIR_FORMAT`];
//! - `world`, `task`: where the decision was taken;
//! - `step`: the decision's index among the agent's turns (assistant messages), from 0;
//! - `source`: `offline` (a gold prefix and a generated mistake) or `online` (the first
//!   erroneous step of a failed episode) ([`PairSource`]);
//! - `error_type`: what is wrong with the rejected action ([`ErrorType`]);
//! - `history`: the conversation up to the decision, exactly as the agent saw it (OpenAI chat
//!   messages, tool results included);
//! - `functions`: the tools offered (OpenAI function format);
//! - `action_chosen`, `action_rejected`: assistant messages (tool calls or a reply);
//! - `judges`: each judge's verdict ([`JudgeVerdict`]); a pair is kept only when every judge
//!   that applies prefers the chosen action.

use crate::episode::Message;
use crate::tool::FunctionTool;
use serde::{Deserialize, Serialize};

/// The version of the pair line format.
pub const PAIR_FORMAT: u32 = 1;

/// Where a pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// A gold prefix, the gold next action, and a mistake generated from the world.
    Offline,
    /// A failed episode's first erroneous step, and the correct action from that state.
    Online,
}

/// The single-step errors a rejected action makes (ToolPRMBench's taxonomy, generated from
/// the world rather than from text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    /// Another tool: one of the same world, or a distractor from another world.
    WrongTool,
    /// The right tool with an argument taken from a different record.
    WrongArgumentValue,
    /// The right tool without a required argument.
    MissingArgument,
    /// The right tool with an argument it does not declare.
    InventedArgument,
    /// A later call of the gold path taken now, where it fails or changes the outcome.
    OutOfOrder,
    /// A call already made, made again.
    RepeatedCall,
    /// Asking the user for a fact the user already gave.
    RedundantQuestion,
    /// The final answer before the work it reports is done.
    PrematureAnswer,
    /// A final answer that states a wrong value.
    WrongAnswer,
    /// A write without the user's confirmation, which every world's rules require.
    UnconfirmedWrite,
}

impl ErrorType {
    /// Every error type, in order.
    pub const ALL: [ErrorType; 10] = [
        ErrorType::WrongTool,
        ErrorType::WrongArgumentValue,
        ErrorType::MissingArgument,
        ErrorType::InventedArgument,
        ErrorType::OutOfOrder,
        ErrorType::RepeatedCall,
        ErrorType::RedundantQuestion,
        ErrorType::PrematureAnswer,
        ErrorType::WrongAnswer,
        ErrorType::UnconfirmedWrite,
    ];

    /// The name as written in pair lines.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ErrorType::WrongTool => "wrong_tool",
            ErrorType::WrongArgumentValue => "wrong_argument_value",
            ErrorType::MissingArgument => "missing_argument",
            ErrorType::InventedArgument => "invented_argument",
            ErrorType::OutOfOrder => "out_of_order",
            ErrorType::RepeatedCall => "repeated_call",
            ErrorType::RedundantQuestion => "redundant_question",
            ErrorType::PrematureAnswer => "premature_answer",
            ErrorType::WrongAnswer => "wrong_answer",
            ErrorType::UnconfirmedWrite => "unconfirmed_write",
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A judge of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judge {
    /// Execution on a fork of the world: the chosen action followed by the rest of the gold
    /// path reaches the expected state and answers; the rejected action is proven wrong.
    Execution,
    /// Exact-call comparison with the gold step (offline pairs).
    ExactCall,
    /// An OpenAI-compatible model asked to pick the correct action.
    Model,
}

/// What a judge found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeVerdict {
    /// The judge.
    pub judge: Judge,
    /// The model's name, for [`Judge::Model`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whether the judge prefers the chosen action.
    pub agrees: bool,
    /// The evidence, in words ("the call fails: unknown order", "the reply states 12 for
    /// the total, which is 14").
    pub evidence: String,
}

/// One step-level decision with a correct and an incorrect next action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairLine {
    /// See the module documentation.
    pub id: String,
    /// [`PAIR_FORMAT`].
    pub format: u32,
    /// The world.
    pub world: String,
    /// The task's id (as text).
    pub task: String,
    /// The decision's index among the agent's turns, from 0.
    pub step: usize,
    /// Offline or online.
    pub source: PairSource,
    /// What is wrong with the rejected action.
    pub error_type: ErrorType,
    /// The conversation up to the decision.
    pub history: Vec<Message>,
    /// The tools offered.
    pub functions: Vec<FunctionTool>,
    /// The correct next action (an assistant message).
    pub action_chosen: Message,
    /// The incorrect next action (an assistant message).
    pub action_rejected: Message,
    /// Every judge's verdict.
    pub judges: Vec<JudgeVerdict>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_names_are_their_serialized_form() {
        for t in ErrorType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::Value::String(t.name().to_owned()));
        }
    }
}
