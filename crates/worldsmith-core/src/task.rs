//! Task lines and replay result lines: the one task format every command reads.
//!
//! A **task line** (JSON Lines, one task per line) has `id`, optionally `world`, `actions`
//! (the gold calls, in order) and optionally `expected_digest` and `changed_records`. Other
//! fields (`scenario`, `answers`, `assertions`, `kind`, `distractors`, ...) belong to later
//! stages and are ignored by readers that do not know them.
//!
//! A **replay result line** has `id`, `results` (one `{"ok", "value"}` per call, where
//! `value` is the JSON result, the string result or the error message), `final_digest`,
//! `changed_records` and `passed`: `true`/`false` when the task line has an
//! `expected_digest` or `changed_records` to check, `null` otherwise. When `passed` is
//! false, `mismatch` says where the first difference is.

use crate::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One tool call: a tool name and its JSON arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The tool's name.
    pub name: String,
    /// The arguments, a JSON object (absent means `{}`).
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Records that differ between two states: collection -> key -> the final value, or `null`
/// for a record that was deleted. Both levels are sorted, so the JSON form is stable.
pub type ChangedRecords = BTreeMap<String, BTreeMap<String, Option<Value>>>;

/// What the simulated user knows and wants (ASTRA/AgentScaler's user scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Scenario {
    /// The user's goal, as they would state it.
    pub goal: String,
    /// Facts the user knows and gives when asked (names, ids, emails), by name.
    #[serde(default)]
    pub known_facts: BTreeMap<String, Value>,
    /// A short description of the user's manner (one of [`Persona::description`] for
    /// synthesized tasks, which the scripted user speaks in; any text otherwise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub persona: String,
    /// Names of known facts the goal withholds: the agent must ask the user for them
    /// (absent when the goal states every fact it needs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

/// The manners of synthesized users. Each changes what the scripted user says, not only
/// how a model playing the user is told to behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Persona {
    /// Polite and patient: greetings, "please" and thanks.
    Polite,
    /// In a hurry: the fewest words.
    Terse,
    /// Double-checks: asks to be told exactly.
    Careful,
    /// Chatty and unsure: explains why they are writing.
    Chatty,
    /// Frustrated after an earlier attempt, but cooperative.
    Frustrated,
    /// Formal and concise.
    Formal,
}

impl Persona {
    /// Every persona, in a fixed order.
    pub const ALL: [Persona; 6] =
        [Persona::Polite, Persona::Terse, Persona::Careful, Persona::Chatty, Persona::Frustrated, Persona::Formal];

    /// The description a task's scenario carries (and a model playing the user is given).
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Persona::Polite => "Polite and patient; answers questions briefly and precisely.",
            Persona::Terse => "In a hurry; gives only what is asked and wants it done quickly.",
            Persona::Careful => "Detail-oriented; double-checks every number before agreeing.",
            Persona::Chatty => "Unsure of the process and chatty; needs steps explained.",
            Persona::Frustrated => "Frustrated after an earlier failed attempt, but cooperative.",
            Persona::Formal => "Formal and concise; expects a clear confirmation at the end.",
        }
    }

    /// The persona a scenario's description names, if it is one of [`Persona::ALL`].
    #[must_use]
    pub fn of(description: &str) -> Option<Persona> {
        Persona::ALL.into_iter().find(|p| p.description() == description.trim())
    }
}

/// A task's kind, as synthesis decides it from the calls of its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Some call writes; checked by the final state.
    Write,
    /// Read-only; checked by the answers.
    Read,
    /// Read-only, each call's arguments from the previous call's result.
    MultiHop,
}

impl TaskKind {
    /// Every kind, in the order tables show them.
    pub const ALL: [TaskKind; 3] = [TaskKind::Write, TaskKind::Read, TaskKind::MultiHop];

    /// The name used in task lines and summaries.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Write => "write",
            TaskKind::Read => "read",
            TaskKind::MultiHop => "multi_hop",
        }
    }
}

impl std::fmt::Display for TaskKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The version of the task line format.
pub const TASK_FORMAT: u32 = 1;

