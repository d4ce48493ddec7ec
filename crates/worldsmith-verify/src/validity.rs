//! Layer 1: well-formed turns and no degenerate repetition.

use std::collections::{BTreeSet, HashMap};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::episode::{EndReason, Episode, Invalid, Message};

/// The longest run of identical consecutive tool calls a sane agent makes.
const MAX_SAME_CALL_RUN: usize = 3;
/// A word n-gram repeated more often than this inside one assistant message is a loop
/// (a legitimate list, such as a confirmation naming five deletes or an answer naming eight
/// ids, repeats its frame at most once per item).
const NGRAM: usize = 4;
const MAX_NGRAM_REPEATS: usize = 10;
/// A message of at least this many n-grams whose distinct share is below
/// [`MIN_DISTINCT_SHARE`] goes round in circles.
const MIN_NGRAMS_FOR_SHARE: usize = 24;
const MIN_DISTINCT_SHARE: f64 = 0.3;
/// The same assistant text this often in one episode is degenerate.
const MAX_SAME_TEXT: usize = 3;

/// One problem with an episode's form: its kind and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The kind.
    pub kind: Invalid,
    /// What is wrong, for people.
    pub message: String,
}

impl Problem {
    /// A problem of `kind`.
    #[must_use]
    pub fn new(kind: Invalid, message: String) -> Problem {
        Problem { kind, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

/// The first problem with an episode's form, or `None` when it is well formed.
pub fn problem(episode: &Episode) -> Option<Problem> {
    if episode.end != EndReason::UserStop {
        let how = match episode.end {
            EndReason::StepLimit => "the step limit",
            EndReason::Timeout => "a timeout",
            _ => "an agent error",
        };
        return Some(Problem::new(Invalid::Ended, format!("the episode ended on {how}, not by the user")));
    }
    turns(episode).or_else(|| repetition(episode)).or_else(|| ungrounded(episode))
}

/// A successful call that passes an identifier no earlier system, user or tool message
/// gave: the agent made it up and the world happened to accept it (a generated world that
/// stores any foreign key, say). Such a turn must not be trained on, and a reward must not
/// pay for it. (A made-up identifier that fails is a visible mistake the agent may recover
/// from.)
fn ungrounded(episode: &Episode) -> Option<Problem> {
    let mut seen = String::new();
    let mut call = 0;
    for m in &episode.messages {
        match m.role.as_str() {
            "assistant" => {
                for _ in &m.tool_calls {
                    let outcome = episode.calls.get(call)?;
                    call += 1;
                    if !outcome.ok {
                        continue;
                    }
                    if let Some(id) = unseen_identifier(&seen, &outcome.arguments) {
                        return Some(Problem::new(
                            Invalid::Ungrounded,
                            format!("call {call} ({}) uses `{id}`, which no earlier message gave", outcome.name),
                        ));
                    }
                }
            }
            _ => {
                seen.push_str(&m.content.as_deref().unwrap_or("").to_lowercase());
                seen.push('\n');
            }
        }
    }
    None
}

/// The identifier in `arguments` that no system, user or tool message of `history` gave: the
/// rule of `invalid: ungrounded`, for one call about to be made (a PRM's judge, a search).
#[must_use]
pub fn made_up_identifier<'a>(history: &[Message], arguments: &'a serde_json::Value) -> Option<&'a str> {
    let seen: String = history
        .iter()
        .filter(|m| m.role != "assistant")
        .map(|m| m.content.as_deref().unwrap_or("").to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    unseen_identifier(&seen, arguments)
}

/// The first identifier of `arguments` that `seen` (lower-cased conversation text) lacks.
fn unseen_identifier<'a>(seen: &str, arguments: &'a serde_json::Value) -> Option<&'a str> {
    identifiers(arguments).find(|id| !seen.contains(&id.to_lowercase()))
}

/// The identifier-like strings inside a value: letters and digits together, no spaces.
fn identifiers(value: &serde_json::Value) -> Box<dyn Iterator<Item = &str> + '_> {
    match value {
        serde_json::Value::String(s) if worldsmith_core::ident::looks_like_id(s) => {
            Box::new(std::iter::once(s.as_str()))
        }
        serde_json::Value::Array(items) => Box::new(items.iter().flat_map(identifiers)),
        serde_json::Value::Object(map) => Box::new(map.values().flat_map(identifiers)),
        _ => Box::new(std::iter::empty()),
    }
}

