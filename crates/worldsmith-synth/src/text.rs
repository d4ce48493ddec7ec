//! User scenarios from templates: the goal in plain English, the facts the user knows, the
//! facts the goal withholds, and a persona whose manner shows in the words.
//!
//! Every value the user must give is described by where it came from: a fact they know
//! (`order ORD-00236`), or a path through earlier results (`the order placed on 2026-11-20
//! of the customer with email ada@mail.test`), so an agent can find it with the tools.
//! Writes become requests, phrased from what the tool does ([`worldsmith_core::intent`]: "I want to
//! cancel order ORD-00236 with reason \"ordered by mistake\"."); reads whose results no
//! later call uses become questions about fields named as English ("What is the credit
//! limit of account ACC-0001?", "Is reservation F94EW4 refundable?"), whose answers are
//! values read from those results and still true after the chain's writes. Each intent has
//! several phrasings, chosen by the seed.
//!
//! Some goals (a seeded share, [`WITHHOLD_SHARE`]) leave out one fact the calls need (an
//! id or an email the user knows: "cancel my order"): the scenario lists it in `withheld`,
//! so the agent must ask for it and the scripted user gives it when asked.

use crate::ground::{Context, Selector, Source, Step, id_like};
use crate::rng::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use worldsmith_core::canonical::json_eq;
use worldsmith_core::ident::{looks_like_id, phrase, singular};
use worldsmith_core::intent::{BoolForm, bool_form, field_label};
use worldsmith_core::task::{Answer, AnswerKind, Hop, Persona, Scenario};

/// The simulated users' manners ([`Persona::description`] of each).
pub const PERSONAS: &[&str] = &[
    "Polite and patient; answers questions briefly and precisely.",
    "In a hurry; gives only what is asked and wants it done quickly.",
    "Detail-oriented; double-checks every number before agreeing.",
    "Unsure of the process and chatty; needs steps explained.",
    "Frustrated after an earlier failed attempt, but cooperative.",
    "Formal and concise; expects a clear confirmation at the end.",
];

/// The share of goals that withhold a fact the agent must ask for.
pub const WITHHOLD_SHARE: f64 = 0.3;

/// At most this many values in a list answer.
const MAX_LIST_ANSWER: usize = 8;

pub(crate) use worldsmith_core::ident::words;
use worldsmith_core::prose::and_list as join;

/// A value as a person writes it in a sentence.
pub(crate) fn render(v: &Value) -> String {
    render_under(None, v)
}

/// A value as a person writes it after its label: a list's or an object's items leave out
/// the label they repeat (`notifications (type standard, ...)`, not `notifications
/// (notification type standard, ...)`), and an empty item reads `no assets`.
fn render_under(label: Option<&str>, v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() || s.contains(char::is_whitespace) => format!("\"{s}\""),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Null => "nothing".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => join(&items.iter().map(|x| render_under(label, x)).collect::<Vec<_>>()),
        Value::Object(m) if m.is_empty() => "nothing".to_owned(),
        Value::Object(m) => {
            let head = label.and_then(|l| l.rsplit(' ').next()).map(|w| singular(&w.to_lowercase()));
            let named_by_label =
                |k: &str| head.as_deref().is_some_and(|h| singular(&field_label(k).to_lowercase()) == h);
            // `paths` of `{"path": ...}` items are the paths themselves.
            if let [(k, inner)] = m.iter().collect::<Vec<_>>().as_slice()
                && named_by_label(k)
            {
                return render_under(label, inner);
            }
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let full = field_label(k);
                    if named_by_label(k) {
                        return render_under(Some(&full), v);
                    }
                    let short = head
                        .as_deref()
                        .and_then(|h| full.split_once(' ').filter(|(first, _)| singular(&first.to_lowercase()) == h))
                        .map_or(full.as_str(), |(_, rest)| rest);
                    labelled(short, v)
                })
                .collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// A value after its label, as a person states it: `reason "ordered by mistake"`,
