//! User scenarios from templates: the goal in plain English, the facts the user knows, and a
//! persona.
//!
//! Every value the user must give is described by where it came from: a fact they know
//! (`order ORD-00236`), or a path through earlier results (`the order placed on 2026-11-20
//! of the customer with email ada@mail.test`), so an agent can find it with the tools.
//! Writes become requests ("I want to cancel order ORD-00236 with reason \"ordered by
//! mistake\"."); reads whose results no later call uses become questions, whose answers are
//! values read from those results.

use crate::ground::{Context, Selector, Source, Step, id_like};
use crate::rng::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use worldsmith_core::canonical::json_eq;
use worldsmith_core::task::{Answer, AnswerKind, Hop, Scenario};

/// The simulated users' manners.
pub const PERSONAS: &[&str] = &[
    "Polite and patient; answers questions briefly and precisely.",
    "In a hurry; gives only what is asked and wants it done quickly.",
    "Detail-oriented; double-checks every number before agreeing.",
    "Unsure of the process and chatty; needs steps explained.",
    "Frustrated after an earlier failed attempt, but cooperative.",
    "Formal and concise; expects a clear confirmation at the end.",
];

/// At most this many values in a list answer.
const MAX_LIST_ANSWER: usize = 8;

pub(crate) use worldsmith_core::ident::{id_noun as noun, words};
use worldsmith_core::prose::and_list as join;

/// A value as a person writes it in a sentence.
pub(crate) fn render(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() || s.contains(char::is_whitespace) => format!("\"{s}\""),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Null => "nothing".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => join(&items.iter().map(render).collect::<Vec<_>>()),
        Value::Object(m) => {
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{} {}", words(k), render(v))).collect();
            format!("({})", parts.join(", "))
        }
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// How an element picked by a field reads: `named Mug`, `placed on 2026-11-20`,
/// `with status pending`.
fn field_phrase(field: &str, value: &Value) -> String {
    let w = words(field);
    if field == "name" || field == "title" {
        format!("named {}", render(value))
    } else if field == "date" {
        format!("dated {}", render(value))
    } else if field.ends_with("_on") || field.ends_with("_at") {
        format!("{w} {}", render(value))
    } else {
        format!("with {w} {}", render(value))
    }
}

/// A field as the thing a question asks for: `total` -> `total`, `placed_on` ->
/// `placed date`, `booked_at` -> `booked time`.
fn field_label(field: &str) -> String {
    if !field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        // A key that is data, not a field name (`{"Tablet": "1234"}`).
        return format!("entry {}", render(&Value::String(field.to_owned())));
    }
    if let Some(stem) = field.strip_suffix("_on") {
        format!("{} date", words(stem))
    } else if let Some(stem) = field.strip_suffix("_at") {
        format!("{} time", words(stem))
    } else {
        words(field)
    }
}

/// Describes the tool's subject: its name without the verb and a `by ...` tail:
/// `find_customer_by_email` -> `customer`, `get_order_payments` -> `order payments`.
fn tool_object(name: &str) -> String {
    let w = words(name);
    let mut tokens: Vec<&str> = w.split(' ').collect();
    if tokens.len() > 1 {
        tokens.remove(0);
    }
    if let Some(by) = tokens.iter().position(|t| *t == "by")
        && by > 0
    {
        tokens.truncate(by);
    }
    if tokens.len() > 1 && tokens[0] == "all" {
        tokens.remove(0);
    }
    tokens.join(" ")
}

/// The words of a tool name as a request: verb and object.
fn verb_object(name: &str) -> (String, String) {
    let w = words(name);
    match w.split_once(' ') {
        Some((verb, object)) => (verb.to_owned(), object.to_owned()),
        None => (w, String::new()),
    }
}

/// A parameter's noun without a leading `from`/`to`, and that preposition:
/// `from_account_id` -> (`from`, `account`).
fn split_noun(param: &str) -> (Option<&'static str>, String) {
    let n = noun(param);
    for prep in ["from", "to"] {
        if let Some(rest) = n.strip_prefix(prep).and_then(|r| r.strip_prefix(' ')) {
            return (Some(prep), rest.to_owned());
        }
    }
    (None, n)
}

