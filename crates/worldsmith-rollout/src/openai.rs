//! The `openai` policy: any OpenAI-compatible chat-completions endpoint with tools (vLLM,
//! SGLang, llama.cpp, Ollama, hosted APIs).
//!
//! Tool calls are read from the message's `tool_calls` (arguments as a JSON string, or as an
//! object as some servers send them) and from Hermes/Qwen-style `<tool_call>{...}</tool_call>`
//! blocks in its text. `<think>...</think>` reasoning is dropped from what the user sees.
//! Requests go through [`worldsmith_llm::ChatClient`] (retries with back-off, timeouts).

use crate::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use worldsmith_llm::{ChatClient, LlmError, snippet, strip_thinking};

/// Where and how to reach the model (see [`worldsmith_llm::ChatConfig`]).
pub type OpenAiConfig = worldsmith_llm::ChatConfig;

/// An agent backed by a chat-completions endpoint, for one episode.
#[derive(Debug)]
pub struct OpenAiAgent {
    client: ChatClient,
    seed: u64,
    deadline: Instant,
    timeout: Duration,
}

impl OpenAiAgent {
    /// An agent for one episode that must end within `timeout`; `seed` is sent with every
    /// request (servers that support it sample reproducibly).
    #[must_use]
    pub fn new(config: &OpenAiConfig, seed: u64, timeout: Duration) -> OpenAiAgent {
        OpenAiAgent { client: ChatClient::new(config.clone()), seed, deadline: Instant::now() + timeout, timeout }
    }
}

impl OpenAiAgent {
    /// Samples `n` candidate turns for one state (reward-guided search): one request with
    /// `"n": n`, then single requests with the next seeds for the choices a server did not
    /// return (llama.cpp and some hosted APIs answer one choice whatever `n` says). Choices
    /// that do not parse are left out; an empty result is an error.
    ///
    /// # Errors
    /// The endpoint fails or times out before any choice arrives, or no choice parses.
    pub fn sample(&mut self, context: &Context<'_>, n: usize) -> Result<Vec<Turn>, AgentError> {
        let n = n.max(1);
        let mut turns = Vec::with_capacity(n);
        let mut problems = Vec::new();
        let mut seed = self.seed;
        let mut requests = 0;
        // Every request may bring one choice at least, so n requests always suffice.
        while turns.len() < n && requests < n {
            let wanted = n - turns.len();
            let response = match self.request(context, seed, wanted) {
                Ok(r) => r,
                Err(e) if turns.is_empty() && problems.is_empty() => return Err(e),
                Err(e) => {
                    problems.push(e.to_string());
                    break;
                }
            };
            requests += 1;
            seed = seed.wrapping_add(1);
            let choices = response.get("choices").and_then(Value::as_array).map_or(0, Vec::len);
            if choices == 0 {
                problems.push(format!("the answer has no choices: {}", snippet(&response.to_string())));
            }
            for message in response.get("choices").and_then(Value::as_array).into_iter().flatten().take(wanted) {
                match message.get("message").map(parse_message) {
                    Some(turn) => turns.push(turn),
                    None => problems.push(format!("a choice has no message: {}", snippet(&message.to_string()))),
                }
            }
        }
        // The next state's requests take the seeds after these.
        self.seed = seed;
        if turns.is_empty() {
            return Err(AgentError::Endpoint(problems.join("; ")));
        }
        Ok(turns)
    }

    /// One chat-completions request for `n` choices.
    fn request(&self, context: &Context<'_>, seed: u64, n: usize) -> Result<Value, AgentError> {
        let config = self.client.config();
        let mut body = json!({
            "model": config.model,
            "messages": context.messages,
            "temperature": config.temperature,
            "seed": seed,
        });
        if n > 1 {
            body["n"] = json!(n);
        }
        if !context.tools.is_empty() {
            body["tools"] = json!(context.tools);
            body["tool_choice"] = json!("auto");
        }
        self.client.complete(&body, Some(self.deadline)).map_err(|e| match e {
            LlmError::Timeout => AgentError::Timeout(self.timeout.as_secs()),
            LlmError::Endpoint(m) => AgentError::Endpoint(m),
        })
    }
}

