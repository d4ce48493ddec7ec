//! Errors: why a world failed to load, and why a tool call failed.

use std::borrow::Cow;
use std::fmt;

/// The most characters of an offending value an error message quotes.
pub const MAX_QUOTED_CHARS: usize = 200;
/// The most characters of a whole tool error message (a script's `fail(...)` included).
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// `text` cut to `max` characters, with an ellipsis and the full length when it is longer:
/// a 50 MB argument must not become a 50 MB message the agent reads.
#[must_use]
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes in all)", &text[..cut], text.len())),
    }
}

/// A value quoted in an error message: at most [`MAX_QUOTED_CHARS`] characters.
#[must_use]
pub fn quote_prefix(text: &str) -> Cow<'_, str> {
    bounded(text, MAX_QUOTED_CHARS)
}

/// One problem found while loading a world: the file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, relative to the world (`world.json`, `data/orders.json`).
    pub file: String,
    /// A JSON pointer (`/tools/3/op`) or `line L column C`; empty when the whole file is meant.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(file: impl Into<String>, location: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.into(), location: location.into(), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.location, self.message)
        }
    }
}

/// A world that could not be loaded, with every problem found (not only the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The world (directory or bundled name).
    pub world: String,
    /// The problems, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(f, "world {} has {n} problem{}:", self.world, if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Why a tool call failed. Every failure leaves the state exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name.
    #[error("unknown tool `{name}`{suggestion}")]
    UnknownTool {
        /// The name asked for.
        name: String,
        /// `"; did you mean `x`?"` or empty.
        suggestion: String,
    },
    /// The arguments do not match the tool's parameters.
    #[error("invalid arguments for `{tool}`: {message}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// What is wrong, with JSON pointers.
        message: String,
    },
    /// The tool refused: a business rule, a missing record (the script's `fail(...)`).
    #[error("{0}")]
    Failed(String),
    /// A script exceeded a limit (ticks, heap, call depth, sequence size).
    #[error("`{tool}` stopped: {message}")]
    LimitExceeded {
        /// The tool.
        tool: String,
        /// Which limit.
        message: String,
    },
    /// A script raised an error that is a bug in the script (type error, bad `db` use).
    #[error("`{tool}` failed with a script error: {message}")]
    Script {
        /// The tool.
        tool: String,
        /// The error and its location.
        message: String,
    },
    /// The tool tried to write a record that breaks the schema.
    #[error("`{tool}` tried to write an invalid record: {message}")]
    InvalidWrite {
        /// The tool.
        tool: String,
        /// The record and what is wrong with it.
        message: String,
    },
}

impl ToolError {
    /// The same error with its names and message cut to [`MAX_MESSAGE_CHARS`].
    #[must_use]
    pub fn bounded(self) -> ToolError {
        let cut = |s: String| match bounded(&s, MAX_MESSAGE_CHARS) {
            Cow::Borrowed(_) => s,
            Cow::Owned(o) => o,
        };
        let name = |s: String| match quote_prefix(&s) {
            Cow::Borrowed(_) => s,
            Cow::Owned(o) => o,
        };
        match self {
            ToolError::UnknownTool { name: n, suggestion } => ToolError::UnknownTool { name: name(n), suggestion },
            ToolError::InvalidArguments { tool, message } => {
                ToolError::InvalidArguments { tool: name(tool), message: cut(message) }
            }
            ToolError::Failed(m) => ToolError::Failed(cut(m)),
            ToolError::LimitExceeded { tool, message } => {
                ToolError::LimitExceeded { tool: name(tool), message: cut(message) }
            }
            ToolError::Script { tool, message } => ToolError::Script { tool: name(tool), message: cut(message) },
            ToolError::InvalidWrite { tool, message } => {
                ToolError::InvalidWrite { tool: name(tool), message: cut(message) }
            }
        }
    }

    /// Whether the failure is a defect of the world (script error, limit, invalid write)
    /// rather than an ordinary refusal or a bad call by the agent.
    #[must_use]
    pub fn is_defect(&self) -> bool {
        matches!(self, ToolError::LimitExceeded { .. } | ToolError::Script { .. } | ToolError::InvalidWrite { .. })
    }
}
