//! A client for OpenAI-compatible chat-completions endpoints: vLLM, SGLang, llama.cpp,
//! Ollama, hosted APIs. Every optional LLM step of worldsmith (the `openai` rollout policy,
//! paraphrased task goals) goes through it.
//!
//! Requests are blocking (`ureq`, rustls); episodes and tasks get their concurrency from
//! threads. Transport errors, 429 and 5xx answers are retried with exponential back-off
//! until the retries or the caller's deadline run out; other 4xx answers fail at once with
//! the server's message.
//!
//! ```no_run
//! use serde_json::json;
//! use worldsmith_llm::{ChatClient, ChatConfig};
//! let client = ChatClient::new(ChatConfig::new("http://localhost:8000/v1", "Qwen/Qwen3-8B"));
//! let body = json!({"model": "Qwen/Qwen3-8B", "messages": [{"role": "user", "content": "Hi"}]});
//! let response = client.complete(&body, None).unwrap();
//! println!("{}", worldsmith_llm::message_text(&response).unwrap_or_default());
//! ```

#[cfg(feature = "testing")]
pub mod testing;

use serde_json::Value;
use std::time::{Duration, Instant};

/// Where and how to reach the model.
#[derive(Debug, Clone)]
pub struct ChatConfig {
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

impl ChatConfig {
    /// A configuration with the usual defaults (temperature 0, 120 s requests, 3 retries).
    #[must_use]
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> ChatConfig {
        ChatConfig {
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

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The endpoint failed (after retries) or answered something unusable.
    #[error("{0}")]
    Endpoint(String),
    /// The caller's deadline passed.
    #[error("timed out")]
    Timeout,
}

/// A chat-completions client.
#[derive(Debug, Clone)]
pub struct ChatClient {
    config: ChatConfig,
    http: ureq::Agent,
}

impl ChatClient {
    /// A client for `config`.
    #[must_use]
    pub fn new(config: ChatConfig) -> ChatClient {
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(config.request_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        ChatClient { config, http }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// Posts a chat-completions request body, retrying what can be retried, and returns the
    /// response's JSON. Gives up with [`LlmError::Timeout`] once `deadline` has passed.
    ///
    /// # Errors
    /// The endpoint keeps failing, answers 4xx, or answers something that is not JSON.
    pub fn complete(&self, body: &Value, deadline: Option<Instant>) -> Result<Value, LlmError> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        self.post_json(&url, body, deadline)
    }

    /// Posts a JSON body to `url` with this client's key, timeouts and retries (what
    /// [`ChatClient::complete`] does for chat completions; also for other JSON endpoints
    /// such as a reward model's scorer), and returns the response's JSON.
    ///
    /// # Errors
    /// As [`ChatClient::complete`].
    pub fn post_json(&self, url: &str, body: &Value, deadline: Option<Instant>) -> Result<Value, LlmError> {
        let body = body.to_string();
        let past = |at: Instant| deadline.is_some_and(|d| at >= d);
        let mut last = String::new();
        for attempt in 0..=self.config.retries {
            if attempt > 0 {
                let pause = self.config.backoff.saturating_mul(1 << (attempt - 1).min(10));
                if past(Instant::now() + pause) {
                    break;
                }
                std::thread::sleep(pause);
            }
            if past(Instant::now()) {
                return Err(LlmError::Timeout);
            }
            let mut request = self.http.post(url).header("Content-Type", "application/json");
            if let Some(key) = &self.config.api_key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            let mut response = match request.send(&body) {
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
                return Err(LlmError::Endpoint(format!("{url}: HTTP {status}: {}", snippet(&text))));
            }
            return serde_json::from_str(&text)
                .map_err(|e| LlmError::Endpoint(format!("{url}: the answer is not JSON ({e}): {}", snippet(&text))));
        }
        if past(Instant::now()) {
            return Err(LlmError::Timeout);
        }
        Err(LlmError::Endpoint(format!("{last} (after {} retries)", self.config.retries)))
    }
}

/// The text of a response's first choice, without `<think>` blocks, trimmed.
#[must_use]
pub fn message_text(response: &Value) -> Option<String> {
    let content = response.pointer("/choices/0/message/content")?.as_str()?;
    Some(strip_thinking(content).trim().to_owned())
}

/// Removes `<think>...</think>` blocks (an unclosed one runs to the end).
#[must_use]
pub fn strip_thinking(text: &str) -> String {
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

/// The start of a long text, for error messages.
#[must_use]
pub fn snippet(text: &str) -> String {
    clip(text, 300)
}

/// `text` cut to `max` characters, with `...` when cut (for prompts and messages).
#[must_use]
pub fn clip(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    if cut.len() < text.len() { format!("{cut}...") } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thinking_is_dropped_even_when_unclosed() {
        assert_eq!(strip_thinking("<think>a</think>b<think>c"), "b");
        assert_eq!(
            message_text(&json!({"choices": [{"message": {"content": " <think>x</think> Hi "}}]})),
            Some("Hi".into())
        );
        assert_eq!(message_text(&json!({})), None);
    }

    #[test]
    fn an_unreachable_endpoint_fails_after_the_retries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = ChatConfig {
            retries: 1,
            backoff: Duration::from_millis(1),
            ..ChatConfig::new(format!("http://127.0.0.1:{port}/v1"), "m")
        };
        let err = ChatClient::new(config).complete(&json!({}), None).unwrap_err();
        assert!(matches!(&err, LlmError::Endpoint(m) if m.contains("after 1 retries")), "{err}");
    }
}