/// The facts a goal mentions, by name (a value is noted once).
#[derive(Default)]
pub(crate) struct Facts(BTreeMap<String, Value>);

impl Facts {
    fn add(&mut self, name: String, v: &Value) {
        if self.0.values().any(|x| json_eq(x, v)) {
            return;
        }
        let mut key = name.clone();
        let mut n = 2;
        while self.0.contains_key(&key) {
            key = format!("{name} ({n})");
            n += 1;
        }
        self.0.insert(key, v.clone());
    }
}

/// Whether a parameter of call `i` is a reference (an id).
fn is_reference(ctx: &Context<'_>, steps: &[Step], i: usize, param: &str) -> bool {
    ctx.tools[steps[i].tool].required.iter().any(|p| p.name == param && p.reference)
}

/// Describes the value of argument `param` of call `i` (see the module documentation),
/// noting the facts it mentions.
pub(crate) fn describe(ctx: &Context<'_>, steps: &[Step], i: usize, param: &str, facts: &mut Facts) -> String {
    let step = &steps[i];
    let value = step.args.get(param).unwrap_or(&Value::Null);
    let (_, n) = split_noun(param);
    let stated = |facts: &mut Facts| {
        facts.add(param.to_owned(), value);
        format!("{n} {}", render(value))
    };
    let Some(Source::Output { call, selector }) = step.sources.get(param) else { return stated(facts) };
    if !is_reference(ctx, steps, i, param) {
        // Values (a name, an amount, a list of items) are stated by the user; only ids
        // are found through results.
        return stated(facts);
    }
    // The same value was an argument before: describe it as it was described there.
    for j in 0..i {
        if let Some((q, _)) = steps[j].args.iter().find(|(_, a)| json_eq(a, value)) {
            return describe(ctx, steps, j, q, facts);
        }
    }
    if ctx.tools[steps[*call].tool].write {
        let new = value.as_str().is_some_and(|s| !ctx.is_key(ctx.world.initial_state(), s));
        return if new { format!("the new {n}") } else { stated(facts) };
    }
    let base = match selector {
        Selector::Only => format!("the {n}"),
        Selector::Field(f, x) => {
            facts.add(format!("{n} {}", words(f)), x);
            format!("the {n} {}", field_phrase(f, x))
        }
        Selector::Position(k) => format!("the {} {n} listed", ordinal(*k)),
    };
    match context(ctx, steps, *call, facts) {
        None => base,
        Some(Context_ { derived: false, references: false, text }) if *selector == Selector::Only => {
            format!("{base} with {text}")
        }
        Some(Context_ { derived: false, references: false, text }) => format!("{base} for {text}"),
        Some(Context_ { text, .. }) => format!("{base} of {text}"),
    }
}

/// What a call was made for.
struct Context_ {
    /// One of its required arguments came from a result (`text` describes that one).
    derived: bool,
    /// Every required argument is an id.
    references: bool,
    /// `email ada@mail.test`, `customer CUST-1`, `the order placed on ...`.
    text: String,
}

/// What call `i` was made for, from its required arguments.
fn context(ctx: &Context<'_>, steps: &[Step], i: usize, facts: &mut Facts) -> Option<Context_> {
    let step = &steps[i];
    let required: Vec<&str> = ctx.tools[step.tool].required.iter().map(|p| p.name.as_str()).collect();
    if required.is_empty() {
        return None;
    }
    let references = required.iter().all(|p| is_reference(ctx, steps, i, p));
    let derived = required
        .iter()
        .find(|p| matches!(step.sources.get(**p), Some(Source::Output { .. })) && is_reference(ctx, steps, i, p));
    Some(match derived {
        Some(p) => Context_ { derived: true, references, text: describe(ctx, steps, i, p, facts) },
        None => {
            let parts: Vec<String> = required.iter().map(|p| describe(ctx, steps, i, p, facts)).collect();
            Context_ { derived: false, references, text: join(&parts) }
        }
    })
}

