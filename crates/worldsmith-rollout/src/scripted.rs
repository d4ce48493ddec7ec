//! Scripted agents that follow a task's gold calls: `oracle` exactly, `noisy` with seeded
//! mistakes (a wrong tool, bad arguments, a skipped step), recovered some of the time.

use crate::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use crate::user::render;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::{Action, TaskLine};
use worldsmith_engine::World;
use worldsmith_engine::manifest::Effect;

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
}

/// An agent that plays a precomputed plan of calls, then states what it found.
#[derive(Debug)]
pub struct Scripted {
    plan: VecDeque<PlannedCall>,
    /// The values the user asked for.
    answers: Vec<Value>,
    confirmed: bool,
    done: bool,
}

impl Scripted {
    /// The `oracle` policy: exactly the gold calls.
    #[must_use]
    pub fn oracle(world: &World, task: &TaskLine) -> Scripted {
        Scripted::with_plan(world, task, task.actions.clone())
    }

    /// The `noisy` policy: the gold calls with mistakes drawn from `rng`.
    #[must_use]
    pub fn noisy(world: &World, task: &TaskLine, noise: Noise, rng: &mut SplitMix64) -> Scripted {
        let names: Vec<&str> = world.tools().iter().map(|t| t.name()).collect();
        let mut plan = Vec::new();
        for action in &task.actions {
            if rng.unit() >= noise.mistake_rate {
                plan.push(action.clone());
                continue;
            }
            let mistaken = match rng.below(3) {
                0 => wrong_tool(action, &names, rng),
                1 => Some(bad_arguments(action, rng)),
                _ => None, // the step is skipped
            };
            // `None`: the step is skipped.
            if let Some(wrong) = mistaken {
                plan.push(wrong);
                if rng.unit() < noise.recovery_rate {
                    plan.push(action.clone());
                }
            }
        }
        Scripted::with_plan(world, task, plan)
    }

    fn with_plan(world: &World, task: &TaskLine, plan: Vec<Action>) -> Scripted {
        let plan = plan
            .into_iter()
            .map(|action| {
                let write = world.tool(&action.name).is_some_and(|t| t.effect() == Effect::Write);
                PlannedCall { action, write }
            })
            .collect();
        Scripted { plan, answers: task.answers.clone(), confirmed: false, done: false }
    }
}

impl Agent for Scripted {
    fn next(&mut self, context: &Context<'_>) -> Result<Turn, AgentError> {
        if let Some(step) = self.plan.front() {
            if step.write && !self.confirmed {
                self.confirmed = true;
                let writes: Vec<&Action> = self.plan.iter().filter(|s| s.write).map(|s| &s.action).collect();
                return Ok(Turn::Text(format!(
                    "To do this I will {}. Shall I go ahead? (yes/no)",
                    describe_calls(&writes)
                )));
            }
            let step = self.plan.pop_front().expect("a step");
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

/// The agent's last message: the answers it saw in its successful calls' results, or a
/// statement that the work is done.
fn final_message(answers: &[Value], context: &Context<'_>) -> String {
    let seen: Vec<String> = answers
        .iter()
        .filter(|a| context.calls.iter().any(|c| c.ok && contains_scalar(&c.value, a)))
        .map(render)
        .collect();
    let wrote = context.calls.iter().any(|c| c.wrote);
    match (seen.is_empty(), wrote) {
        (false, _) => format!("Here is what you asked for: {}.", seen.join(", ")),
        (true, true) => "All done: the changes are saved.".to_owned(),
        (true, false) => "I could not find what you asked for.".to_owned(),
    }
}

/// Whether `needle` (a scalar) occurs anywhere inside `haystack`.
fn contains_scalar(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|v| contains_scalar(v, needle)),
        Value::Object(map) => map.values().any(|v| contains_scalar(v, needle)),
        scalar => worldsmith_core::canonical::json_eq(scalar, needle),
    }
}

/// "call cancel_order with order_id ORD-1, then call a and b with user_id U-1": calls with
/// the same arguments are named together, and a repeated call once.
fn describe_calls(actions: &[&Action]) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for action in actions {
        let args: Vec<String> = action
            .arguments
            .as_object()
            .map(|m| m.iter().map(|(k, v)| format!("{k} {}", render(v))).collect())
            .unwrap_or_default();
        let args = args.join(", ");
        match groups.iter_mut().find(|(a, _)| *a == args) {
            Some((_, names)) if names.contains(&action.name.as_str()) => {}
            Some((_, names)) => names.push(&action.name),
            None => groups.push((args, vec![&action.name])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(args, names)| {
            let names = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => names.join(""),
            };
            if args.is_empty() { format!("call {names}") } else { format!("call {names} with {args}") }
        })
        .collect();
    parts.join(", then ")
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
    fn calls_with_the_same_arguments_are_described_together() {
        let a = Action { name: "a".to_owned(), arguments: json!({"id": "U-1"}) };
        let b = Action { name: "b".to_owned(), arguments: json!({"id": "U-1"}) };
        let c = Action { name: "c".to_owned(), arguments: json!({}) };
        assert_eq!(describe_calls(&[&a, &b, &a, &c]), "call a and b with id U-1, then call c");
    }

    #[test]
    fn scalars_are_found_at_any_depth_and_by_value() {
        let value = json!({"items": [{"price": 3.0}, {"id": "A"}]});
        assert!(contains_scalar(&value, &json!(3)));
        assert!(contains_scalar(&value, &json!("A")));
        assert!(!contains_scalar(&value, &json!("B")));
    }
}
