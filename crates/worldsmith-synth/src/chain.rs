//! Chains: seeded walks over a world's tool graph, grounded and executed call by call on a
//! fork of the initial state.
//!
//! A walk aims at a task kind. For a multi-hop question it only follows edges out of the
//! last call, through read tools; for a read question it may also branch from any earlier
//! call (so the question has several parts); for a write task it may use every tool, and
//! when the walk is about to end without a write it takes a write successor if there is one.
//! What the chain turns out to be decides its kind ([`classify`]), not what the walk aimed at.

use crate::ground::{Context, Source, Step};
use crate::rng::Rng;
use crate::{Rejection, SynthConfig, TaskKind};
use serde_json::Value;
use std::collections::BTreeSet;
use worldsmith_core::canonical::json_eq;
use worldsmith_core::task::CallResult;
use worldsmith_engine::{Session, State};

/// Why one attempt produced no task, with details for the summary's examples.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub reason: Rejection,
    pub detail: String,
}

impl Reject {
    pub(crate) fn new(reason: Rejection, detail: impl Into<String>) -> Reject {
        Reject { reason, detail: detail.into() }
    }
}

/// A chain that executed: its steps, per-call results and the session after the last call.
pub(crate) struct Executed {
    pub steps: Vec<Step>,
    pub results: Vec<CallResult>,
    pub session: Session,
}

/// Walks, grounds and executes one chain aimed at `target`.
pub(crate) fn sample(
    ctx: &Context<'_>,
    target: TaskKind,
    config: &SynthConfig,
    rng: &mut Rng,
) -> Result<Executed, Reject> {
    let tools = &ctx.tools;
    let allowed = |t: usize| target == TaskKind::Write || !tools[t].write;
    let next_of = |t: usize| -> Vec<usize> {
        ctx.graph.successors(t).iter().copied().filter(|&s| s != t && allowed(s)).collect()
    };
    let min = config.min_calls.max(1);
    let max = config.max_calls.max(min);
    let length = rng.range(min, max);
    let mut starts: Vec<usize> =
        (0..tools.len()).filter(|&t| allowed(t) && (min <= 1 || !next_of(t).is_empty())).collect();
    if starts.is_empty() {
        starts = (0..tools.len()).filter(|&t| allowed(t)).collect();
    }
    let Some(&first) = rng.pick(&starts) else {
        return Err(Reject::new(Rejection::DeadEnd, "no tool to start from"));
    };
    let mut session = ctx.world.session();
    let mut steps: Vec<Step> = Vec::new();
    let mut results = Vec::new();
    let mut options = vec![first];
    let mut repeated = None;
    let mut written: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut noop = None;
    let mut tried: Vec<usize> = Vec::new();
    loop {
        // The next call: the first option, in random order, whose grounded call is new.
        rng.shuffle(&mut options);
        let mut chosen = None;
        for &t in &options {
            let name = &tools[t].name;
            let filters = target != TaskKind::MultiHop || steps.is_empty();
            let (args, sources) = ctx
                .ground(t, &steps, session.state(), filters, rng)
                .map_err(|param| Reject::new(Rejection::UngroundedArgument, format!("{name}: `{param}`")))?;
            if steps.iter().any(|s| s.tool == t && s.args == args) {
                repeated = Some(format!("{name} {}", serde_json::Value::Object(args)));
                continue;
            }
            // A write tool twice at most: five deletes in a row make a list, not a task.
            if tools[t].write && steps.iter().filter(|s| s.tool == t).count() >= 2 {
                continue;
            }
            chosen = Some((t, args, sources));
            break;
        }
        let Some((current, args, sources)) = chosen else { break };
        let name = &tools[current].name;
        let arguments = serde_json::Value::Object(args.clone());
        let before = session.state().clone();
        match session.execute(name, &arguments) {
            Ok(output) => {
                let empty = match &output {
                    serde_json::Value::Null => true,
                    serde_json::Value::Array(a) => a.is_empty(),
                    serde_json::Value::Object(m) => m.is_empty(),
                    _ => false,
                };
                if empty && !tools[current].write {
                    return Err(Reject::new(Rejection::EmptyResult, format!("{name} {arguments}: {output}")));
                }
                if tools[current].write {
                    // A chain writes each field of a record once: no phone number changed
                    // twice, no dispute opened and then withdrawn; and every write changes
                    // something (no second call setting what is already set).
                    let fields = written_fields(&before, session.state());
                    if fields.is_empty() {
                        // Not a step of the task: the walk tries another way on.
                        noop = Some(format!("{name} {arguments} changes nothing"));
                        // Undone, so that nothing of it (a record's place in its
                        // collection) shows in later results.
                        session.set_state(before);
                        options.retain(|&o| o != current);
                        tried.push(current);
                        if options.is_empty() && steps.is_empty() && tried.len() < 8 {
                            // Another start, when the first one could only do nothing.
                            let left: Vec<usize> = starts.iter().copied().filter(|s| !tried.contains(s)).collect();
                            options.extend(rng.pick(&left).copied());
                        }
                        if options.is_empty() {
                            break;
                        }
                        continue;
                    }
                    for field in fields {
                        if !written.insert(field.clone()) {
                            let (c, k, f) = field;
                            return Err(Reject::new(
                                Rejection::RepeatedWrite,
                                format!("{name} {arguments} writes {c}/{k}.{f} again"),
                            ));
                        }
                    }
                }
                results.push(CallResult { ok: true, value: output.clone() });
                steps.push(Step { tool: current, args, sources, output, after: None });
            }
            Err(e) => {
                let reason = if e.is_defect() { Rejection::ToolDefect } else { Rejection::CallRefused };
                return Err(Reject::new(reason, format!("{name} {arguments}: {e}")));
            }
        }
        if steps.len() >= length {
            break;
        }
        options = next_of(current);
        let branch = target == TaskKind::Read && rng.chance(0.5);
        if target != TaskKind::MultiHop && (options.is_empty() || branch) {
            for s in &steps {
                for n in next_of(s.tool) {
                    if !options.contains(&n) {
                        options.push(n);
                    }
                }
            }
        }
        let has_write = steps.iter().any(|s| tools[s.tool].write);
        if target == TaskKind::Write && !has_write && steps.len() + 1 >= length {
            let writes: Vec<usize> = options.iter().copied().filter(|&c| tools[c].write).collect();
            if !writes.is_empty() {
                options = writes;
            }
        }
        if options.is_empty() {
            break;
        }
    }
    if steps.len() < min {
        if let Some(call) = repeated {
            return Err(Reject::new(Rejection::RepeatedCall, call));
        }
        if let Some(call) = noop {
            return Err(Reject::new(Rejection::NoChange, call));
        }
        let names: Vec<&str> = steps.iter().map(|s| tools[s.tool].name.as_str()).collect();
        return Err(Reject::new(
            Rejection::DeadEnd,
            format!("{} ends after {} call(s)", names.join(" -> "), steps.len()),
        ));
    }
    // A read followed by a write may no longer tell the truth: what it would say now is
    // kept beside it, so a question asks only about what the writes left as it was.
    for i in 0..steps.len() {
        let later_write = steps[i + 1..].iter().any(|s| tools[s.tool].write);
        if tools[steps[i].tool].write || !later_write {
            continue;
        }
        let arguments = Value::Object(steps[i].args.clone());
        let now = session.fork().execute(&tools[steps[i].tool].name, &arguments).unwrap_or(Value::Null);
        steps[i].after = Some(now);
    }
    Ok(Executed { steps, results, session })
}