impl Agent for OpenAiAgent {
    fn next(&mut self, context: &Context<'_>) -> Result<Turn, AgentError> {
        let response = self.request(context, self.seed, 1)?;
        parse_response(&response).map_err(AgentError::Endpoint)
    }
}

/// Reads a chat-completions response into a turn.
///
/// # Errors
/// The response has no `choices[0].message`.
pub fn parse_response(response: &Value) -> Result<Turn, String> {
    let message = response
        .pointer("/choices/0/message")
        .ok_or_else(|| format!("the answer has no choices[0].message: {}", snippet(&response.to_string())))?;
    Ok(parse_message(message))
}

/// Reads one choice's `message` into a turn.
fn parse_message(message: &Value) -> Turn {
    let mut calls: Vec<ProposedCall> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|call| {
            let function = call.get("function")?;
            Some(ProposedCall {
                name: function.get("name")?.as_str()?.to_owned(),
                arguments: arguments_text(function.get("arguments")),
            })
        })
        .collect();
    let content = message.get("content").and_then(Value::as_str).unwrap_or("");
    let (text, embedded) = split_tool_call_text(&strip_thinking(content));
    calls.extend(embedded);
    if calls.is_empty() { Turn::Text(text) } else { Turn::Calls(calls) }
}

/// Arguments as JSON text, whether the server sent a string or an object.
fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Splits Hermes/Qwen-style `<tool_call>{"name": ..., "arguments": ...}</tool_call>` blocks
/// out of a text. A block that does not parse is left in the text.
#[must_use]
pub fn split_tool_call_text(text: &str) -> (String, Vec<ProposedCall>) {
    let mut calls = Vec::new();
    let mut kept = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<tool_call>") {
        let after = &rest[start + "<tool_call>".len()..];
        let (inner, next) = match after.find("</tool_call>") {
            Some(end) => (&after[..end], &after[end + "</tool_call>".len()..]),
            None => (after, ""),
        };
        let parsed: Option<ProposedCall> = serde_json::from_str::<Value>(inner.trim()).ok().and_then(|v| {
            let name = v.get("name")?.as_str()?.to_owned();
            let arguments = arguments_text(v.get("arguments").or_else(|| v.get("parameters")));
            Some(ProposedCall { name, arguments })
        });
        kept.push_str(&rest[..start]);
        match parsed {
            Some(call) => calls.push(call),
            None => kept.push_str(&rest[start..rest.len() - next.len()]),
        }
        rest = next;
    }
    kept.push_str(rest);
    (kept.trim().to_owned(), calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_calls_with_string_or_object_arguments() {
        let response = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_order", "arguments": "{\"order_id\": \"O1\"}"}},
            {"id": "b", "type": "function", "function": {"name": "get_user", "arguments": {"user_id": "U1"}}}
        ]}}]});
        let Ok(Turn::Calls(calls)) = parse_response(&response) else { panic!("calls expected") };
        assert_eq!(calls[0], ProposedCall { name: "get_order".into(), arguments: "{\"order_id\": \"O1\"}".into() });
        assert_eq!(calls[1].arguments, "{\"user_id\":\"U1\"}");
    }

    #[test]
    fn reads_hermes_tool_call_blocks_and_drops_thinking() {
        let content = "<think>the user wants O1</think>Let me check.\n<tool_call>\n{\"name\": \"get_order\", \"arguments\": {\"order_id\": \"O1\"}}\n</tool_call>";
        let response = json!({"choices": [{"message": {"role": "assistant", "content": content}}]});
        let Ok(Turn::Calls(calls)) = parse_response(&response) else { panic!("calls expected") };
        assert_eq!(calls, vec![ProposedCall { name: "get_order".into(), arguments: "{\"order_id\":\"O1\"}".into() }]);
    }

    #[test]
    fn a_broken_block_stays_text() {
        let (text, calls) = split_tool_call_text("before <tool_call>{not json</tool_call> after");
        assert!(calls.is_empty());
        assert_eq!(text, "before <tool_call>{not json</tool_call> after");
    }

    #[test]
    fn plain_text_is_a_message() {
        let response = json!({"choices": [{"message": {"role": "assistant", "content": "Your order is O1."}}]});
        assert_eq!(parse_response(&response), Ok(Turn::Text("Your order is O1.".into())));
        assert!(parse_response(&json!({"error": "x"})).is_err());
    }
}
