//! Scripted agents that follow a task's gold calls: `oracle` exactly, `noisy` with seeded
//! mistakes (a wrong tool, bad arguments, a skipped step), recovered some of the time.

use crate::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use worldsmith_core::canonical::contains_scalar;
use worldsmith_core::ident::looks_like_id;
use worldsmith_core::prose::{and_list as join, plain as render};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::{Action, Answer, AnswerKind, TaskLine};
use worldsmith_engine::manifest::Effect;
use worldsmith_engine::{Tool, World};

/// How often and how the `noisy` policy errs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The chance that a gold call comes with a mistake.
    pub mistake_rate: f64,
    /// The chance that the agent retries the right call after a wrong one.
    pub recovery_rate: f64,
}

impl Default for Noise {
    fn default() -> Noise {
        Noise { mistake_rate: 0.2, recovery_rate: 0.6 }
    }
}

/// One step of a scripted agent's plan.
#[derive(Debug, Clone)]
struct PlannedCall {
    action: Action,
    /// Writes need the user's confirmation first.
    write: bool,
    /// A deliberate mistake of the `noisy` policy (its made-up arguments are the mistake).
    mistake: bool,
}

/// An agent that plays a precomputed plan of calls, then states what it found.
///
/// It says only what it knows at that moment: before a call that needs a fact the user has
/// not given yet, it asks for it; before each write it asks for confirmation of that write
/// alone, with the arguments already seen in the conversation; its last message states the
/// answers it read in its calls' results.
#[derive(Debug, Clone)]
pub struct Scripted {
    plan: VecDeque<PlannedCall>,
    /// The values the user asked for.
    answers: Vec<Answer>,
    /// The user's facts, by name.
    facts: Vec<(String, Value)>,
    /// Facts already asked for (each at most once).
    asked: Vec<String>,
    confirmed: bool,
    done: bool,
}

impl Scripted {
    /// The `oracle` policy: exactly the gold calls.
    #[must_use]
    pub fn oracle(world: &World, task: &TaskLine) -> Scripted {
        Scripted::with_plan(world, task, task.actions.iter().map(|a| (a.clone(), false)).collect())
    }

    /// The `noisy` policy: the gold calls with mistakes drawn from `rng`.
    #[must_use]
    pub fn noisy(world: &World, task: &TaskLine, noise: Noise, rng: &mut SplitMix64) -> Scripted {
        let names: Vec<&str> = world.tools().iter().map(Tool::name).collect();
        let mut plan = Vec::new();
        for action in &task.actions {
            if rng.unit() >= noise.mistake_rate {
                plan.push((action.clone(), false));
                continue;
            }
            let mistaken = match rng.below(3) {
                0 => wrong_tool(action, &names, rng),
                1 => Some(bad_arguments(action, rng)),
                _ => None, // the step is skipped
            };
            // `None`: the step is skipped.
            if let Some(wrong) = mistaken {
                plan.push((wrong, true));
                if rng.unit() < noise.recovery_rate {
                    plan.push((action.clone(), false));
                }
            }
        }
        Scripted::with_plan(world, task, plan)
    }