/// A write call as a request: `cancel order ORD-00236 with reason "ordered by mistake"`,
/// `update customer phone for the customer with email x to +1-555-0100`.
fn request(ctx: &Context<'_>, steps: &[Step], i: usize, facts: &mut Facts) -> String {
    let tool = &ctx.tools[steps[i].tool];
    let (verb, object) = verb_object(&tool.name);
    let refs: Vec<&str> = tool.required.iter().filter(|p| p.reference).map(|p| p.name.as_str()).collect();
    let values: Vec<&str> = tool.required.iter().filter(|p| !p.reference).map(|p| p.name.as_str()).collect();
    let mut text = verb.clone();
    // `cancel_order(order_id)` reads `cancel order ORD-1`, `sell(item_id)` `sell item pen`:
    // the first id completes the object.
    let inlined = match refs.first() {
        Some(first) if split_noun(first).0.is_none() && (object.is_empty() || object.ends_with(&noun(first))) => {
            let prefix = object.strip_suffix(noun(first).as_str()).unwrap_or("").trim();
            if !prefix.is_empty() {
                text.push(' ');
                text.push_str(prefix);
            }
            text.push(' ');
            text.push_str(&describe(ctx, steps, i, first, facts));
            true
        }
        _ => {
            if !object.is_empty() {
                text.push(' ');
                text.push_str(&object);
            }
            false
        }
    };
    let changes = matches!(verb.as_str(), "update" | "change" | "set" | "swap" | "switch" | "move");
    let (mut for_parts, mut to_parts) = (Vec::new(), Vec::new());
    for p in refs.iter().skip(usize::from(inlined)) {
        let d = describe(ctx, steps, i, p, facts);
        if let (Some(prep), _) = split_noun(p) {
            text.push_str(&format!(" {prep} {d}"));
        } else if changes && (inlined || !for_parts.is_empty()) {
            to_parts.push(d);
        } else {
            for_parts.push(d);
        }
    }
    if !for_parts.is_empty() {
        text.push_str(" for ");
        text.push_str(&join(&for_parts));
    }
    if changes && values.len() == 1 && to_parts.is_empty() {
        let v = steps[i].args.get(values[0]).unwrap_or(&Value::Null);
        facts.add(values[0].to_owned(), v);
        text.push_str(" to ");
        text.push_str(&render(v));
    } else {
        if !to_parts.is_empty() {
            text.push_str(" to ");
            text.push_str(&join(&to_parts));
        }
        if !values.is_empty() {
            let parts: Vec<String> = values.iter().map(|p| describe(ctx, steps, i, p, facts)).collect();
            text.push_str(" with ");
            text.push_str(&join(&parts));
        }
    }
    text
}

/// What a read call's result is about: `order ORD-00236`, `the order payments of order
/// ORD-00236`, `the customers with first name Nadia and last name S`.
fn subject(ctx: &Context<'_>, steps: &[Step], i: usize, facts: &mut Facts) -> String {
    let tool = &ctx.tools[steps[i].tool];
    let object = tool_object(&tool.name);
    let first = tool.required.first().map(|p| p.name.as_str());
    match first {
        Some(p) if tool.required.len() == 1 && object == noun(p) => describe(ctx, steps, i, p, facts),
        _ => match context(ctx, steps, i, facts) {
            None => format!("the {object}"),
            Some(Context_ { derived: false, references: false, text }) => format!("the {object} with {text}"),
            Some(Context_ { text, .. }) => format!("the {object} of {text}"),
        },
    }
}