/// `notifications (type standard)`; an empty list or object reads `no assets`.
pub(crate) fn labelled(label: &str, v: &Value) -> String {
    match v {
        Value::Array(a) if a.is_empty() => format!("no {label}"),
        Value::Object(m) if m.is_empty() => format!("no {label}"),
        _ => format!("{label} {}", render_under(Some(label), v)),
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

/// The text with a capital first letter.
pub(crate) fn capitalized(text: &str) -> String {
    let mut c = text.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The text with a small first letter (unless it starts with an acronym or a value).
fn uncapitalized(text: &str) -> String {
    let mut c = text.chars();
    let (Some(first), second) = (c.next(), text.chars().nth(1)) else { return String::new() };
    if second.is_some_and(|s| s.is_uppercase() || s == ' ' || s == '\'') {
        return text.to_owned();
    }
    first.to_lowercase().chain(c).collect()
}

/// How an element picked by a field reads: `named Mug`, `placed on 2026-11-20`,
/// `with status pending`.
fn field_phrase(field: &str, value: &Value) -> String {
    let w = phrase(field);
    if field == "name" || field == "title" {
        format!("named {}", render(value))
    } else if field == "date" {
        format!("dated {}", render(value))
    } else if field.ends_with("_on") || field.ends_with("_at") {
        format!("{w} {}", render(value))
    } else {
        format!("with {}", labelled(&field_label(field), value))
    }
}

/// A parameter's noun without a leading `from`/`to`, and that preposition:
/// `from_account_id` -> (`from`, `account`).
fn split_noun(noun: &str) -> (Option<&'static str>, String) {
    for prep in ["from", "to"] {
        if let Some(rest) = noun.strip_prefix(prep).and_then(|r| r.strip_prefix(' ')) {
            return (Some(prep), rest.to_owned());
        }
    }
    (None, noun.to_owned())
}

/// The facts a goal mentions, by name (a value is noted once), and the one it withholds.
#[derive(Default, Clone)]
pub(crate) struct Facts {
    known: BTreeMap<String, Value>,
    /// The (label, value) pairs the goal's questions already ask for.
    asked: Vec<(String, Value)>,
    /// The value the goal does not state (the agent must ask for it).
    withhold: Option<Value>,
    /// Whether the goal mentioned the withheld value (as "my order").
    withheld_used: bool,
}

impl Facts {
    fn add(&mut self, name: String, v: &Value) {
        if self.known.values().any(|x| json_eq(x, v)) {
            return;
        }
        let mut key = name.clone();
        let mut n = 2;
        while self.known.contains_key(&key) {
            key = format!("{name} ({n})");
            n += 1;
        }
        self.known.insert(key, v.clone());
    }

    fn withholds(&self, v: &Value) -> bool {
        self.withhold.as_ref().is_some_and(|w| json_eq(w, v))
    }

    /// The same facts, stating every value (for what the agent says back).
    fn stating(&self) -> Facts {
        Facts { known: self.known.clone(), asked: Vec::new(), withhold: None, withheld_used: false }
    }
}

/// The name a fact is known by: the parameter's name, or for a bare `id` the noun's
/// (`promotion_id`), so that "your promotion id" asks for it.
fn fact_name(param: &str, noun: &str) -> String {
    if param.eq_ignore_ascii_case("id") { format!("{}_id", noun.replace(' ', "_")) } else { param.to_owned() }
}

/// Whether a parameter of call `i` is a reference (an id).
fn is_reference(ctx: &Context<'_>, steps: &[Step], i: usize, param: &str) -> bool {
    ctx.tools[steps[i].tool].param(param).is_some_and(|p| p.reference)
}

/// The noun of a parameter of call `i`.
fn noun_of(ctx: &Context<'_>, steps: &[Step], i: usize, param: &str) -> String {
    ctx.tools[steps[i].tool].param(param).map_or_else(|| phrase(param), |p| p.noun.clone())
}

/// The parameters call `i` was given, required first, then the filters it set.
fn given_params<'a>(ctx: &'a Context<'_>, steps: &[Step], i: usize) -> Vec<&'a str> {
    let tool = &ctx.tools[steps[i].tool];
    tool.required
        .iter()
        .map(|p| p.name.as_str())
        .chain(tool.filters.iter().filter(|p| steps[i].args.contains_key(&p.name)).map(|p| p.name.as_str()))
        .collect()
}

/// Describes the value of argument `param` of call `i` (see the module documentation),
/// noting the facts it mentions.
pub(crate) fn describe(ctx: &Context<'_>, steps: &[Step], i: usize, param: &str, facts: &mut Facts) -> String {
    let step = &steps[i];
    let value = step.args.get(param).unwrap_or(&Value::Null);
    let full = noun_of(ctx, steps, i, param);
    let (_, n) = split_noun(&full);
    let stated = |facts: &mut Facts| {
        facts.add(fact_name(param, &n), value);
        if facts.withholds(value) {
            facts.withheld_used = true;
            format!("my {n}")
        } else {
            labelled(&n, value)
        }
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
    /// Every argument is an id.
    references: bool,
    /// `email ada@mail.test`, `customer CUST-1`, `the order placed on ...`.
    text: String,
}

/// What call `i` was made for, from its arguments (required ones and filters set).
fn context(ctx: &Context<'_>, steps: &[Step], i: usize, facts: &mut Facts) -> Option<Context_> {
    let step = &steps[i];
    let given = given_params(ctx, steps, i);
    if given.is_empty() {
        return None;
    }
    let references = given.iter().all(|p| is_reference(ctx, steps, i, p));
    let derived = given
        .iter()
        .find(|p| matches!(step.sources.get(**p), Some(Source::Output { .. })) && is_reference(ctx, steps, i, p));
    Some(match derived {
        Some(p) => Context_ { derived: true, references, text: describe(ctx, steps, i, p, facts) },
        None => {
            let parts: Vec<String> = given.iter().map(|p| describe(ctx, steps, i, p, facts)).collect();
            Context_ { derived: false, references, text: join(&parts) }
        }
    })
}

/// Whether `object` ends with the noun `noun` (its last word, singular or plural).
fn ends_with_noun(object: &str, noun: &str) -> Option<String> {
    let o: Vec<&str> = object.split(' ').collect();
    let n: Vec<&str> = noun.split(' ').collect();
    if n.len() > o.len() {
        return None;
    }
    let tail = &o[o.len() - n.len()..];
    let same = tail.iter().zip(&n).all(|(a, b)| singular(&a.to_lowercase()) == singular(&b.to_lowercase()));
    same.then(|| o[..o.len() - n.len()].join(" "))
}

/// A write call as a request: `cancel order ORD-00236 with reason "ordered by mistake"`,
/// `update customer phone for the customer with email x to +1-555-0100`, `delete existing
/// promotion 5`.
fn request(ctx: &Context<'_>, steps: &[Step], i: usize, facts: &mut Facts) -> String {
    let tool = &ctx.tools[steps[i].tool];
    let intent = &tool.intent;
    let verb = intent.verb.clone();
    let object = intent.bare_object();
    let refs: Vec<&str> = tool.required.iter().filter(|p| p.reference).map(|p| p.name.as_str()).collect();
    let values: Vec<&str> = tool.required.iter().filter(|p| !p.reference).map(|p| p.name.as_str()).collect();
    let mut text = verb.clone();
    // `cancel_order(order_id)` reads `cancel order ORD-1`, `sell(item_id)` `sell item pen`:
    // the first id completes the object.
    let first_noun = refs.first().map(|r| split_noun(&noun_of(ctx, steps, i, r)));
    let prefix = match &first_noun {
        Some((None, _)) if object.is_empty() => Some(String::new()),
        Some((None, n)) => ends_with_noun(&object, n),
        _ => None,
    };
    let inlined = match (prefix, refs.first()) {
        (Some(prefix), Some(first)) => {
            if !prefix.is_empty() {
                text.push(' ');
                text.push_str(&prefix);
            }
            text.push(' ');
            text.push_str(&describe(ctx, steps, i, first, facts));
            true
        }
        _ => {
            if !object.is_empty() {
                text.push(' ');
                text.push_str(&intent.object_phrase());
            }
            false
        }
    };
    let changes = matches!(verb.as_str(), "update" | "change" | "set" | "swap" | "switch" | "move" | "modify" | "edit");
    let (mut for_parts, mut to_parts) = (Vec::new(), Vec::new());
    for p in refs.iter().skip(usize::from(inlined)) {
        let d = describe(ctx, steps, i, p, facts);
        if let (Some(prep), _) = split_noun(&noun_of(ctx, steps, i, p)) {
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
    let object = tool.intent.bare_object();
    let given = given_params(ctx, steps, i);
    let first = given.first().copied();
    match first {
        Some(p)
            if given.len() == 1
                && ends_with_noun(&object, &noun_of(ctx, steps, i, p)).is_some_and(|r| r.is_empty()) =>
        {
            describe(ctx, steps, i, p, facts)
        }
        _ => match context(ctx, steps, i, facts) {
            None => format!("the {object}"),
            Some(Context_ { derived: false, references: false, text }) => format!("the {object} with {text}"),
            Some(Context_ { text, .. }) => format!("the {object} of {text}"),
        },
    }
}

/// One field a question may ask about: its label, value, and how a yes/no question reads.
struct Field {
    label: String,
    value: Value,
    form: Option<BoolForm>,
}

/// A question about a read call's result and its answers, or `None` when the result holds
/// nothing to ask about (null, empty, a list too long to state even when filtered, or only
/// values the chain's writes changed afterwards).
pub(crate) fn question(
    ctx: &Context<'_>,
    steps: &[Step],
    i: usize,
    facts: &mut Facts,
    rng: &mut Rng,
) -> Option<(String, Vec<Answer>)> {
    let step = &steps[i];
    let mut stating = facts.stating();
    let said = subject(ctx, steps, i, &mut stating);
    let said = safe_subject(&said, &stating);
    let subject = subject(ctx, steps, i, facts);
    let known: Vec<Value> = facts.known.values().cloned().collect();
    let given = |v: &Value| step.args.values().chain(&known).any(|a| json_eq(a, v));
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    // What the chain's later writes left as it was (a read before a write asks only about
    // what is still true).
    let still = |path: &[&str], v: &Value| match &step.after {
        None => true,
        Some(after) => {
            let mut now = Some(after);
            for p in path {
                now = now.and_then(|x| x.get(*p));
            }
            now.is_some_and(|x| json_eq(x, v))
        }
    };
    match &step.output {
        Value::Object(fields) => {
            let mut candidates: Vec<Field> = Vec::new();
            let mut nested: Vec<Field> = Vec::new();
            for (f, v) in fields {
                if scalar(v) && !given(v) && !id_like(f) && still(&[f], v) {
                    let form = v.is_boolean().then(|| bool_form(f));
                    candidates.push(Field { label: dated_label(f, v), value: v.clone(), form });
                } else if let Value::Object(inner) = v {
                    for (g, x) in inner {
                        if scalar(x) && !x.is_boolean() && !given(x) && !id_like(g) && still(&[f, g], x) {
                            let label = format!("{} of the {}", field_label(g), field_label(f));
                            nested.push(Field { label, value: x.clone(), form: None });
                        }
                    }
                }
            }
            if candidates.is_empty() || (!nested.is_empty() && rng.chance(0.25)) {
                candidates.extend(nested);
            }
            if candidates.is_empty() {
                candidates = fields
                    .iter()
                    .filter(|(f, v)| scalar(v) && !v.is_boolean() && !given(v) && still(&[f], v))
                    .map(|(f, v)| Field { label: field_label(f), value: v.clone(), form: None })
                    .collect();
            }
            // A goal asks for each value once.
            candidates.retain(|c| !facts.asked.iter().any(|(l, v)| *l == c.label && json_eq(v, &c.value)));
            if candidates.is_empty() {
                return None;
            }
            let mut order: Vec<usize> = (0..candidates.len()).collect();
            rng.shuffle(&mut order);
            let first = &candidates[order[0]];
            if let Some(form) = first.form {
                facts.asked.push((first.label.clone(), first.value.clone()));
                let answer = subject_answer(first.value.clone(), &first.label, said.as_ref());
                return Some((yes_no(form, &first.label, &subject), vec![answer]));
            }
            let others: Vec<usize> = order[1..].iter().copied().filter(|&k| candidates[k].form.is_none()).collect();
            let mut picked = vec![order[0]];
            if !others.is_empty() && rng.chance(0.5) {
                picked.push(others[0]);
            }
            picked.sort_unstable();
            facts.asked.extend(picked.iter().map(|&k| (candidates[k].label.clone(), candidates[k].value.clone())));
            let names: Vec<String> = picked.iter().map(|&k| candidates[k].label.clone()).collect();
            let answers = picked
                .iter()
                .map(|&k| subject_answer(candidates[k].value.clone(), &candidates[k].label, said.as_ref()))
                .collect();
            let plural = picked.len() > 1 || names.iter().any(|n| worldsmith_core::intent::plural(n));
            Some((ask(&join(&names), plural, &subject, rng), answers))
        }
        Value::Array(items) if !items.is_empty() => {
            if step.after.as_ref().is_some_and(|a| !json_eq(a, &step.output)) {
                return None;
            }
            if items.iter().all(scalar) {
                return (items.len() <= MAX_LIST_ANSWER).then(|| {
                    let q = pick(rng, &[format!("What are {subject}?"), format!("Could you list {subject}?")]);
                    (q, vec![Answer::infer(step.output.clone(), None)])
                });
            }
            let first = items[0].as_object()?;
            let id = first.iter().find(|(f, v)| id_like(f) && v.is_string()).map(|(f, _)| f.clone())?;
            let id_label = field_label(&id);
            let asked_before = facts.asked.clone();
            let ids = |members: &[&Value]| -> Option<Vec<Answer>> {
                let values: Option<Vec<Value>> = members.iter().map(|e| e.get(&id).cloned()).collect();
                let list = Value::Array(values.clone()?);
                if asked_before.iter().any(|(l, v)| *l == format!("{id_label}s") && json_eq(v, &list)) {
                    return None;
                }
                let mut answer = Answer::infer(Value::Array(values?), Some(format!("{id_label}s")));
                answer.item = Some(AnswerKind::Id);
                answer.subject = said.clone();
                Some(vec![answer])
            };
            let asked = |n: usize, of: &str, rng: &mut Rng| {
                if n == 1 {
                    pick(
                        rng,
                        &[format!("What is the {id_label} of {of}?"), format!("Which {id_label} does {of} have?")],
                    )
                } else {
                    pick(
                        rng,
                        &[
                            format!("What are the {id_label}s of {of}?"),
                            format!("Could you list the {id_label}s of {of}?"),
                        ],
                    )
                }
            };
            if items.len() <= MAX_LIST_ANSWER {
                let all: Vec<&Value> = items.iter().collect();
                let answers = ids(&all)?;
                facts.asked.extend(answers.iter().map(|a| (a.label.clone().unwrap_or_default(), a.value.clone())));
                return Some((asked(items.len(), &subject, rng), answers));
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
            let of = format!("{subject} with {}", labelled(&field_label(f), x));
            let answers = ids(&members)?;
            facts.asked.extend(answers.iter().map(|a| (a.label.clone().unwrap_or_default(), a.value.clone())));
            Some((asked(members.len(), &of, rng), answers))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            if step.after.as_ref().is_some_and(|a| !json_eq(a, &step.output)) {
                return None;
            }
            let q = pick(rng, &[format!("What is {subject}?"), format!("Could you tell me {subject}?")]);
            Some((q, vec![Answer::infer(step.output.clone(), None)]))
        }
        _ => None,
    }
}

/// The subject an answer may name when the agent states it: only one whose every word with
/// a digit is a fact the user knows (`account ACC-0001`), so the sentence holds no value
/// the answer checker would take for another answer ("the 1st flight listed", a product
/// named "Wool Socks 3-Pack").
fn safe_subject(subject: &str, facts: &Facts) -> Option<String> {
    if subject.contains('"') {
        return None;
    }
    let known: Vec<String> = facts
        .known
        .values()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().map(render).collect::<Vec<_>>(),
            other => vec![render(other)],
        })
        .map(|s| s.to_lowercase())
        .collect();
    let safe = subject.split_whitespace().all(|w| {
        let w = w.trim_matches(|c: char| matches!(c, ',' | '.' | ';' | ':' | '(' | ')' | '?'));
        !w.chars().any(|c| c.is_ascii_digit()) || known.contains(&w.to_lowercase())
    });
    safe.then(|| subject.to_owned())
}

/// A field's label, with `date` after a bare participle that holds a date (`created` ->
/// `created date`, so a question never asks for "the created of" something).
fn dated_label(field: &str, value: &Value) -> String {
    let label = field_label(field);
    let dated = value.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
    });
    if dated && !label.contains(' ') && label.ends_with("ed") { format!("{label} date") } else { label }
}

/// An answer about a field of `subject`.
fn subject_answer(value: Value, label: &str, subject: Option<&String>) -> Answer {
    let mut answer = Answer::infer(value, Some(label.to_owned()));
    answer.subject = subject.cloned();
    answer
}

/// One of `options`, chosen by the seed.
fn pick(rng: &mut Rng, options: &[String]) -> String {
    rng.pick(options).cloned().unwrap_or_default()
}

/// A question for one or two fields (`labels`) of `subject`, in one of several phrasings.
fn ask(labels: &str, plural: bool, subject: &str, rng: &mut Rng) -> String {
    let is = if plural { "are" } else { "is" };
    let mut options = vec![
        format!("What {is} the {labels} of {subject}?"),
        format!("Could you tell me the {labels} of {subject}?"),
        format!("Can you look up the {labels} for {subject}?"),
        format!("I need to know the {labels} of {subject}."),
    ];
    if !plural {
        options.push(format!("What's the {labels} of {subject}?"));
    }
    pick(rng, &options)
}

/// A yes/no question about a boolean field.
fn yes_no(form: BoolForm, label: &str, subject: &str) -> String {
    match form {
        BoolForm::Is => format!("Is {subject} {label}?"),
        BoolForm::Has => format!("Does {subject} have {}?", label.strip_prefix("has ").unwrap_or(label)),
        BoolForm::On => format!("Is {label} on for {subject}?"),
    }
}

/// ASTRA's question-answer decomposition of a multi-hop chain: one sub-question per call
/// but the last, whose answer is the value the next call takes from that call's result
/// ("What is the order id of ...?"), then the goal's own question and answers. Each hop's
/// answer is the next hop's input.
pub(crate) fn hops(ctx: &Context<'_>, steps: &[Step], goal: &Goal) -> Vec<Hop> {
    let mut facts = Facts { withhold: goal.withheld_value.clone(), ..Facts::default() };
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
        let asked: Vec<String> = fed
            .iter()
            .map(|p| format!("the {} of {}", field_label(p), describe(ctx, steps, i + 1, p, &mut facts)))
            .collect();
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
    /// The value of the withheld fact, if any.
    pub withheld_value: Option<Value>,
}

/// The words a persona opens a request with, and closes it with.
fn request_openers(persona: Persona) -> (&'static [(&'static str, &'static str)], &'static str) {
    match persona {
        Persona::Polite => (
            &[
                ("Hello! Could you please ", "?"),
                ("Hi, I'd like to ", ", please."),
                ("Good morning. Would you ", " for me, please?"),
            ],
            " Thank you!",
        ),
        Persona::Terse => (&[("", "."), ("Need to ", "."), ("Please ", ".")], ""),
        Persona::Careful => {
            (&[("I want to ", "."), ("I'd like to ", ". Please check the details carefully."), ("Could you ", "?")], "")
        }
        Persona::Chatty => (
            &[
                ("Hi there! I've been meaning to sort this out for a while, so I'd like to ", "."),
                ("Hello, I hope you can help me. I'm not sure how this works, but I need to ", "."),
                ("Hi! Quick one, I think: could you ", "?"),
            ],
            " Thanks so much!",
        ),
        Persona::Frustrated => (
            &[
                ("I already tried this once and it didn't work. I need to ", "."),
                ("This is my second attempt at this. Please ", "."),
                ("I hope this works this time: I want to ", "."),
            ],
            "",
        ),
        Persona::Formal => (
            &[("Good day. I would like to ", "."), ("I am writing to ", "."), ("Kindly ", ".")],
            " Thank you in advance.",
        ),
    }
}

/// What a persona says before a first question.
fn question_openers(persona: Persona) -> &'static [&'static str] {
    match persona {
        Persona::Polite => &["Hello! ", "Hi, could you help me? "],
        Persona::Terse | Persona::Careful => &[""],
        Persona::Chatty => {
            &["Hi there, I hope you can help me with something. ", "Hello! I was wondering about something. "]
        }
        Persona::Frustrated => &["I couldn't find this anywhere. ", "I've been trying to find this out all day. "],
        Persona::Formal => &["Good day. ", "Good afternoon. "],
    }
}

/// Builds the scenario and answers; `leaves` are the read calls the user asks about.
/// `None` when a leaf has nothing to ask about. The known facts are every argument taken
/// from the state or chosen by the user, and every value the goal mentions.
pub(crate) fn goal(ctx: &Context<'_>, steps: &[Step], leaves: &[usize], rng: &mut Rng) -> Option<Goal> {
    let persona = *rng.pick(&Persona::ALL).unwrap_or(&Persona::Polite);
    // A fact the user knows and the calls need, which the goal may leave out: an id or an
    // email from the state.
    let withholdable: Vec<Value> = steps
        .iter()
        .flat_map(|s| s.sources.iter().map(move |(p, src)| (s, p, src)))
        .filter(|(s, p, src)| {
            let reference = ctx.tools[s.tool].param(p).is_some_and(|x| x.reference);
            **src == Source::State
                && s.args.get(p.as_str()).and_then(Value::as_str).is_some_and(|v| {
                    (reference && looks_like_id(v)) || (v.contains('@') && p.to_lowercase().contains("email"))
                })
        })
        .map(|(s, p, _)| s.args[p.as_str()].clone())
        .collect();
    let withhold =
        if !withholdable.is_empty() && rng.chance(WITHHOLD_SHARE) { rng.pick(&withholdable).cloned() } else { None };
    let attempt = |withhold: Option<Value>, rng: &mut Rng| -> Option<(Goal, bool)> {
        let mut facts = Facts { withhold, ..Facts::default() };
        for step in steps {
            for (param, source) in &step.sources {
                if matches!(source, Source::State | Source::Choice) {
                    let noun = ctx.tools[step.tool].param(param).map_or_else(|| phrase(param), |p| p.noun.clone());
                    facts.add(fact_name(param, &split_noun(&noun).1), &step.args[param]);
                }
            }
        }
        let (goal_text, answers) = sentences(ctx, steps, leaves, persona, &mut facts, rng)?;
        let withheld_value = facts.withhold.clone().filter(|_| facts.withheld_used);
        let withheld: Vec<String> = withheld_value
            .iter()
            .flat_map(|w| facts.known.iter().filter(|(_, v)| json_eq(v, w)).map(|(k, _)| k.clone()))
            .collect();
        // A withheld value the goal states anyway (another path to it) is not withheld.
        let leaked = withheld_value.as_ref().is_some_and(|w| goal_text.contains(&render(w)));
        let scenario =
            Scenario { goal: goal_text, known_facts: facts.known, persona: persona.description().to_owned(), withheld };
        Some((Goal { scenario, answers, withheld_value }, leaked))
    };
    if withhold.is_some() {
        let mut trial = rng.clone();
        if let Some((goal, false)) = attempt(withhold, &mut trial) {
            *rng = trial;
            return Some(goal);
        }
    }
    attempt(None, rng).map(|(goal, _)| goal)
}

/// The goal's text and answers in `persona`'s words.
fn sentences(
    ctx: &Context<'_>,
    steps: &[Step],
    leaves: &[usize],
    persona: Persona,
    facts: &mut Facts,
    rng: &mut Rng,
) -> Option<(String, Vec<Answer>)> {
    const THEN: &[&str] = &["Then ", "After that, ", "Once that is done, ", "Next, "];
    const ALSO: &[&str] = &["Also: ", "Also, ", "And ", "One more thing: "];
    let (openers, closing) = request_openers(persona);
    let mut sentences: Vec<String> = Vec::new();
    let mut said: Vec<String> = Vec::new();
    let mut answers = Vec::new();
    let mut requests = 0;
    for (i, step) in steps.iter().enumerate() {
        if ctx.tools[step.tool].write {
            let r = request(ctx, steps, i, facts);
            // Two writes that read the same ("create a store for merchant M. Then create a
            // store for merchant M.") make no task a person would ask for.
            if said.contains(&r) {
                return None;
            }
            said.push(r.clone());
            let sentence = if sentences.is_empty() {
                let (open, close) = *rng.pick(openers).unwrap_or(&openers[0]);
                if open.is_empty() { format!("{}{close}", capitalized(&r)) } else { format!("{open}{r}{close}") }
            } else if requests == 0 {
                const NOW: &[(&str, &str)] =
                    &[("I'd also like to ", "."), ("Please also ", "."), ("And I want to ", ".")];
                let (open, close) = *rng.pick(NOW).unwrap_or(&NOW[0]);
                format!("{open}{r}{close}")
            } else {
                let then = *rng.pick(THEN).unwrap_or(&THEN[0]);
                format!("{then}{r}.")
            };
            sentences.push(sentence);
            requests += 1;
        } else if leaves.contains(&i) {
            let (q, a) = question(ctx, steps, i, facts, rng)?;
            let q = capitalized(&q);
            let sentence = if sentences.is_empty() {
                let open = *rng.pick(question_openers(persona)).unwrap_or(&"");
                format!("{open}{q}")
            } else {
                let also = *rng.pick(ALSO).unwrap_or(&ALSO[0]);
                if also.ends_with(": ") { format!("{also}{q}") } else { format!("{also}{}", uncapitalized(&q)) }
            };
            sentences.push(sentence);
            answers.extend(a);
        }
    }
    let mut text = sentences.join(" ");
    if !closing.is_empty() && !text.is_empty() {
        text.push_str(closing);
    }
    Some((text, answers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_words() {
        assert_eq!(render(&json!("no longer needed")), "\"no longer needed\"");
        assert_eq!(render(&json!(["a", "b", "c"])), "a, b and c");
        assert_eq!(render(&json!([{"sku": "A", "quantity": 2}])), "(SKU A, quantity 2)");
        // A list's items do not repeat its label; empty values read as none.
        assert_eq!(
            labelled("notifications", &json!([{"notificationType": "Standard", "parameter": "x"}])),
            "notifications (type Standard, parameter x)"
        );
        assert_eq!(labelled("assets correlation matrix", &json!([])), "no assets correlation matrix");
        assert_eq!(labelled("event", &json!({})), "no event");
        assert_eq!(labelled("rule", &json!({"ruleId": 3, "tags": [], "owner": {}})), "rule (id 3, no tags, no owner)");
        assert_eq!(render(&json!([])), "none");
        assert_eq!(labelled("paths", &json!([{"path": "a.pdf"}, {"path": "b.pdf"}])), "paths a.pdf and b.pdf");
        assert_eq!(labelled("tags", &json!([{"tag": "x", "weight": 2}])), "tags (x, weight 2)");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(field_phrase("placed_on", &json!("2026-01-02")), "placed on 2026-01-02");
        assert_eq!(field_phrase("creditLimit", &json!(5)), "with credit limit 5");
        assert_eq!(ends_with_noun("existing promotion", "promotion").as_deref(), Some("existing"));
        assert_eq!(ends_with_noun("order payments", "order"), None);
        assert_eq!(uncapitalized("What is it?"), "what is it?");
        assert_eq!(uncapitalized("ID of it"), "ID of it");
        assert_eq!(uncapitalized("I need it."), "I need it.");
        assert_eq!(yes_no(BoolForm::Is, "refundable", "reservation R-1"), "Is reservation R-1 refundable?");
        assert_eq!(dated_label("created", &json!("2026-01-02T10:00:00Z")), "created date");
        assert_eq!(dated_label("created", &json!("alice")), "created");
        assert_eq!(yes_no(BoolForm::On, "roaming", "line L-1"), "Is roaming on for line L-1?");
    }

    #[test]
    fn personas_are_the_described_ones() {
        for (p, d) in Persona::ALL.iter().zip(PERSONAS) {
            assert_eq!(p.description(), *d);
        }
    }
}