/// The (collection, key, field) triples that differ between two states: every field of a
/// record created or deleted, the changed fields of one updated.
fn written_fields(before: &State, after: &State) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (collection, records) in before.diff(after) {
        for (key, now) in records {
            let old = before.get(&collection, &key).map(|r| (**r).clone());
            let fields: Vec<String> =
                match (old.as_ref().and_then(Value::as_object), now.as_ref().and_then(Value::as_object)) {
                    (Some(o), Some(n)) => o
                        .keys()
                        .chain(n.keys())
                        .filter(|f| match (o.get(*f), n.get(*f)) {
                            (Some(a), Some(b)) => !json_eq(a, b),
                            _ => true,
                        })
                        .cloned()
                        .collect(),
                    (Some(m), None) | (None, Some(m)) => m.keys().cloned().collect(),
                    (None, None) => vec![String::new()],
                };
            let mut fields = fields;
            fields.sort();
            fields.dedup();
            out.extend(fields.into_iter().map(|f| (collection.clone(), key.clone(), f)));
        }
    }
    out
}

/// The kind of an executed chain: `write` if any call writes; `multi_hop` if every call
/// after the first takes all its arguments from the call just before and at least one of
/// them is new (no earlier call had that value: a later call that needs only what the user
/// already gave is not linked to the earlier answer); else `read`.
pub(crate) fn classify(ctx: &Context<'_>, steps: &[Step]) -> TaskKind {
    if steps.iter().any(|s| ctx.tools[s.tool].write) {
        return TaskKind::Write;
    }
    let chained = steps.len() >= 2 && (1..steps.len()).all(|i| linked(steps, i));
    if chained { TaskKind::MultiHop } else { TaskKind::Read }
}

/// Whether call `i` needs the answer of call `i - 1`: all its arguments come from that
/// call's result, and one of them is a value no earlier call was given.
pub(crate) fn linked(steps: &[Step], i: usize) -> bool {
    let s = &steps[i];
    let earlier: Vec<&Value> = steps[..i].iter().flat_map(|p| p.args.values()).collect();
    !s.sources.is_empty()
        && s.sources.values().all(|src| matches!(src, Source::Output { call, .. } if *call + 1 == i))
        && s.args.values().any(|v| !earlier.iter().any(|e| json_eq(e, v)))
}

/// The read calls whose results no later call uses: what the user asks about.
pub(crate) fn leaves(ctx: &Context<'_>, steps: &[Step]) -> Vec<usize> {
    (0..steps.len())
        .filter(|&i| !ctx.tools[steps[i].tool].write)
        .filter(|&i| {
            !steps[i + 1..]
                .iter()
                .any(|s| s.sources.values().any(|src| matches!(src, Source::Output { call, .. } if *call == i)))
        })
        .collect()
}