    fn with_plan(world: &World, task: &TaskLine, plan: Vec<(Action, bool)>) -> Scripted {
        let plan = plan
            .into_iter()
            .map(|(action, mistake)| {
                let write = world.tool(&action.name).is_some_and(|t| t.effect() == Effect::Write);
                PlannedCall { action, write, mistake }
            })
            .collect();
        let facts = task
            .scenario
            .as_ref()
            .map(|s| s.known_facts.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Scripted { plan, answers: task.answers.clone(), facts, asked: Vec::new(), confirmed: false, done: false }
    }
}

impl Agent for Scripted {
    fn next(&mut self, context: &Context<'_>) -> Result<Turn, AgentError> {
        let seen = conversation_text(context);
        // A gold step whose identifiers the agent has not seen (a skipped lookup would have
        // given them) cannot be taken honestly: it is dropped, not guessed. (A deliberate
        // mistake's made-up identifiers are the mistake itself.)
        while let Some(step) = self.plan.front().filter(|s| !s.mistake) {
            let unseen = |v: &Value| {
                v.as_str().is_some_and(looks_like_id)
                    && !said(&seen, v)
                    && !self.facts.iter().any(|(_, f)| worldsmith_core::canonical::json_eq(f, v))
            };
            if scalars(&step.action.arguments).into_iter().any(unseen) {
                self.plan.pop_front();
                self.confirmed = false;
            } else {
                break;
            }
        }
        if let Some(step) = self.plan.front() {
            let missing: Vec<String> = self
                .facts
                .iter()
                .filter(|(name, value)| {
                    !self.asked.contains(name) && uses(&step.action.arguments, value) && !said(&seen, value)
                })
                .map(|(name, _)| name.clone())
                .collect();
            if !missing.is_empty() {
                let spoken: Vec<String> = missing.iter().map(|n| n.replace('_', " ")).collect();
                self.asked.extend(missing);
                return Ok(Turn::Text(format!("Could you tell me your {}?", join(&spoken))));
            }
            if step.write && !self.confirmed {
                self.confirmed = true;
                return Ok(Turn::Text(format!(
                    "Next I will {}. Shall I go ahead? (yes/no)",
                    describe_call(&step.action, &seen)
                )));
            }
            let step = self.plan.pop_front().expect("a step");
            self.confirmed = false;
            return Ok(Turn::Calls(vec![ProposedCall {
                name: step.action.name,
                arguments: step.action.arguments.to_string(),
            }]));
        }
        if self.done {
            return Ok(Turn::Text("Is there anything else I can help with?".to_owned()));
        }
        self.done = true;
        Ok(Turn::Text(final_message(&self.answers, context)))
    }
}

/// Everything the agent has been told so far (user and tool messages), lower-cased.
fn conversation_text(context: &Context<'_>) -> String {
    let mut text = String::new();
    for m in context.messages.iter().filter(|m| m.role == "user" || m.role == "tool") {
        text.push_str(&m.content.as_deref().unwrap_or("").to_lowercase());
        text.push('\n');
    }
    text
}

/// Whether `value` has been said in `seen` (lower-cased conversation text).
fn said(seen: &str, value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().all(|v| said(seen, v)),
        Value::Object(map) => map.values().all(|v| said(seen, v)),
        v => seen.contains(&render(v).to_lowercase()),
    }
}

/// Every scalar inside a value.
fn scalars(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(scalars).collect(),
        Value::Object(map) => map.values().flat_map(scalars).collect(),
        v => vec![v],
    }
}

/// Whether an argument value (at any depth) is `value`.
fn uses(arguments: &Value, value: &Value) -> bool {
    worldsmith_core::canonical::json_eq(arguments, value)
        || match arguments {
            Value::Array(items) => items.iter().any(|v| uses(v, value)),
            Value::Object(map) => map.values().any(|v| uses(v, value)),
            _ => false,
        }
}

/// The agent's last message: the answers whose values it read in its successful calls'
/// results, one sentence each ("The total is 58.16."), or a statement that the work is
/// done.
fn final_message(answers: &[Answer], context: &Context<'_>) -> String {
    let seen: Vec<String> = answers
        .iter()
        .filter(|a| a.members().iter().all(|v| context.calls.iter().any(|c| c.ok && contains_scalar(&c.value, v))))
        .map(state_answer)
        .collect();
    let wrote = context.calls.iter().any(|c| c.wrote);
    match (seen.is_empty(), wrote) {
        (false, _) => format!("Here is what you asked for. {}", seen.join(" ")),
        (true, true) => "All done: the changes are saved.".to_owned(),
        (true, false) => "I could not find what you asked for.".to_owned(),
    }
}

/// One answer as a sentence: "The total is 58.16.", "The order ids are .",
/// "Refundable: yes."
fn state_answer(answer: &Answer) -> String {
    let value = match (&answer.value, answer.kind) {
        (Value::Array(items), AnswerKind::List) => join(&items.iter().map(render).collect::<Vec<_>>()),
        (Value::Number(n), AnswerKind::Money) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        (Value::Bool(b), _) => (if *b { "yes" } else { "no" }).to_owned(),
        (v, _) => render(v),
    };
    match (&answer.label, answer.kind) {
        (Some(label), AnswerKind::Boolean) => format!("{}: {value}.", capitalized(label)),
        (Some(label), AnswerKind::List) => match (answer.value.as_array().map(Vec::len), label.strip_suffix('s')) {
            (Some(1), Some(one)) => format!("The {one} is {value}."),
            _ => format!("The {label} are {value}."),
        },
        (Some(label), _) => format!("The {label} is {value}."),
        (None, _) => format!("{value}."),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// One call in words, with the arguments already seen in the conversation:
/// "cancel order with order id ORD-1 and reason ordered by mistake".
fn describe_call(action: &Action, seen: &str) -> String {
    let args: Vec<String> = action
        .arguments
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| said(seen, v))
                .map(|(k, v)| format!("{} {}", k.replace('_', " "), spoken_value(v)))
                .collect()
        })
        .unwrap_or_default();
    let name = action.name.replace(['_', '-'], " ");
    if args.is_empty() { name } else { format!("{name} with {}", join(&args)) }
}