/// A question about a read call's result and its answers, or `None` when the result holds
/// nothing to ask about (null, empty, or a list too long to state even when filtered).
pub(crate) fn question(
    ctx: &Context<'_>,
    steps: &[Step],
    i: usize,
    facts: &mut Facts,
    rng: &mut Rng,
) -> Option<(String, Vec<Answer>)> {
    let step = &steps[i];
    let subject = subject(ctx, steps, i, facts);
    let known: Vec<Value> = facts.0.values().cloned().collect();
    let given = |v: &Value| step.args.values().chain(&known).any(|a| json_eq(a, v));
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match &step.output {
        Value::Object(fields) => {
            let mut candidates: Vec<(&String, &Value)> =
                fields.iter().filter(|(f, v)| scalar(v) && !given(v) && !id_like(f)).collect();
            if candidates.is_empty() {
                candidates = fields.iter().filter(|(_, v)| scalar(v) && !given(v)).collect();
            }
            if candidates.is_empty() {
                return None;
            }
            let take = if candidates.len() > 1 && rng.chance(0.5) { 2 } else { 1 };
            let mut picked: Vec<usize> = (0..candidates.len()).collect();
            rng.shuffle(&mut picked);
            picked.truncate(take);
            picked.sort_unstable();
            let names: Vec<String> = picked.iter().map(|&k| field_label(candidates[k].0)).collect();
            let answers = picked
                .iter()
                .map(|&k| Answer::infer(candidates[k].1.clone(), Some(field_label(candidates[k].0))))
                .collect();
            let verb = if take == 1 { "is" } else { "are" };
            Some((format!("What {verb} the {} of {subject}?", join(&names)), answers))
        }
        Value::Array(items) if !items.is_empty() => {
            if items.iter().all(scalar) {
                return (items.len() <= MAX_LIST_ANSWER)
                    .then(|| (format!("What are {subject}?"), vec![Answer::infer(step.output.clone(), None)]));
            }
            let first = items[0].as_object()?;
            let id = first.iter().find(|(f, v)| id_like(f) && v.is_string()).map(|(f, _)| f.clone())?;
            let ids = |members: &[&Value]| -> Option<Vec<Answer>> {
                let values: Option<Vec<Value>> = members.iter().map(|e| e.get(&id).cloned()).collect();
                let mut answer = Answer::infer(Value::Array(values?), Some(format!("{}s", words(&id))));
                answer.item = Some(AnswerKind::Id);
                Some(vec![answer])
            };
            let plural =
                |n: usize| if n == 1 { format!("is the {}", words(&id)) } else { format!("are the {}s", words(&id)) };
            if items.len() <= MAX_LIST_ANSWER {
                let all: Vec<&Value> = items.iter().collect();
                return Some((format!("What {} of {subject}?", plural(items.len())), ids(&all)?));
            }
            // A long list: ask for the members with one field value.
            let mut filters: Vec<(&String, &Value)> = Vec::new();
            for (f, _) in first.iter().filter(|(f, v)| scalar(v) && !id_like(f)) {
                for e in items {
                    let Some(x) = e.get(f).filter(|x| scalar(x)) else { continue };
                    if filters.iter().any(|(g, y)| *g == f && json_eq(y, x)) {
                        continue;
                    }
                    let count = items.iter().filter(|o| o.get(f).is_some_and(|y| json_eq(y, x))).count();
                    if count <= MAX_LIST_ANSWER {
                        filters.push((f, x));
                    }
                }
            }
            let &(f, x) = rng.pick(&filters)?;
            let members: Vec<&Value> = items.iter().filter(|o| o.get(f).is_some_and(|y| json_eq(y, x))).collect();
            facts.add(words(f), x);
            Some((
                format!("What {} of {subject} with {} {}?", plural(members.len()), words(f), render(x)),
                ids(&members)?,
            ))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            Some((format!("What is {subject}?"), vec![Answer::infer(step.output.clone(), None)]))
        }
        _ => None,
    }
}

