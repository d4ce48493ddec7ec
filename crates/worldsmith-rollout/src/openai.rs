//! The `openai` policy: any OpenAI-compatible chat-completions endpoint with tools (vLLM,
//! SGLang, llama.cpp, Ollama, hosted APIs).
//!
//! Tool calls are read from the message's `tool_calls` (arguments as a JSON string, or as an
//! object as some servers send them) and from Hermes/Qwen-style `<tool_call>{...}</tool_call>`
//! blocks in its text. `<think>...</think>` reasoning is dropped from what the user sees.
//! Transport errors, 429 and 5xx answers are retried with exponential back-off until the
//! retries or the episode's time run out.

use crate::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Where and how to reach the model.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API root, e.g. `http://localhost:8000/v1` (`/chat/completions` is appended).
    pub base_url: String,
    /// Sent as a bearer token when set.
    pub api_key: Option<String>,
    /// The model name.
    pub model: String,
    /// Sampling temperature.
    pub temperature: f64,
    /// The longest a single request may take.
    pub request_timeout: Duration,
    /// How many times a failed request is retried.
    pub retries: u32,
    /// The first back-off; it doubles on every retry.
    pub backoff: Duration,
}

impl OpenAiConfig {
    /// A configuration with the usual defaults (temperature 0, 120 s requests, 3 retries).
    #[must_use]
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            temperature: 0.0,
            request_timeout: Duration::from_secs(120),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

/// An agent backed by a chat-completions endpoint, for one episode.
#[derive(Debug)]
pub struct OpenAiAgent<'a> {
    config: &'a OpenAiConfig,
    http: ureq::Agent,
    seed: u64,
    deadline: Instant,
    timeout: Duration,
}

impl<'a> OpenAiAgent<'a> {
    /// An agent for one episode that must end within `timeout`; `seed` is sent with every
    /// request (servers that support it sample reproducibly).
    #[must_use]
    pub fn new(config: &'a OpenAiConfig, seed: u64, timeout: Duration) -> OpenAiAgent<'a> {
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(config.request_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        OpenAiAgent { config, http, seed, deadline: Instant::now() + timeout, timeout }
    }

    /// Posts one request, retrying what can be retried. Returns the response's JSON.
    fn post(&self, body: &str) -> Result<Value, AgentError> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let mut last = String::new();
        for attempt in 0..=self.config.retries {
            if attempt > 0 {
                let pause = self.config.backoff.saturating_mul(1 << (attempt - 1).min(10));
                if Instant::now() + pause >= self.deadline {
                    break;
                }
                std::thread::sleep(pause);
            }
            if Instant::now() >= self.deadline {
                return Err(AgentError::Timeout(self.timeout.as_secs()));
            }
            let mut request = self.http.post(&url).header("Content-Type", "application/json");
            if let Some(key) = &self.config.api_key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            let mut response = match request.send(body) {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{url}: {e}");
                    continue;
                }
            };
            let status = response.status().as_u16();
            let text = match response.body_mut().read_to_string() {
                Ok(t) => t,
                Err(e) => {
                    last = format!("{url}: reading the answer: {e}");
                    continue;
                }
            };
            if status == 429 || status >= 500 {
                last = format!("{url}: HTTP {status}: {}", snippet(&text));
                continue;
            }
            if status >= 400 {
                return Err(AgentError::Endpoint(format!("{url}: HTTP {status}: {}", snippet(&text))));
            }
            return serde_json::from_str(&text)
                .map_err(|e| AgentError::Endpoint(format!("{url}: the answer is not JSON ({e}): {}", snippet(&text))));
        }
        if Instant::now() >= self.deadline {
            return Err(AgentError::Timeout(self.timeout.as_secs()));
        }
        Err(AgentError::Endpoint(format!("{last} (after {} retries)", self.config.retries)))
    }
}

impl Agent for OpenAiAgent<'_> {
    fn next(&mut self, context: &Context<'_>) -> Result<Turn, AgentError> {
        let mut body = json!({
            "model": self.config.model,
            "messages": context.messages,
            "temperature": self.config.temperature,
            "seed": self.seed,
        });
        if !context.tools.is_empty() {
            body["tools"] = Value::Array(context.tools.to_vec());
            body["tool_choice"] = json!("auto");
        }
        let response = self.post(&body.to_string())?;
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
    if calls.is_empty() { Ok(Turn::Text(text)) } else { Ok(Turn::Calls(calls)) }
}

/// Arguments as JSON text, whether the server sent a string or an object.
fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Removes `<think>...</think>` blocks (an unclosed one runs to the end).
fn strip_thinking(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<think>") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("</think>") {
            Some(end) => &rest[start + end + "</think>".len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
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

/// The start of a long text, for error messages.
fn snippet(text: &str) -> String {
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() { format!("{cut}...") } else { cut }
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