/// A task line as the engine reads it (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskLine {
    /// The task's identifier: a string or a number, echoed in the result line.
    #[serde(default)]
    pub id: Value,
    /// The line format's version ([`TASK_FORMAT`]); lines without one (hand-written tasks,
    /// tau-bench's) read as 1.
    #[serde(default = "crate::format_one")]
    pub format: u32,
    /// The world the task runs in, when the command does not name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// The gold calls, in order.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// The digest the final state must have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_digest: Option<Digest>,
    /// The records the task must change, with their final values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_records: Option<ChangedRecords>,
    /// `write` (checked by state), `read` (checked by answers) or `multi_hop` (each hop's
    /// answer is the next hop's input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TaskKind>,
    /// What the simulated user knows and wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Scenario>,
    /// Values the agent must state to the user (from read results the user asked for),
    /// each typed so that it is matched by value (see [`Answer`]). A bare JSON value is read
    /// as an answer of the kind [`Answer::infer`] gives it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    /// The gold calls' results, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<CallResult>>,
    /// Tools from other worlds offered alongside the world's own (OpenAI function format),
    /// each with its similarity band (`near`, `middle`, `far`) under `"band"` and its home
    /// world under `"world"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distractors: Vec<crate::tool::Distractor>,
    /// Predicates over the final state that must hold (so alternative correct paths pass).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// For multi-hop questions: the linked sub-questions, in order (ASTRA's QA
    /// decomposition); each hop's answer is the next hop's input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<Hop>,
}

/// One sub-question of a multi-hop task and its rule-checkable answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// The sub-question.
    pub question: String,
    /// Its answers (values the call's result holds).
    pub answers: Vec<Value>,
    /// The index of the gold call that answers it.
    pub call: usize,
}

/// A predicate over one record of the final state.
///
/// With `exists: false` the record must be absent; otherwise it must exist and, when
/// `equals` is given, the value at `pointer` (a JSON pointer into the record, `""` for the
/// whole record) must equal it (numbers by value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assertion {
    /// The collection.
    pub collection: String,
    /// The record's key.
    pub key: String,
    /// A JSON pointer into the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pointer: String,
    /// The value expected at `pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// Whether the record must exist (default true).
    #[serde(default = "yes")]
    pub exists: bool,
}

fn yes() -> bool {
    true
}

/// The outcome of one call as it appears in a result line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// Whether the call succeeded (and, for a write, committed).
    pub ok: bool,
    /// The JSON result, the string result, or the error message.
    pub value: Value,
}

/// A replay result line (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayResult {
    /// The task's identifier, as given.
    pub id: Value,
    /// One entry per call, in order.
    pub results: Vec<CallResult>,
    /// The digest of the final state.
    pub final_digest: Digest,
    /// Every record whose final value differs from the initial one.
    pub changed_records: ChangedRecords,
    /// Whether the final state matched the task's expectations; `None` when it had none.
    pub passed: Option<bool>,
    /// Where the first difference is, when `passed` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
}

/// How an expected answer is matched against what the agent says (see `worldsmith-verify`'s
/// answer checker for the normalisation of each kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// An identifier: whole-token equality, case-insensitive, a leading `#` optional.
    Id,
    /// A number, equal by value (`3` is `3.0` is "three").
    Number,
    /// An amount of money, equal to the cent (`$58.16`, `58.16 USD`).
    Money,
    /// A yes/no value, also stated by affirming or negating the label.
    Boolean,
    /// One of a closed set of words (`in_transit` is "in transit").
    Enum,
    /// A calendar date or date and time.
    Date,
    /// Free text, matched as a phrase.
    Text,
    /// Several values, every one stated and no other of their kind.
    List,
}

/// One value the agent must state, with how to match it.
///
/// Serialized as `{"value": ..., "kind": "money", "label": "total"}`; `label` (the words of
/// the field the user asked about) and `item` (a list's member kind) are optional. A bare
/// JSON value (the format before answers were typed) reads as [`Answer::infer`] of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The expected value (an array for a list).
    pub value: Value,
    /// How it is matched.
    pub kind: AnswerKind,
    /// The words of the field asked about (`total`, `payment method id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For a list: the kind of its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<AnswerKind>,
    /// What the value belongs to, as a sentence names it (`account ACC-0001`), so a reply
    /// can say "The credit limit of account ACC-0001 is 5000.00."; absent when the
    /// question names no single thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Words in a label that make a number an amount of money.
const MONEY_WORDS: &[&str] = &[
    "price", "total", "amount", "fee", "fees", "cost", "balance", "refund", "charge", "fare", "paid", "payment",
    "subtotal", "salary", "limit", "deposit", "credit", "debit", "tax", "bill", "owed", "due", "spent", "value",
];

impl Answer {
    /// An answer of the kind its value and label suggest: booleans; numbers (money when the
    /// label names money: `total`, `price`, `fee`...); dates (`YYYY-MM-DD...`); identifiers
    /// (a label ending in `id`, or a value without spaces holding a digit, `@`, or only
    /// capitals); enums (one to three lower-case words); text otherwise; arrays are lists of
    /// the kind of their first member.
    #[must_use]
    pub fn infer(value: Value, label: Option<String>) -> Answer {
        let kind = kind_of(&value, label.as_deref());
        let item = match (&value, kind) {
            (Value::Array(items), AnswerKind::List) => {
                Some(items.first().map_or(AnswerKind::Text, |v| kind_of(v, label.as_deref())))
            }
            _ => None,
        };
        Answer { value, kind, label, item, subject: None }
    }

