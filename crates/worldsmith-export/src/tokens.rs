//! SFT lines with the model's tokens: `input_ids` and `assistant_masks` from a
//! [`worldsmith_tokens::ChatTokenizer`], cut to a token budget at a turn boundary.

use crate::SftLine;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use worldsmith_tokens::{
    ChatTokenizer, Conversation, EncodeError, Encoded, TokenStats, TokenizerInfo, ToolCallContent,
};

/// One SFT line with its tokens: the JSON Lines form (`messages`, `tools`, `input_ids`,
/// `assistant_masks`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenizedLine {
    /// The line (cut to the budget when it was longer).
    #[serde(flatten)]
    pub line: SftLine,
    /// The token ids of the line rendered with the model's chat template.
    pub input_ids: Vec<u32>,
    /// 1 on the tokens trained assistant messages generated, 0 elsewhere.
    pub assistant_masks: Vec<u8>,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Tokenized {
    /// Encoded whole.
    Whole(TokenizedLine),
    /// Longer than the budget: cut after an earlier assistant turn.
    Cut(TokenizedLine),
    /// Longer than the budget with no cut that ends with a trained assistant turn.
    TooLong,
    /// The template or tokenizer could not encode it exactly.
    Failed(EncodeError),
}

/// The `tokens` section of the SFT manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokensManifest {
    /// The tokenizer's directory name and the BLAKE3 of its files.
    pub tokenizer: Option<TokenizerInfo>,
    /// How tool-call turns were given to the template (`""` or `null` content).
    pub tool_call_content: Option<ToolCallContent>,
    /// The token budget per line, if any.
    pub max_tokens: Option<usize>,
    /// Lines cut at a turn boundary to fit the budget.
    pub cut: usize,
    /// Lines dropped because no cut fits the budget.
    pub too_long: usize,
    /// Lines the template or tokenizer could not encode exactly, by reason.
    pub failed: BTreeMap<String, usize>,
    /// Tokens of the lines written.
    #[serde(flatten)]
    pub stats: TokenStats,
}

/// The messages of a line as JSON, with the trained flag of each.
fn conversation_parts(line: &SftLine) -> (Vec<serde_json::Value>, Vec<serde_json::Value>, Vec<bool>) {
    let messages: Vec<serde_json::Value> =
        line.messages.iter().map(|m| serde_json::to_value(m).unwrap_or(serde_json::Value::Null)).collect();
    let tools = line.tools.iter().map(|t| serde_json::to_value(t).unwrap_or(serde_json::Value::Null)).collect();
    let trained = line.messages.iter().map(|m| m.weight == Some(1)).collect();
    (messages, tools, trained)
}

/// Encodes one line, cutting it to `max_tokens` when it is longer.
#[must_use]
pub fn tokenize_line(tokenizer: &ChatTokenizer, line: &SftLine, max_tokens: Option<usize>) -> Tokenized {
    let (messages, tools, trained) = conversation_parts(line);
    let encode =
        |n: usize| tokenizer.encode(&Conversation { messages: &messages[..n], tools: &tools, trained: &trained[..n] });
    let encoded = match encode(messages.len()) {
        Ok(e) => e,
        Err(e) => return Tokenized::Failed(e),
    };
    let fits = |e: &Encoded| max_tokens.is_none_or(|max| e.input_ids.len() <= max);
    let done =
        |line: SftLine, e: Encoded| TokenizedLine { line, input_ids: e.input_ids, assistant_masks: e.assistant_masks };
    if fits(&encoded) {
        return Tokenized::Whole(done(line.clone(), encoded));
    }
    // A rendering of a shorter conversation is not a prefix of the whole one's (templates
    // treat the last turn specially), so each candidate cut is encoded on its own.
    for end in (1..messages.len()).rev() {
        if !trained[end - 1] {
            continue;
        }
        match encode(end) {
            Ok(e) if fits(&e) && e.trained() > 0 => {
                let cut = SftLine { messages: line.messages[..end].to_vec(), tools: line.tools.clone() };
                return Tokenized::Cut(done(cut, e));
            }
            Ok(_) => {}
            Err(e) => return Tokenized::Failed(e),
        }
    }
    Tokenized::TooLong
}

/// Encodes lines in parallel; the results are in input order whatever the thread count.
#[must_use]
pub fn tokenize_lines(tokenizer: &ChatTokenizer, lines: &[SftLine], max_tokens: Option<usize>) -> Vec<Tokenized> {
    lines.par_iter().map(|line| tokenize_line(tokenizer, line, max_tokens)).collect()
}

/// The short name of an encoding failure, for counts.
#[must_use]
pub fn reason(error: &EncodeError) -> &'static str {
    match error {
        EncodeError::Render(_) => "render",
        EncodeError::Raised(_) => "rejected",
        EncodeError::Lost { .. } => "lost",
        EncodeError::Unmarkable(_) => "unmarkable",
        EncodeError::Untraceable => "untraceable",
        EncodeError::OutOfOrder(_) => "out_of_order",
        EncodeError::Empty(_) => "empty",
        EncodeError::Straddle { .. } => "straddle",
        _ => "tokenize",
    }
}
