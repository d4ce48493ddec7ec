//! Optional LLM refinement: a tool whose generated implementation fails the self-check is
//! given to a chat model (any OpenAI-compatible endpoint) to write in Starlark.
//!
//! The model sees the tool (name, description, effect, parameters, response schema), the
//! world's collections (keys, field types, foreign keys, a sample record), the `db` API and
//! why the generated version failed. Its script goes through the same self-check as the
//! generated one; when it fails (a parse error, a refusal, a write that changes nothing),
//! the error is sent back and the model tries again, at most [`Refiner::retries`] more
//! times. A script that never passes leaves the tool out of the world, as before.

use crate::infer::{Collection, Planned};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use worldsmith_core::tool::ToolSpec;
use worldsmith_llm::{ChatClient, message_text};

const SYSTEM: &str = "You implement one tool of a simulated API as a Starlark function. \
Starlark is Python without classes, exceptions, `while`, recursion and imports. \
The state is a set of collections of JSON records, each keyed by a string. \
The `db` API: db.get(c, key) -> dict or None; db.exists(c, key); \
db.find(c, {\"field\": value}, limit=N) -> list of records; \
db.scan(c, {\"field\": value}) -> list of (key, record) pairs; db.count(c, query); \
db.insert(c, key, record); db.put(c, key, record); db.delete(c, key); \
db.next_key(c, prefix) -> an unused key. A record from db.get is a dict: change it in place \
and the change is saved when the call succeeds. fail(\"message\") refuses the call and \
changes nothing. Integer keys arrive as numbers: use str(...) for db calls. \
Define exactly `def run(**args):` and read arguments with args.get(\"name\"). \
A write tool must change the state when it succeeds; a read tool must not write. \
Return a JSON-like value (dict, list, string, number). \
Answer with one ```python code block and nothing else.";

/// A chat model that writes tool implementations.
pub struct Refiner {
    client: ChatClient,
    /// How many more times the model is asked after a failed script.
    pub retries: usize,
}

/// What one tool's refinement came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// Requests made to the model.
    pub attempts: usize,
    /// The accepted script and the arguments it passed the self-check with.
    pub accepted: Option<(String, Value)>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// The prompt material for one failing tool.
#[derive(Debug, Clone)]
pub struct Request {
    prompt: String,
}

impl Request {
    /// Describes the tool `p` (from `tool`), the world's collections and data, and why the
    /// generated implementation failed.
    #[must_use]
    pub fn new(
        p: &Planned,
        tool: &ToolSpec,
        collections: &[Collection],
        data: &BTreeMap<String, BTreeMap<String, Value>>,
        failure: &str,
    ) -> Request {
        let mut s = String::new();
        let effect = if crate::writes(p) { "write" } else { "read" };
        let _ = writeln!(s, "Tool `{}` ({effect}): {}", p.name, tool.description.trim());
        let _ = writeln!(s, "Parameters (JSON Schema): {}", p.parameters);
        if let Some(response) = &tool.response {
            let _ = writeln!(s, "Response (JSON Schema): {}", clip(&response.to_string(), 1500));
        }
        let _ = writeln!(s, "It works mainly on the `{}` collection.\n\nCollections:", p.collection);
        for c in collections {
            let fields: Vec<String> = c.fields.iter().map(|(f, field)| format!("{f}: {}", field.kind)).collect();
            let _ = writeln!(
                s,
                "- `{}`: key `{}` ({}); fields {}",
                c.name,
                c.key,
                if c.numeric_key { "integer ids as strings" } else { "string" },
                fields.join(", ")
            );
            for (f, target) in &c.foreign_keys {
                let _ = writeln!(s, "  `{f}` refers to a `{target}` key");
            }
            if let Some((key, record)) = data.get(&c.name).and_then(|r| r.iter().next()) {
                let _ = writeln!(s, "  e.g. key {key:?}: {}", clip(&record.to_string(), 600));
            }
        }
        let _ = writeln!(
            s,
            "\nThe generated implementation failed its check (a call on arguments taken from the data): {failure}\nWrite `run`."
        );
        Request { prompt: s }
    }

    /// The user message.
    #[must_use]
    pub fn prompt(&self) -> &str {
        &self.prompt
    }
}

impl Refiner {
    /// A refiner asking `client`'s model, with `retries` more tries after a failed script.
    #[must_use]
    pub fn new(client: ChatClient, retries: usize) -> Refiner {
        Refiner { client, retries }
    }

    /// Asks the model for a script and checks it with `check` (which returns the arguments
    /// it passed with, or why it failed), feeding each failure back, within the retries.
    pub fn implement(&self, request: &Request, check: &dyn Fn(&str) -> Result<Value, String>) -> Refinement {
        let mut messages =
            vec![json!({"role": "system", "content": SYSTEM}), json!({"role": "user", "content": request.prompt})];
        let mut outcome = Refinement { attempts: 0, accepted: None, last_error: None };
        for _ in 0..=self.retries {
            outcome.attempts += 1;
            let body = json!({
                "model": self.client.config().model,
                "temperature": self.client.config().temperature,
                "messages": messages,
            });
            let text = match self.client.complete(&body, None) {
                Ok(response) => message_text(&response).unwrap_or_default(),
                Err(e) => {
                    // The endpoint, not the script, failed: asking again would not help.
                    outcome.last_error = Some(format!("llm: {e}"));
                    return outcome;
                }
            };
            let error = match code_of(&text) {
                None => "the answer has no ```python block defining run(**args)".to_owned(),
                Some(source) => match check(&source) {
                    Ok(args) => {
                        outcome.accepted = Some((source, args));
                        outcome.last_error = None;
                        return outcome;
                    }
                    Err(e) => e,
                },
            };
            outcome.last_error = Some(format!("llm script: {error}"));
            messages.push(json!({"role": "assistant", "content": text}));
            messages.push(json!({
                "role": "user",
                "content": format!("The check failed: {error}\nAnswer with the whole corrected script."),
            }));
        }
        outcome
    }
}

/// The Starlark source in an answer: its first fenced block, else the whole answer when it
/// defines `run`. Ends with a newline.
fn code_of(text: &str) -> Option<String> {
    let code = match text.find("```") {
        Some(start) => {
            let rest = &text[start + 3..];
            let body = rest.split_once('\n').map_or("", |(_, b)| b);
            body.split("```").next().unwrap_or(body)
        }
        None => text,
    };
    code.contains("def run").then(|| format!("{}\n", code.trim_end()))
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}...", s.chars().take(n).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_comes_from_the_first_fenced_block() {
        let answer = "Here:\n```python\ndef run(**args):\n    return 1\n```\nDone.";
        assert_eq!(code_of(answer).unwrap(), "def run(**args):\n    return 1\n");
        assert_eq!(code_of("def run(**args):\n    return 2").unwrap(), "def run(**args):\n    return 2\n");
        assert_eq!(code_of("```\nprint(1)\n```"), None);
    }
}
