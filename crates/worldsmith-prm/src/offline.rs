//! Offline sampling: at each decision of a task's gold path, the gold next action as the
//! chosen one, and mistakes generated from the world (not from text) as rejected ones.

use crate::judge::Decision;
use crate::path::GoldPath;
use crate::{below, shuffle};
use serde_json::{Map, Value};
use worldsmith_core::canonical::json_eq;
use worldsmith_core::episode::{Message, ToolCall};
use worldsmith_core::prm::ErrorType;
use worldsmith_core::prose::plain;
use worldsmith_core::rng::SplitMix64;
use worldsmith_engine::manifest::Effect;
use worldsmith_engine::{State, Tool};

/// A generated mistake: its type and the rejected assistant message.
pub struct Candidate {
    /// What kind of mistake it is.
    pub error_type: ErrorType,
    /// The rejected action.
    pub action: Message,
}

/// An assistant message making one call.
#[must_use]
pub fn call_message(step: usize, name: &str, arguments: &Value) -> Message {
    Message::calls(vec![ToolCall::new(format!("call_{step}_0"), name, arguments)])
}

/// The mistakes to try at `decision` on the gold path, where the correct action is `gold`
/// and `progress` gold calls are done.
pub fn candidates(
    path: &GoldPath<'_>,
    decision: &Decision<'_>,
    progress: usize,
    gold: &Message,
    rng: &mut SplitMix64,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let point = decision.point;
    let history = decision.history;
    let mut push = |error_type: ErrorType, action: Message| {
        if action != *gold {
            out.push(Candidate { error_type, action });
        }
    };
    let next_gold = path.task.actions.get(progress);
    match gold.tool_calls.first() {
        Some(_) => {
            let Some(made) = next_gold else { return out };
            let (name, args) = (made.name.as_str(), &made.arguments);
            let step = point.step;
            if let Some(tool) = nearest_tool(path, name, args) {
                push(ErrorType::WrongTool, call_message(step, tool.name(), &restricted(args, tool)));
            }
            if let Some(d) = path.task.distractors.first() {
                push(ErrorType::WrongTool, call_message(step, &d.function.name, args));
            }
            if let Some(changed) = other_argument(point.session.state(), args, rng) {
                push(ErrorType::WrongArgumentValue, call_message(step, name, &changed));
            }
            if let Some(tool) = path.world.tool(name) {
                if let Some(dropped) = without_required(tool, args, rng) {
                    push(ErrorType::MissingArgument, call_message(step, name, &dropped));
                }
                if let Some(invented) = with_invented(path, tool, args) {
                    push(ErrorType::InventedArgument, call_message(step, name, &invented));
                }
            }
            if let Some(later) = path.task.actions.get(progress + 1)
                && !(later.name == made.name && json_eq(&later.arguments, args))
            {
                push(ErrorType::OutOfOrder, call_message(step, &later.name, &later.arguments));
            }
            if let Some(done) = decision.calls.iter().rev().find(|c| c.ok) {
                push(ErrorType::RepeatedCall, call_message(step, &done.name, &done.arguments));
            }
            if let Some(question) = redundant_question(path, history) {
                push(ErrorType::RedundantQuestion, Message::text("assistant", question));
            }
            if let Some(reply) = &path.final_reply {
                push(ErrorType::PrematureAnswer, Message::text("assistant", reply.clone()));
            }
        }
        None => {
            let text = gold.content.as_deref().unwrap_or("");
            match next_gold {
                // A question or a confirmation before the next call: the call made at once.
                Some(next) => {
                    let write = path.world.tool(&next.name).is_some_and(|t| t.effect() == Effect::Write);
                    let asks_fact = !write && text.contains('?');
                    if write {
                        push(ErrorType::UnconfirmedWrite, call_message(point.step, &next.name, &next.arguments));
                    } else if asks_fact && let Some(guess) = other_argument(point.session.state(), &next.arguments, rng)
                    {
                        push(ErrorType::WrongArgumentValue, call_message(point.step, &next.name, &guess));
                    }
                }
                // The final answer: the same reply with one value wrong.
                None if Some(text) == path.final_reply.as_deref() => {
                    if let Some(wrong) = wrong_answer(path, &point.session, text, rng) {
                        push(ErrorType::WrongAnswer, Message::text("assistant", wrong));
                    }
                }
                None => {}
            }
        }
    }
    out
}

/// The world's tool that shares the most argument names with the gold call (ties by name),
/// other than the gold call's own.
fn nearest_tool<'w>(path: &GoldPath<'w>, name: &str, args: &Value) -> Option<&'w Tool> {
    let keys: Vec<&String> = args.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    path.world
        .tools()
        .iter()
        .filter(|t| t.name() != name)
        .map(|t| {
            let declared = properties(t);
            let shared = keys.iter().filter(|k| declared.contains(&k.as_str())).count();
            (shared, t)
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.name().cmp(a.1.name())))
        .map(|(_, t)| t)
}