    /// The values this answer expects: its value, or a list's members.
    #[must_use]
    pub fn members(&self) -> Vec<&Value> {
        match &self.value {
            Value::Array(items) if self.kind == AnswerKind::List => items.iter().collect(),
            v => vec![v],
        }
    }

    /// The kind each member is matched as.
    #[must_use]
    pub fn member_kind(&self) -> AnswerKind {
        if self.kind == AnswerKind::List { self.item.unwrap_or(AnswerKind::Text) } else { self.kind }
    }
}

fn kind_of(value: &Value, label: Option<&str>) -> AnswerKind {
    let label_words: Vec<String> =
        label.unwrap_or("").split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect();
    match value {
        Value::Bool(_) => AnswerKind::Boolean,
        Value::Number(_) => {
            if label_words.iter().any(|w| MONEY_WORDS.contains(&w.as_str())) {
                AnswerKind::Money
            } else {
                AnswerKind::Number
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            let dated = b.len() >= 10
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[5..7].iter().all(u8::is_ascii_digit)
                && b[7] == b'-'
                && b[8..10].iter().all(u8::is_ascii_digit);
            let id_label = label_words.last().is_some_and(|w| w == "id" || w == "ids");
            let spaced = s.chars().any(char::is_whitespace);
            let id_shaped = !spaced
                && !s.is_empty()
                && (s.chars().any(|c| c.is_ascii_digit() || c == '@')
                    || (s.len() >= 4 && s.chars().all(|c| c.is_ascii_uppercase())));
            if dated {
                AnswerKind::Date
            } else if (id_label && !spaced) || id_shaped {
                AnswerKind::Id
            } else if !s.is_empty()
                && s.split([' ', '_', '-']).count() <= 3
                && s.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '_' | '-'))
            {
                AnswerKind::Enum
            } else {
                AnswerKind::Text
            }
        }
        Value::Array(_) => AnswerKind::List,
        Value::Null | Value::Object(_) => AnswerKind::Text,
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Answer, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Typed {
            value: Value,
            kind: AnswerKind,
            #[serde(default)]
            label: Option<String>,
            #[serde(default)]
            item: Option<AnswerKind>,
            #[serde(default)]
            subject: Option<String>,
        }
        let value = Value::deserialize(deserializer)?;
        if let Value::Object(map) = &value
            && map.contains_key("value")
            && map.contains_key("kind")
            && let Ok(t) = serde_json::from_value::<Typed>(value.clone())
        {
            let mut answer = Answer { value: t.value, kind: t.kind, label: t.label, item: t.item, subject: t.subject };
            if answer.kind == AnswerKind::List && answer.item.is_none() {
                answer.item = Answer::infer(answer.value.clone(), answer.label.clone()).item;
            }
            return Ok(answer);
        }
        Ok(Answer::infer(value, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_values_read_as_inferred_answers() {
        let kinds = |v: Value| serde_json::from_value::<Answer>(v).unwrap().kind;
        assert_eq!(kinds(json!(true)), AnswerKind::Boolean);
        assert_eq!(kinds(json!(3)), AnswerKind::Number);
        assert_eq!(kinds(json!("2026-05-19")), AnswerKind::Date);
        assert_eq!(kinds(json!("ORD-00236")), AnswerKind::Id);
        assert_eq!(kinds(json!("ATQCPE")), AnswerKind::Id);
        assert_eq!(kinds(json!("in_transit")), AnswerKind::Enum);
        assert_eq!(kinds(json!("no longer needed at all")), AnswerKind::Text);
        assert_eq!(kinds(json!(["A-1", "A-2"])), AnswerKind::List);
        assert_eq!(Answer::infer(json!(12.5), Some("total".into())).kind, AnswerKind::Money);
        assert_eq!(Answer::infer(json!("abc"), Some("order id".into())).kind, AnswerKind::Id);
    }

    #[test]
    fn typed_answers_round_trip() {
        let a = Answer::infer(json!(["A-1", "A-2"]), Some("order ids".into()));
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text, r#"{"value":["A-1","A-2"],"kind":"list","label":"order ids","item":"id"}"#);
        assert_eq!(serde_json::from_str::<Answer>(&text).unwrap(), a);
    }
}