/// Roles, order, and the pairing of tool calls with tool results.
fn turns(episode: &Episode) -> Option<Problem> {
    let messages = &episode.messages;
    let first = messages.iter().position(|m| m.role != "system")?;
    if messages[first].role != "user" {
        return Some(Problem::new(
            Invalid::Turns,
            format!("message {} is from {}, but a user must open", first + 1, messages[first].role),
        ));
    }
    let mut pending: BTreeSet<&str> = BTreeSet::new();
    let mut calls = 0;
    for (i, m) in messages.iter().enumerate() {
        let n = i + 1;
        match m.role.as_str() {
            "system" if i < first => {}
            "tool" => {
                let Some(id) = m.tool_call_id.as_deref() else {
                    return Some(Problem::new(Invalid::Turns, format!("tool message {n} answers no call")));
                };
                if !pending.remove(id) {
                    return Some(Problem::new(
                        Invalid::Turns,
                        format!("tool message {n} answers `{id}`, which no pending call has"),
                    ));
                }
            }
            role => {
                if !pending.is_empty() {
                    return Some(Problem::new(
                        Invalid::Turns,
                        format!("message {n} comes before every tool call was answered"),
                    ));
                }
                match role {
                    "user" => {}
                    "assistant" => {
                        let text = m.content.as_deref().unwrap_or("").trim();
                        if text.is_empty() && m.tool_calls.is_empty() {
                            return Some(Problem::new(Invalid::Turns, format!("assistant message {n} is empty")));
                        }
                        for c in &m.tool_calls {
                            if !pending.insert(c.id.as_str()) {
                                return Some(Problem::new(Invalid::Turns, format!("call id `{}` is used twice", c.id)));
                            }
                            calls += 1;
                        }
                    }
                    other => {
                        return Some(Problem::new(
                            Invalid::Turns,
                            format!("message {n} has the unknown role `{other}`"),
                        ));
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        return Some(Problem::new(Invalid::Turns, "the episode ends with unanswered tool calls".to_owned()));
    }
    if calls != episode.calls.len() {
        return Some(Problem::new(
            Invalid::Turns,
            format!("{calls} tool calls in the messages but {} recorded", episode.calls.len()),
        ));
    }
    None
}

/// Degenerate repetition: the same call over and over, the same message again and again,
/// or a phrase looping inside one message.
fn repetition(episode: &Episode) -> Option<Problem> {
    let mut run = 1;
    for pair in episode.calls.windows(2) {
        if pair[0].name == pair[1].name && json_eq(&pair[0].arguments, &pair[1].arguments) {
            run += 1;
            if run > MAX_SAME_CALL_RUN {
                return Some(Problem::new(
                    Invalid::Repetition,
                    format!("`{}` called {run} times in a row with the same arguments", pair[0].name),
                ));
            }
        } else {
            run = 1;
        }
    }
    let mut texts: HashMap<&str, usize> = HashMap::new();
    for m in episode.messages.iter().filter(|m| m.role == "assistant") {
        let Some(text) = m.content.as_deref() else { continue };
        let seen = texts.entry(text.trim()).or_default();
        *seen += 1;
        if *seen >= MAX_SAME_TEXT {
            return Some(Problem::new(Invalid::Repetition, "the agent says the same thing again and again".to_owned()));
        }
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let mut grams: HashMap<&[String], usize> = HashMap::new();
        for gram in words.windows(NGRAM) {
            let count = grams.entry(gram).or_default();
            *count += 1;
            if *count > MAX_NGRAM_REPEATS {
                return Some(Problem::new(
                    Invalid::Repetition,
                    format!("\"{}\" loops inside one message", gram.join(" ")),
                ));
            }
        }
        let total = words.len().saturating_sub(NGRAM - 1);
        if total >= MIN_NGRAMS_FOR_SHARE && (grams.len() as f64) < MIN_DISTINCT_SHARE * total as f64 {
            let (gram, _) = grams.iter().max_by_key(|(g, n)| (**n, std::cmp::Reverse(g.join(" ")))).expect("n-grams");
            return Some(Problem::new(Invalid::Repetition, format!("\"{}\" loops inside one message", gram.join(" "))));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use worldsmith_core::Digest;
    use worldsmith_core::episode::Message;
    use worldsmith_core::task::TaskLine;

    fn said(text: &str) -> Option<Problem> {
        let episode = Episode {
            id: "t/oracle/0".to_owned(),
            format: 1,
            world: "w".to_owned(),
            origin: worldsmith_core::Origin::Bundled,
            policy: "oracle".to_owned(),
            trial: 0,
            messages: vec![Message::text("user", "hi"), Message::text("assistant", text), Message::text("user", "bye")],
            tools: Vec::new(),
            calls: Vec::new(),
            final_digest: Digest::default(),
            changes: None,
            end: EndReason::UserStop,
            error: None,
            task: serde_json::from_str::<TaskLine>(r#"{"id": "t"}"#).unwrap(),
            arena: None,
        };
        repetition(&episode)
    }

    #[test]
    fn lists_pass_and_loops_do_not() {
        let deletes: Vec<String> = (1..=8).map(|i| format!("call delete_player with player id P-{i}")).collect();
        assert_eq!(said(&format!("Next I will {}.", deletes.join(", then "))), None);
        let ids: Vec<String> = (1..=8).map(|i| format!("the order id is ORD-{i}")).collect();
        assert_eq!(said(&ids.join(", ")), None);
        assert!(said(&"let me check that for you ".repeat(8)).is_some());
        assert!(said(&"I will help. ".repeat(30)).is_some());
        assert!(said(&"please wait while I look ".repeat(11)).is_some());
    }
}