/// The names a tool declares as parameters.
fn properties(tool: &Tool) -> Vec<&str> {
    tool.parameters()
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The arguments a tool declares, out of `args`.
fn restricted(args: &Value, tool: &Tool) -> Value {
    let declared = properties(tool);
    let kept: Map<String, Value> = args
        .as_object()
        .map(|m| {
            m.iter().filter(|(k, _)| declared.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    Value::Object(kept)
}

/// The arguments with one value replaced by the same field of another record (a grounded
/// value that belongs to something else): the key of another record of the collection
/// the value keys, or another record's value of the field that holds it.
fn other_argument(state: &State, args: &Value, rng: &mut SplitMix64) -> Option<Value> {
    let map = args.as_object()?;
    let mut keys: Vec<&String> =
        map.keys().filter(|k| map[k.as_str()].is_string() || map[k.as_str()].is_number()).collect();
    shuffle(&mut keys, rng);
    for key in keys {
        if let Some(other) = other_value(state, &map[key.as_str()], rng) {
            let mut changed = map.clone();
            changed.insert(key.clone(), other);
            return Some(Value::Object(changed));
        }
    }
    None
}

/// How many records of a collection are looked at for another value.
const SCAN: usize = 200;

/// Another record's value in the place where `value` is found in the state.
pub(crate) fn other_value(state: &State, value: &Value, rng: &mut SplitMix64) -> Option<Value> {
    let collections: Vec<&str> = state.collections().collect();
    if let Some(key) = value.as_str() {
        for c in &collections {
            if state.contains(c, key) {
                let others: Vec<&str> = state.keys(c).take(SCAN).filter(|k| *k != key).collect();
                if !others.is_empty() {
                    return Some(Value::String(others[below(rng, others.len())].to_owned()));
                }
            }
        }
    }
    for c in &collections {
        let records: Vec<(&str, &worldsmith_engine::state::Record)> = state.scan(c).take(SCAN).collect();
        let Some(field) = records.iter().find_map(|(_, r)| {
            r.as_object().and_then(|o| o.iter().find(|(_, v)| json_eq(v, value)).map(|(f, _)| f.clone()))
        }) else {
            continue;
        };
        let others: Vec<&Value> =
            records.iter().filter_map(|(_, r)| r.get(&field)).filter(|v| !json_eq(v, value) && !v.is_null()).collect();
        if !others.is_empty() {
            return Some(others[below(rng, others.len())].clone());
        }
    }
    None
}

/// The arguments without one required parameter they give.
fn without_required(tool: &Tool, args: &Value, rng: &mut SplitMix64) -> Option<Value> {
    let map = args.as_object()?;
    let required: Vec<&str> = tool
        .parameters()
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).filter(|k| map.contains_key(*k)).collect())
        .unwrap_or_default();
    if required.is_empty() {
        return None;
    }
    let mut dropped = map.clone();
    dropped.remove(required[below(rng, required.len())]);
    Some(Value::Object(dropped))
}

/// The arguments with one the tool does not declare: a parameter name of another tool of
/// the world, with that tool's kind of value.
fn with_invented(path: &GoldPath<'_>, tool: &Tool, args: &Value) -> Option<Value> {
    let map = args.as_object()?;
    let declared = properties(tool);
    let name = path
        .world
        .tools()
        .iter()
        .flat_map(properties)
        .find(|p| !declared.contains(p) && !map.contains_key(*p))
        .unwrap_or("note");
    let mut invented = map.clone();
    invented.insert(name.to_owned(), Value::String("as discussed".to_owned()));
    Some(Value::Object(invented))
}

/// "Could you tell me your <fact>?" for a fact the user already gave.
fn redundant_question(path: &GoldPath<'_>, history: &[Message]) -> Option<String> {
    let facts = path.task.scenario.as_ref()?.known_facts.iter();
    for (name, value) in facts {
        let spoken = plain(value).to_lowercase();
        let given = history
            .iter()
            .filter(|m| m.role == "user")
            .any(|m| m.content.as_deref().is_some_and(|c| c.to_lowercase().contains(&spoken)));
        if given && !spoken.is_empty() {
            return Some(format!("Could you tell me your {}?", name.replace('_', " ")));
        }
    }
    None
}

/// The final reply with one stated value replaced by a wrong one of the same kind.
fn wrong_answer(
    path: &GoldPath<'_>,
    state: &worldsmith_engine::Session,
    text: &str,
    rng: &mut SplitMix64,
) -> Option<String> {
    for answer in &path.task.answers {
        for member in answer.members() {
            let wrong = match member {
                Value::Bool(_) => None,
                Value::Number(n) => {
                    let v = n.as_f64()?;
                    Some(Value::from(if v.fract() == 0.0 { v + 1.0 } else { (v * 1.1 * 100.0).round() / 100.0 }))
                }
                v => other_value(state.state(), v, rng).filter(|o| !o.is_object() && !o.is_array()),
            };
            let Some(wrong) = wrong else { continue };
            for spoken in spellings(member) {
                if let Some(at) = text.find(&spoken) {
                    let replaced = spellings(&wrong).into_iter().next()?;
                    return Some(format!("{}{}{}", &text[..at], replaced, &text[at + spoken.len()..]));
                }
            }
        }
    }
    None
}

/// How a value may be written in a reply: plainly, and for numbers with two decimals.
fn spellings(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = value.as_f64().filter(|_| value.is_number()) {
        out.push(format!("{n:.2}"));
    }
    out.push(plain(value));
    out
}
