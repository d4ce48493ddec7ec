//! Scripted agents that follow a task's gold calls: `oracle` exactly, `noisy` with seeded
//! mistakes (a wrong tool, bad arguments, a skipped step), recovered some of the time.

use crate::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use worldsmith_core::canonical::contains_scalar;
use worldsmith_core::ident::looks_like_id;
use worldsmith_core::intent::tool_intent;
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
    /// What the call does, in words ("cancel the order").
    does: String,
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
    /// Chooses among phrasings (a stream of the task id, the same for both policies).
    words: SplitMix64,
}

impl Scripted {
    /// The `oracle` policy: exactly the gold calls.
    #[must_use]
    pub fn oracle(world: &World, task: &TaskLine) -> Scripted {
        let words = SplitMix64::for_stream(0, &format!("words/{}", task_id(task)));
        Scripted::with_plan(world, task, task.actions.iter().map(|a| (a.clone(), false)).collect(), words)
    }

    /// The `noisy` policy: the gold calls with mistakes drawn from `rng`.
    #[must_use]
    pub fn noisy(world: &World, task: &TaskLine, noise: Noise, rng: &mut SplitMix64) -> Scripted {
        let names: Vec<&str> = world.tools().iter().map(Tool::name).collect();
        let withheld: Vec<&Value> =
            task.scenario.iter().flat_map(|s| s.withheld.iter().filter_map(|n| s.known_facts.get(n))).collect();
        let mut asked_for: Vec<&Value> = Vec::new();
        let mut plan = Vec::new();
        for action in &task.actions {
            // The first call that needs a withheld fact: sometimes made without asking for
            // it (the argument left out, so the call fails), then asked for after all.
            let needs: Vec<&Value> =
                withheld.iter().copied().filter(|v| uses(&action.arguments, v) && !asked_for.contains(v)).collect();
            if !needs.is_empty() {
                asked_for.extend(needs.iter().copied());
                if rng.unit() < noise.mistake_rate {
                    let mut args = action.arguments.as_object().cloned().unwrap_or_default();
                    args.retain(|_, v| !needs.iter().any(|n| uses(v, n)));
                    plan.push((Action { name: action.name.clone(), arguments: Value::Object(args) }, true));
                }
                // No other mistake here: it would show the fact before the user gave it.
                plan.push((action.clone(), false));
                continue;
            }
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
        // The oracle's phrasings: a noisy episode without mistakes is the oracle's.
        let words = SplitMix64::for_stream(0, &format!("words/{}", task_id(task)));
        Scripted::with_plan(world, task, plan, words)
    }

    fn with_plan(world: &World, task: &TaskLine, plan: Vec<(Action, bool)>, words: SplitMix64) -> Scripted {
        let plan = plan
            .into_iter()
            .map(|(action, mistake)| {
                let write = world.tool(&action.name).is_some_and(|t| t.effect() == Effect::Write);
                let does = what_it_does(world, &action.name);
                PlannedCall { action, write, does, mistake }
            })
            .collect();
        let facts = task
            .scenario
            .as_ref()
            .map(|s| s.known_facts.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Scripted { plan, answers: task.answers.clone(), facts, asked: Vec::new(), confirmed: false, done: false, words }
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
                let spoken: Vec<String> = missing.iter().map(|n| crate::user::spoken(n)).collect();
                self.asked.extend(missing);
                let what = join(&spoken);
                let options = [
                    format!("Could you tell me your {what}?"),
                    format!("To go on I need your {what}. What is it?"),
                    format!("What is your {what}, please?"),
                    format!("Sure, I can help with that. Could you give me your {what}?"),
                ];
                return Ok(Turn::Text(choose(&mut self.words, &options)));
            }
            if step.write && !self.confirmed {
                self.confirmed = true;
                return Ok(Turn::Text(format!(
                    "Next I will {}. Shall I go ahead? (yes/no)",
                    describe_call(&step.action, &step.does, &seen)
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
        Ok(Turn::Text(final_message(&self.answers, context, &mut self.words)))
    }
}

/// One of `options`, by the generator.
fn choose(rng: &mut SplitMix64, options: &[String]) -> String {
    options[rng.below(options.len() as u64) as usize].clone()
}

/// A task's id as text (for the streams of its phrasings).
fn task_id(task: &TaskLine) -> String {
    match &task.id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
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
        v => {
            // As a whole token: `CUS-0118` is not said by a made-up `CUS-0118-X`.
            let needle = render(v).to_lowercase();
            let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
            !needle.is_empty()
                && seen.match_indices(&needle).any(|(at, _)| {
                    !part(seen[..at].chars().next_back()) && !part(seen[at + needle.len()..].chars().next())
                })
        }
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
/// results, one sentence each naming the value by its label and what it belongs to ("The
/// credit limit of account ACC-0001 is 5,000.00."), in one of several phrasings, or a
/// statement that the work is done.
fn final_message(answers: &[Answer], context: &Context<'_>, rng: &mut SplitMix64) -> String {
    let seen: Vec<String> = answers
        .iter()
        .filter(|a| a.members().iter().all(|v| context.calls.iter().any(|c| c.ok && contains_scalar(&c.value, v))))
        .map(|a| state_answer(a, rng))
        .collect();
    let wrote = context.calls.iter().any(|c| c.wrote);
    let pick = |rng: &mut SplitMix64, options: &[&str]| options[rng.below(options.len() as u64) as usize].to_owned();
    match (seen.is_empty(), wrote) {
        (false, true) => {
            let open =
                pick(rng, &["All done: the changes are saved.", "Done.", "That's done.", "Everything is updated."]);
            format!("{open} {}", seen.join(" "))
        }
        (false, false) => {
            let open = pick(rng, &["Here is what you asked for.", "Here is what I found.", "I looked it up.", ""]);
            if open.is_empty() { seen.join(" ") } else { format!("{open} {}", seen.join(" ")) }
        }
        (true, true) => pick(
            rng,
            &[
                "All done: the changes are saved.",
                "Done: everything you asked for is saved.",
                "That's done, the changes are in place.",
                "All set: the changes are saved.",
            ],
        ),
        (true, false) => "I could not find what you asked for.".to_owned(),
    }
}

/// A money amount with thousands separators: `5000` -> `5,000.00`.
fn money(n: f64) -> String {
    let cents = format!("{:.2}", n.abs());
    let (whole, frac) = cents.split_once('.').unwrap_or((&cents, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}.{frac}", if n < 0.0 { "-" } else { "" })
}

/// Whether a boolean label reads after "is" (`refundable`, `network compatible`).
fn adjective(label: &str) -> bool {
    let last = label.rsplit(' ').next().unwrap_or("");
    ["able", "ible", "ed", "ive", "ent", "ant", "al", "ful", "ous", "ic"].iter().any(|s| last.ends_with(s))
        || matches!(
            last,
            "active" | "open" | "closed" | "locked" | "unlocked" | "valid" | "free" | "public" | "private"
        )
}

/// One answer as a sentence, in one of several phrasings: "The credit limit of account
/// ACC-0001 is 5,000.00.", "Account ACC-0001 has a credit limit of 5,000.00.", "The order
/// ids of customer C-1 are A-1 and A-2.", "Reservation R-1 is not refundable."
fn state_answer(answer: &Answer, rng: &mut SplitMix64) -> String {
    let value = match (&answer.value, answer.kind) {
        (Value::Array(items), AnswerKind::List) => join(&items.iter().map(render).collect::<Vec<_>>()),
        (Value::Number(n), AnswerKind::Money) => money(n.as_f64().unwrap_or(0.0)),
        (Value::Bool(b), _) => (if *b { "yes" } else { "no" }).to_owned(),
        (v, _) => render(v).trim_end_matches('.').to_owned(),
    };
    let subject = answer.subject.as_deref().filter(|s| !s.is_empty());
    let pick = |rng: &mut SplitMix64, options: Vec<String>| options[rng.below(options.len() as u64) as usize].clone();
    match (&answer.label, answer.kind) {
        (Some(label), AnswerKind::Boolean) => {
            let yes = answer.value.as_bool().unwrap_or(false);
            let label_words = label.strip_prefix("has ").unwrap_or(label);
            match subject {
                Some(s) if label.starts_with("has ") => {
                    if yes {
                        format!("Yes, {s} has {label_words}.")
                    } else {
                        format!("No, {s} does not have {label_words}.")
                    }
                }
                Some(s) if adjective(label) => {
                    if yes {
                        pick(rng, vec![format!("Yes, {s} is {label}."), format!("{} is {label}.", capitalized(s))])
                    } else {
                        pick(
                            rng,
                            vec![format!("No, {s} is not {label}."), format!("{} is not {label}.", capitalized(s))],
                        )
                    }
                }
                Some(s) => format!("For {s}, {label}: {value}."),
                None => format!("{}: {value}.", capitalized(label)),
            }
        }
        (Some(label), AnswerKind::List) => {
            let (one, many) = match (answer.value.as_array().map(Vec::len), label.strip_suffix('s')) {
                (Some(1), Some(one)) => (true, one.to_owned()),
                _ => (false, label.clone()),
            };
            let is = if one { "is" } else { "are" };
            match subject {
                Some(s) => pick(
                    rng,
                    vec![format!("The {many} of {s} {is} {value}."), format!("For {s}, the {many} {is} {value}.")],
                ),
                None => format!("The {many} {is} {value}."),
            }
        }
        (Some(label), kind) => {
            let many = worldsmith_core::intent::plural(label);
            let is = if many && !matches!(kind, AnswerKind::Number | AnswerKind::Money) { "are" } else { "is" };
            match subject {
                Some(s) => {
                    let mut options = vec![
                        format!("The {label} of {s} {is} {value}."),
                        format!("For {s}, the {label} {is} {value}."),
                        format!("I checked {s}: the {label} {is} {value}."),
                    ];
                    if matches!(kind, AnswerKind::Number | AnswerKind::Money) && !s.starts_with("the ") && is == "is" {
                        options.push(format!("{} has a {label} of {value}.", capitalized(s)));
                    }
                    pick(rng, options)
                }
                None => format!("The {label} {is} {value}."),
            }
        }
        (None, _) => format!("{value}."),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// What a tool does, in words ([`worldsmith_core::intent`]): "cancel the order", "delete
/// an existing promotion", never the tool's machine name when that does not read as
/// English.
fn what_it_does(world: &World, name: &str) -> String {
    let Some(tool) = world.tool(name) else { return name.replace(['_', '-'], " ") };
    let op = world.manifest().tools.iter().find(|d| d.name == name).and_then(|d| d.op.as_ref());
    let write = tool.effect() == Effect::Write;
    let intent = tool_intent(name, tool.description(), op.map(|o| (o.kind(), o.collection())), write);
    let object = intent.object_phrase();
    if object.is_empty() { intent.verb } else { format!("{} {object}", intent.verb) }
}

/// One call in words, with the arguments already seen in the conversation:
/// "cancel the order with order id ORD-1 and reason ordered by mistake".
fn describe_call(action: &Action, does: &str, seen: &str) -> String {
    let args: Vec<String> = action
        .arguments
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| said(seen, v))
                .map(|(k, v)| format!("{} {}", crate::user::spoken(k), spoken_value(v)))
                .collect()
        })
        .unwrap_or_default();
    if args.is_empty() { does.to_owned() } else { format!("{does} with {}", join(&args)) }
}

/// A value as said in a sentence: strings bare, lists joined with "and", objects as their
/// fields in words (`(product id P-1, quantity 2)`).
fn spoken_value(value: &Value) -> String {
    match value {
        Value::Array(items) => join(&items.iter().map(spoken_value).collect::<Vec<_>>()),
        Value::Object(map) => {
            let parts: Vec<String> =
                map.iter().map(|(k, v)| format!("{} {}", crate::user::spoken(k), spoken_value(v))).collect();
            format!("({})", parts.join(", "))
        }
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
        let does = "cancel the order";
        assert_eq!(describe_call(&a, does, "order ord-1 please"), "cancel the order with order id ORD-1");
        assert_eq!(
            describe_call(&a, does, "order ord-1, no longer needed"),
            "cancel the order with order id ORD-1 and reason no longer needed"
        );
        assert_eq!(describe_call(&a, does, ""), "cancel the order");
        assert!(!said("customers `cus-0118-x` not found", &json!("CUS-0118")));
        assert!(said("my customer id is cus-0118.", &json!("CUS-0118")));
    }

    #[test]
    fn answers_are_stated_one_sentence_each() {
        let rng = &mut SplitMix64::new(1);
        let total = Answer::infer(json!(5.5), Some("total".to_owned()));
        assert_eq!(state_answer(&total, rng), "The total is 5.50.");
        let ids = Answer::infer(json!(["A-1", "A-2"]), Some("order ids".to_owned()));
        assert_eq!(state_answer(&ids, rng), "The order ids are A-1 and A-2.");
        let one = Answer::infer(json!(["A-1"]), Some("order ids".to_owned()));
        assert_eq!(state_answer(&one, rng), "The order id is A-1.");
        let flag = Answer::infer(json!(false), Some("refundable".to_owned()));
        assert_eq!(state_answer(&flag, rng), "Refundable: no.");
        assert_eq!(money(5000.0), "5,000.00");
        assert_eq!(money(1234567.5), "1,234,567.50");
        assert_eq!(money(-12.0), "-12.00");
    }

    #[test]
    fn answers_name_their_subject_in_several_phrasings() {
        let mut limit = Answer::infer(json!(5000), Some("credit limit".to_owned()));
        limit.subject = Some("account ACC-0001".to_owned());
        let mut seen = std::collections::BTreeSet::new();
        let rng = &mut SplitMix64::new(7);
        for _ in 0..40 {
            let text = state_answer(&limit, rng);
            assert!(text.contains("5,000.00") && text.contains("ACC-0001"), "{text}");
            seen.insert(text);
        }
        assert!(seen.contains("The credit limit of account ACC-0001 is 5,000.00."), "{seen:?}");
        assert!(seen.len() >= 3, "{seen:?}");
        let mut flag = Answer::infer(json!(false), Some("refundable".to_owned()));
        flag.subject = Some("reservation R-1".to_owned());
        assert!(state_answer(&flag, rng).to_lowercase().contains("reservation r-1 is not refundable"));
    }

    #[test]
    fn scalars_are_found_at_any_depth_and_by_value() {
        let value = json!({"items": [{"price": 3.0}, {"id": "A"}]});
        assert!(contains_scalar(&value, &json!(3)));
        assert!(contains_scalar(&value, &json!("A")));
        assert!(!contains_scalar(&value, &json!("B")));
    }
}