/// ASTRA's question-answer decomposition of a multi-hop chain: one sub-question per call
/// but the last, whose answer is the value the next call takes from that call's result
/// ("What is the order id of ...?"), then the goal's own question and answers. Each hop's
/// answer is the next hop's input.
pub(crate) fn hops(ctx: &Context<'_>, steps: &[Step], goal: &Goal) -> Vec<Hop> {
    let mut facts = Facts::default();
    let mut hops = Vec::new();
    for i in 0..steps.len().saturating_sub(1) {
        let next = &steps[i + 1];
        let fed: Vec<&String> = next
            .sources
            .iter()
            .filter(|(_, src)| matches!(src, Source::Output { call, .. } if *call == i))
            .map(|(param, _)| param)
            .collect();
        if fed.is_empty() {
            continue;
        }
        // Each value is described by how it is picked out of the result ("the order placed
        // on 2026-10-29 of customer C-1"); the question asks for its identifier.
        let asked: Vec<String> =
            fed.iter().map(|p| format!("the {} of {}", words(p), describe(ctx, steps, i + 1, p, &mut facts))).collect();
        let question = format!("What is {}?", join(&asked));
        let answers: Vec<Value> = fed.iter().map(|p| next.args[p.as_str()].clone()).collect();
        // A hop whose question already states its answer ("the customer id of customer
        // C-1") teaches nothing.
        if answers.iter().all(|a| question.contains(&render(a))) {
            continue;
        }
        hops.push(Hop { question, answers, call: i });
    }
    let answers = goal.answers.iter().flat_map(|a| a.members().into_iter().cloned()).collect();
    hops.push(Hop { question: goal.scenario.goal.clone(), answers, call: steps.len() - 1 });
    hops
}

/// The goal sentences of a chain: a request per write and a question per leaf read.
pub(crate) struct Goal {
    pub scenario: Scenario,
    pub answers: Vec<Answer>,
}

/// Builds the scenario and answers; `leaves` are the read calls the user asks about.
/// `None` when a leaf has nothing to ask about. The known facts are every argument taken
/// from the state or chosen by the user, and every value the goal mentions.
pub(crate) fn goal(ctx: &Context<'_>, steps: &[Step], leaves: &[usize], rng: &mut Rng) -> Option<Goal> {
    const OPENERS: &[(&str, &str)] =
        &[("I want to ", "."), ("Please ", "."), ("I'd like to ", "."), ("Could you ", "?")];
    let mut facts = Facts::default();
    for step in steps {
        for (param, source) in &step.sources {
            if matches!(source, Source::State | Source::Choice) {
                facts.add(param.clone(), &step.args[param]);
            }
        }
    }
    let mut sentences = Vec::new();
    let mut answers = Vec::new();
    let mut requests = 0;
    for (i, step) in steps.iter().enumerate() {
        if ctx.tools[step.tool].write {
            let r = request(ctx, steps, i, &mut facts);
            let sentence = if requests == 0 {
                let (open, close) = *rng.pick(OPENERS).unwrap_or(&OPENERS[0]);
                format!("{open}{r}{close}")
            } else {
                format!("Then {r}.")
            };
            sentences.push(sentence);
            requests += 1;
        } else if leaves.contains(&i) {
            let (q, a) = question(ctx, steps, i, &mut facts, rng)?;
            sentences.push(if sentences.is_empty() { q } else { format!("Also: {q}") });
            answers.extend(a);
        }
    }
    let persona = (*rng.pick(PERSONAS).unwrap_or(&PERSONAS[0])).to_owned();
    Some(Goal { scenario: Scenario { goal: sentences.join(" "), known_facts: facts.0, persona }, answers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_read_as_words() {
        assert_eq!(noun("payment_method_id"), "payment method");
        assert_eq!(noun("flight_ids"), "flights");
        assert_eq!(noun("userId"), "user");
        assert_eq!(words("placed_on"), "placed on");
        assert_eq!(tool_object("find_customer_by_email"), "customer");
        assert_eq!(tool_object("get_order_payments"), "order payments");
        assert_eq!(render(&json!("no longer needed")), "\"no longer needed\"");
        assert_eq!(render(&json!(["a", "b", "c"])), "a, b and c");
        assert_eq!(render(&json!([{"sku": "A", "quantity": 2}])), "(sku A, quantity 2)");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(field_phrase("placed_on", &json!("2026-01-02")), "placed on 2026-01-02");
        assert_eq!(field_label("placed_on"), "placed date");
        assert_eq!(field_label("percent_off"), "percent off");
        assert_eq!(field_label("Fleece Jacket"), "entry \"Fleece Jacket\"");
    }
}
