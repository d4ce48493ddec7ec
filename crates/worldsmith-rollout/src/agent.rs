//! The agent side of an episode: what a policy sees and what it answers.

use worldsmith_core::episode::{CallOutcome, Message};
use worldsmith_core::tool::FunctionTool;

/// What an agent sees when it takes its turn.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The conversation so far, system prompt first.
    pub messages: &'a [Message],
    /// The tools offered (OpenAI function format).
    pub tools: &'a [FunctionTool],
    /// Every call made so far, with its outcome.
    pub calls: &'a [CallOutcome],
}

/// A call as the agent proposes it: the arguments are JSON text, as a model writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedCall {
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text.
    pub arguments: String,
}

/// One agent turn: tool calls, or a message to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// Call these tools (with optional text alongside).
    Calls(Vec<ProposedCall>),
    /// Say this to the user.
    Text(String),
}

/// Why an agent could not take its turn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The endpoint failed (after retries) or answered something unusable.
    #[error("{0}")]
    Endpoint(String),
    /// The episode's time ran out.
    #[error("timed out after {0} s")]
    Timeout(u64),
}

/// A policy: given the conversation, take the next turn.
pub trait Agent {
    /// The agent's next turn.
    ///
    /// # Errors
    /// The agent cannot answer (an endpoint failed, time ran out).
    fn next(&mut self, context: &Context<'_>) -> Result<Turn, AgentError>;
}