/// A value as said in a sentence: strings bare, lists joined with "and".
fn spoken_value(value: &Value) -> String {
    match value {
        Value::Array(items) => join(&items.iter().map(spoken_value).collect::<Vec<_>>()),
        other => render(other),
    }
}

/// The gold arguments sent to another tool of the world.
fn wrong_tool(action: &Action, names: &[&str], rng: &mut SplitMix64) -> Option<Action> {
    let others: Vec<&str> = names.iter().copied().filter(|n| *n != action.name).collect();
    if others.is_empty() {
        return None;
    }
    let name = others[rng.below(others.len() as u64) as usize];
    Some(Action { name: name.to_owned(), arguments: action.arguments.clone() })
}

/// The gold call with one argument dropped or changed, or with an undeclared one added.
fn bad_arguments(action: &Action, rng: &mut SplitMix64) -> Action {
    let mut args: Map<String, Value> = action.arguments.as_object().cloned().unwrap_or_default();
    let keys: Vec<String> = args.keys().cloned().collect();
    if keys.is_empty() {
        args.insert("note".to_owned(), Value::String("please hurry".to_owned()));
    } else {
        let key = &keys[rng.below(keys.len() as u64) as usize];
        if rng.below(2) == 0 {
            args.remove(key);
        } else {
            let changed = match &args[key] {
                Value::String(s) => Value::String(format!("{s}-X")),
                Value::Number(n) => serde_json::json!(n.as_f64().unwrap_or(0.0) + 1.0),
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            };
            args.insert(key.clone(), changed);
        }
    }
    Action { name: action.name.clone(), arguments: Value::Object(args) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_arguments_always_differ_from_the_gold_ones() {
        let action = Action { name: "t".to_owned(), arguments: json!({"a": "x", "b": 2, "c": true}) };
        let mut rng = SplitMix64::new(7);
        for _ in 0..50 {
            let bad = bad_arguments(&action, &mut rng);
            assert!(!worldsmith_core::canonical::json_eq(&bad.arguments, &action.arguments));
        }
        let empty = Action { name: "t".to_owned(), arguments: json!({}) };
        assert_eq!(bad_arguments(&empty, &mut rng).arguments, json!({"note": "please hurry"}));
    }

    #[test]
    fn a_call_is_described_with_the_arguments_already_seen() {
        let a = Action {
            name: "cancel_order".to_owned(),
            arguments: json!({"order_id": "ORD-1", "reason": "no longer needed"}),
        };
        assert_eq!(describe_call(&a, "order ord-1 please"), "cancel order with order id ORD-1");
        assert_eq!(
            describe_call(&a, "order ord-1, no longer needed"),
            "cancel order with order id ORD-1 and reason no longer needed"
        );
        assert_eq!(describe_call(&a, ""), "cancel order");
    }

    #[test]
    fn answers_are_stated_one_sentence_each() {
        let total = Answer::infer(json!(5.5), Some("total".to_owned()));
        assert_eq!(state_answer(&total), "The total is 5.50.");
        let ids = Answer::infer(json!(["A-1", "A-2"]), Some("order ids".to_owned()));
        assert_eq!(state_answer(&ids), "The order ids are A-1 and A-2.");
        let one = Answer::infer(json!(["A-1"]), Some("order ids".to_owned()));
        assert_eq!(state_answer(&one), "The order id is A-1.");
        let flag = Answer::infer(json!(false), Some("refundable".to_owned()));
        assert_eq!(state_answer(&flag), "Refundable: no.");
    }

    #[test]
    fn scalars_are_found_at_any_depth_and_by_value() {
        let value = json!({"items": [{"price": 3.0}, {"id": "A"}]});
        assert!(contains_scalar(&value, &json!(3)));
        assert!(contains_scalar(&value, &json!("A")));
        assert!(!contains_scalar(&value, &json!("B")));
    }
}
