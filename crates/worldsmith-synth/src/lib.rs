//! Task synthesis: worlds in, verifiable tasks out.
//!
//! For each world, [`synthesize`] samples tool chains from the world's directed tool graph
//! ([`graph`]: the declared edges, or data-flow edges computed from the tools) by seeded
//! walks of `min_calls..=max_calls` calls, and runs every call on a fork of the initial
//! state. Every required argument is grounded (ASTRA's dependency check): in an earlier
//! call's result (a field of the parameter's name, at the top level or one level down, or
//! the whole result when it is a string and the parameter an id), else in the state (a key
//! of the collection keyed by that name or referenced by a foreign key of that name, a
//! field value of that name, or of a field whose name ends in `_<name>`; records linked to
//! the ids the chain touched come first), else as the user's choice (an enum value, a
//! boolean, a small count for an integer with a `minimum`). Ids look in results first; the
//! other arguments of write tools look at choices first, and for `update`/`change`/`set`
//! tools at state values the chain has not seen, so the write changes something.
//!
//! What survives becomes a [`TaskLine`]: the gold calls, each call's result, the expected
//! final digest and changed records, the answers the user asked for, a user scenario from
//! templates (goal, known facts, persona), and distractor tools from the other worlds
//! ([`worldsmith_graph::embed`] scores them). Every write is a request in the goal; every read whose result no
//! later call needs is a question, whose answers are values from that result (so write
//! tasks may have answers too).
//!
//! Chains are rejected, and counted by [`Rejection`] reason, when an argument cannot be
//! grounded, a call is refused or fails, a read returns nothing, a walk ends too soon or
//! can only repeat itself, the chain duplicates an accepted one, a write changes nothing, a
//! question has no answer, or the task does not replay to the same results. Refused calls
//! are not kept as recovery tasks: a synthesized task's gold calls all succeed (recovery is
//! left to rollouts, which keep episodes that reach the goal after a failed call).
//!
//! Task kinds: `write` (some call writes; checked by the final state), `read` (reads only;
//! checked by answers and exact calls) and `multi_hop` (reads where each call takes its
//! arguments from the previous call's result, ASTRA's linked sub-questions). Walks aim at
//! the kinds in proportion to [`KindWeights`] until each kind has its share of
//! `tasks_per_world`; a kind the graph cannot give, or that keeps failing, hands its share
//! to the others.
//!
//! The same worlds, configuration and seed give the same tasks, whatever the thread count.
//!
//! ```
//! use worldsmith_engine::{MemFiles, World};
//! use worldsmith_synth::{SynthConfig, synthesize};
//!
//! let world = World::load(&MemFiles::new("shop")
//!     .with("world.json", r#"{
//!       "format": 1, "name": "shop",
//!       "collections": {"items": {"key": "item_id", "fields": {"stock": {"type": "integer", "minimum": 0}}}},
//!       "data": {"dir": "data"},
//!       "tools": [
//!         {"name": "list_items", "description": "List the items.", "effect": "read",
//!          "parameters": {"type": "object", "properties": {}}, "op": {"kind": "list", "collection": "items"}},
//!         {"name": "set_stock", "description": "Set an item's stock.", "effect": "write",
//!          "parameters": {"type": "object", "properties": {"item_id": {"type": "string"}, "stock": {"type": "integer"}}, "required": ["item_id", "stock"]},
//!          "op": {"kind": "update", "collection": "items"}}
//!       ]}"#)
//!     .with("data/items.json", r#"{"pen": {"stock": 3}, "ink": {"stock": 0}}"#)).unwrap();
//!
//! let out = synthesize(&[world.clone()], &SynthConfig { tasks_per_world: 2, ..SynthConfig::default() });
//! assert_eq!(out.tasks.len(), 2);
//! for task in &out.tasks {
//!     assert_eq!(worldsmith_engine::replay(&world, task).passed, Some(true));
//! }
//! ```

pub mod graph;

mod chain;
mod distract;
mod ground;
pub mod paraphrase;
mod rng;
mod text;

pub use distract::{FAR, NEAR};
pub use graph::{EdgeSource, ToolGraph, data_flow_edges};
pub use paraphrase::{ParaphraseStats, paraphrase};
pub use text::PERSONAS;
pub use worldsmith_core::intent::placeholder_tokens;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::canonical::{canonical_json, json_eq};
use worldsmith_core::tally::Tally;
pub use worldsmith_core::task::TaskKind;
use worldsmith_core::task::{Action, TaskLine};
use worldsmith_engine::World;

/// The summary format version.
pub const SUMMARY_FORMAT: u32 = 1;

/// How many tasks to make and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// The seed; the same seed gives the same tasks.
    pub seed: u64,
    /// Tasks to make per world, split among the kinds by `kind_weights` (fewer when
    /// attempts run out; a kind that keeps failing gives its share to the others).
    pub tasks_per_world: usize,
    /// The shortest chain.
    pub min_calls: usize,
    /// The longest chain.
    pub max_calls: usize,
    /// Distractor tools per similarity band (near, middle, far) per task.
    pub distractors_per_band: usize,
    /// Walks per wanted task before a kind (and a world) gives up.
    pub attempts_per_task: usize,
    /// Relative numbers of walks aimed at each kind.
    pub kind_weights: KindWeights,
}

impl Default for SynthConfig {
    fn default() -> SynthConfig {
        SynthConfig {
            seed: 0,
            tasks_per_world: 50,
            min_calls: 2,
            max_calls: 8,
            distractors_per_band: 2,
            attempts_per_task: 25,
            kind_weights: KindWeights::default(),
        }
    }
}

/// Relative numbers of walks aimed at each kind (a chain's kind is decided by what it turns
/// out to be, so the accepted mix follows these only roughly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindWeights {
    /// Walks that may write.
    pub write: u32,
    /// Read-only walks that may branch.
    pub read: u32,
    /// Read-only walks along a single path.
    pub multi_hop: u32,
}

impl Default for KindWeights {
    fn default() -> KindWeights {
        KindWeights { write: 2, read: 1, multi_hop: 1 }
    }
}

/// Why a sampled chain was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The walk ended (no successor) before `min_calls`.
    DeadEnd,
    /// A required argument came neither from the state nor from an earlier result.
    UngroundedArgument,
    /// A tool refused a call (a business rule, a missing record, invalid arguments).
    CallRefused,
    /// A read returned nothing (null, `[]`, `{}`): nothing to build on or to ask about.
    EmptyResult,
    /// A call failed with a defect of the world (script error, limit, invalid write).
    ToolDefect,
    /// The walk could only go on with calls it had made already, before `min_calls`.
    RepeatedCall,
    /// The same calls as an accepted task.
    Duplicate,
    /// A write chain that changed no record.
    NoChange,
    /// A read the user asks about returned nothing to state (null, empty, a long list).
    NoAnswer,
    /// Replaying the task did not reproduce its results and final state.
    ReplayMismatch,
    /// A write changed a field of a record that an earlier write of the chain had changed
    /// (the same phone number changed again, a dispute opened and then withdrawn).
    RepeatedWrite,
}

impl Rejection {
    /// The name used in summaries.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::DeadEnd => "dead_end",
            Rejection::UngroundedArgument => "ungrounded_argument",
            Rejection::CallRefused => "call_refused",
            Rejection::EmptyResult => "empty_result",
            Rejection::ToolDefect => "tool_defect",
            Rejection::RepeatedCall => "repeated_call",
            Rejection::Duplicate => "duplicate",
            Rejection::NoChange => "no_change",
            Rejection::NoAnswer => "no_answer",
            Rejection::ReplayMismatch => "replay_mismatch",
            Rejection::RepeatedWrite => "repeated_write",
        }
    }
}

/// What happened in one world.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorldStats {
    /// The world's name.
    pub world: String,
    /// Edges in its tool graph.
    pub edges: usize,
    /// Whether the edges were declared or computed.
    pub edge_source: Option<EdgeSource>,
    /// Chains sampled.
    pub attempts: usize,
    /// Tasks kept.
    pub accepted: usize,
    /// Tasks kept per kind.
    pub kinds: Tally<TaskKind>,
    /// Tasks kept per number of calls.
    pub lengths: BTreeMap<usize, usize>,
    /// Chains rejected per reason.
    pub rejected: Tally<Rejection>,
    /// Sound chains not kept because their kind already had its share of tasks.
    pub surplus: usize,
    /// The first few rejections per reason, for people.
    pub examples: BTreeMap<String, Vec<String>>,
    /// How the kept tasks' goals read.
    pub text: TextStats,
}

/// How goals read: placeholders, withheld facts and phrasing variety, over kept tasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TextStats {
    /// Goals counted.
    pub goals: usize,
    /// Goals with a word no person writes ([`placeholder_tokens`]: identifiers, HTTP
    /// method words, repeated words), values masked.
    pub placeholder_goals: usize,
    /// `placeholder_goals / goals` (0 without goals).
    pub placeholder_share: f64,
    /// Goals that withhold a fact the agent must ask for.
    pub withheld_goals: usize,
    /// `withheld_goals / goals`.
    pub withheld_share: f64,
    /// Distinct goal openings (the first three words), a measure of phrasing variety.
    pub distinct_openings: usize,
    /// Kept goals per persona.
    pub personas: BTreeMap<String, usize>,
    /// The first few goals with placeholders, with the words found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placeholder_examples: Vec<String>,
}

impl TextStats {
    /// Counts one kept task's goal.
    fn add(&mut self, task: &TaskLine) {
        let Some(scenario) = &task.scenario else { return };
        self.goals += 1;
        let found = placeholder_tokens(&scenario.goal, &task_values(task));
        if !found.is_empty() {
            self.placeholder_goals += 1;
            if self.placeholder_examples.len() < EXAMPLES {
                self.placeholder_examples.push(format!("{} [{}]", scenario.goal, found.join(", ")));
            }
        }
        self.withheld_goals += usize::from(!scenario.withheld.is_empty());
        *self.personas.entry(scenario.persona.clone()).or_default() += 1;
    }

    /// Sums another world's counts into these (openings are recounted by `finish`).
    fn merge(&mut self, other: &TextStats) {
        self.goals += other.goals;
        self.placeholder_goals += other.placeholder_goals;
        self.withheld_goals += other.withheld_goals;
        for (p, n) in &other.personas {
            *self.personas.entry(p.clone()).or_default() += n;
        }
        for e in &other.placeholder_examples {
            if self.placeholder_examples.len() < EXAMPLES {
                self.placeholder_examples.push(e.clone());
            }
        }
    }

    /// The shares and the openings of `tasks`.
    fn finish(&mut self, tasks: &[TaskLine]) {
        let share = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        self.placeholder_share = share(self.placeholder_goals, self.goals);
        self.withheld_share = share(self.withheld_goals, self.goals);
        let openings: BTreeSet<String> = tasks
            .iter()
            .filter_map(|t| t.scenario.as_ref())
            .map(|s| s.goal.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        self.distinct_openings = openings.len();
    }
}

/// Every value a task's goal may state, as a sentence writes it: the gold calls' argument
/// scalars, the known facts and the answers (the words [`placeholder_tokens`] masks).
fn task_values(task: &TaskLine) -> Vec<String> {
    fn scalars(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| scalars(i, out)),
            Value::Object(m) => m.values().for_each(|i| scalars(i, out)),
            Value::String(s) => out.push(s.clone()),
            other => out.push(other.to_string()),
        }
    }
    let mut out = Vec::new();
    for a in &task.actions {
        scalars(&a.arguments, &mut out);
    }
    if let Some(s) = &task.scenario {
        s.known_facts.values().for_each(|v| scalars(v, &mut out));
    }
    for a in &task.answers {
        scalars(&a.value, &mut out);
    }
    out
}

/// What happened, per world and in total.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SynthStats {
    /// [`SUMMARY_FORMAT`].
    pub format: u32,
    /// The seed used.
    pub seed: u64,
    /// Tasks kept.
    pub accepted: usize,
    /// Tasks kept per kind.
    pub kinds: Tally<TaskKind>,
    /// Chains rejected per reason.
    pub rejected: Tally<Rejection>,
    /// Per world, in input order.
    pub worlds: Vec<WorldStats>,
    /// How the kept tasks' goals read, over all worlds.
    pub text: TextStats,
    /// What the optional LLM paraphrase did (absent when it did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paraphrase: Option<ParaphraseStats>,
}

/// The tasks and what happened making them.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOutput {
    /// The tasks, world by world in input order.
    pub tasks: Vec<TaskLine>,
    /// Counts: accepted per world and kind, rejected per reason.
    pub stats: SynthStats,
}

/// Rejection examples kept per reason and world.
const EXAMPLES: usize = 3;

/// Synthesizes tasks for every world (see the crate documentation). Worlds are processed
/// in parallel; the output does not depend on the thread count.
#[must_use]
pub fn synthesize(worlds: &[World], config: &SynthConfig) -> SynthOutput {
    let per_world: Vec<(Vec<TaskLine>, Vec<Vec<String>>, WorldStats)> =
        worlds.par_iter().map(|w| synthesize_world(w, config)).collect();
    let pool = (worlds.len() > 1 && config.distractors_per_band > 0).then(|| distract::Pool::new(worlds));
    let mut stats = SynthStats { format: SUMMARY_FORMAT, seed: config.seed, ..SynthStats::default() };
    let mut tasks = Vec::new();
    for (w, (mut world_tasks, tools, world_stats)) in per_world.into_iter().enumerate() {
        if let Some(pool) = &pool {
            for (task, names) in world_tasks.iter_mut().zip(&tools) {
                let id = task.id.as_str().unwrap_or_default().to_owned();
                let mut rng = rng::Rng::for_stream(config.seed, &format!("distractors/{id}"));
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                task.distractors = pool.distractors(w, &names, config.distractors_per_band, &mut rng);
            }
        }
        stats.accepted += world_stats.accepted;
        stats.text.merge(&world_stats.text);
        stats.kinds.merge(&world_stats.kinds);
        stats.rejected.merge(&world_stats.rejected);
        stats.worlds.push(world_stats);
        tasks.extend(world_tasks);
    }
    stats.text.finish(&tasks);
    SynthOutput { tasks, stats }
}

/// One world's tasks, the distinct tool names of each, and its statistics.
fn synthesize_world(world: &World, config: &SynthConfig) -> (Vec<TaskLine>, Vec<Vec<String>>, WorldStats) {
    let ctx = ground::Context::new(world);
    let mut stats = WorldStats {
        world: world.name().to_owned(),
        edges: ctx.graph.edge_count(),
        edge_source: Some(ctx.graph.source()),
        ..WorldStats::default()
    };
    let mut rng = rng::Rng::for_stream(config.seed, world.name());
    let weights = [
        (TaskKind::Write, config.kind_weights.write),
        (TaskKind::Read, config.kind_weights.read),
        (TaskKind::MultiHop, config.kind_weights.multi_hop),
    ];
    // Kinds the graph cannot give are closed from the start: writes need a write tool,
    // questions of two or more calls need an edge between two read tools.
    let tools = &ctx.tools;
    let read_edge =
        (0..tools.len()).any(|t| !tools[t].write && ctx.graph.successors(t).iter().any(|&s| s != t && !tools[s].write));
    let reads = read_edge || config.min_calls <= 1;
    let mut closed = [!tools.iter().any(|t| t.write), !reads, !reads];
    let open_weights: [u32; 3] = std::array::from_fn(|k| if closed[k] { 0 } else { weights[k].1 });
    let mut quota = split(config.tasks_per_world, &open_weights);
    let mut aimed = [0usize; 3];
    let mut accepted = [0usize; 3];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut tasks = Vec::new();
    let mut names_per_task = Vec::new();
    let budget = config.attempts_per_task.max(1);
    let max_attempts = config.tasks_per_world.saturating_mul(budget);
    while stats.attempts < max_attempts {
        // Aim at the open kind with the fewest walks for its weight.
        let open = (0..3).filter(|&k| !closed[k] && weights[k].1 > 0 && accepted[k] < quota[k]);
        let Some(k) = open.min_by(|&a, &b| {
            let fa = aimed[a] as f64 / f64::from(weights[a].1);
            let fb = aimed[b] as f64 / f64::from(weights[b].1);
            fa.total_cmp(&fb).then(a.cmp(&b))
        }) else {
            break;
        };
        aimed[k] += 1;
        stats.attempts += 1;
        match attempt(&ctx, weights[k].0, config, &seen, &mut rng) {
            Ok((mut task, key, names)) => {
                let c = weights.iter().position(|(kind, _)| task.kind == Some(*kind)).unwrap_or(0);
                if accepted[c] >= quota[c] {
                    stats.surplus += 1;
                } else {
                    seen.insert(key);
                    accepted[c] += 1;
                    task.id = Value::String(format!("{}-s{}-{:04}", world.name(), config.seed, tasks.len() + 1));
                    stats.accepted += 1;
                    stats.kinds.add(weights[c].0);
                    *stats.lengths.entry(task.actions.len()).or_default() += 1;
                    stats.text.add(&task);
                    tasks.push(task);
                    names_per_task.push(names);
                }
            }
            Err(r) => {
                stats.rejected.add(r.reason);
                let examples = stats.examples.entry(r.reason.as_str().to_owned()).or_default();
                if examples.len() < EXAMPLES {
                    examples.push(r.detail);
                }
            }
        }
        // A kind whose walks keep failing gives what it still lacks to the other kinds.
        if accepted[k] < quota[k] && aimed[k] >= quota[k].saturating_mul(budget) {
            closed[k] = true;
            let left = quota[k] - accepted[k];
            quota[k] = accepted[k];
            let others: [u32; 3] = std::array::from_fn(|j| if closed[j] { 0 } else { weights[j].1 });
            for (j, extra) in split(left, &others).into_iter().enumerate() {
                quota[j] += extra;
            }
        }
    }
    stats.text.finish(&tasks);
    (tasks, names_per_task, stats)
}

/// One sampled chain made into a task (without id and distractors), with its dedup key and
/// the distinct tools it calls; or why not.
fn attempt(
    ctx: &ground::Context<'_>,
    target: TaskKind,
    config: &SynthConfig,
    seen: &BTreeSet<String>,
    rng: &mut rng::Rng,
) -> Result<(TaskLine, String, Vec<String>), chain::Reject> {
    use chain::Reject;
    let executed = chain::sample(ctx, target, config, rng)?;
    let steps = &executed.steps;
    let actions: Vec<Action> = steps
        .iter()
        .map(|s| Action { name: ctx.tools[s.tool].name.clone(), arguments: Value::Object(s.args.clone()) })
        .collect();
    let key = canonical_json(&serde_json::to_value(&actions).unwrap_or(Value::Null));
    if seen.contains(&key) {
        return Err(Reject::new(Rejection::Duplicate, summary(&actions)));
    }
    let kind = chain::classify(ctx, steps);
    let changes = executed.session.changes();
    if kind == TaskKind::Write && changes.is_empty() {
        return Err(Reject::new(Rejection::NoChange, summary(&actions)));
    }
    let leaves = chain::leaves(ctx, steps);
    let Some(goal) = text::goal(ctx, steps, &leaves, rng) else {
        return Err(Reject::new(Rejection::NoAnswer, summary(&actions)));
    };
    if kind != TaskKind::Write && goal.answers.is_empty() {
        return Err(Reject::new(Rejection::NoAnswer, summary(&actions)));
    }
    let mut names: Vec<String> = Vec::new();
    for a in &actions {
        if !names.contains(&a.name) {
            names.push(a.name.clone());
        }
    }
    let hops = if kind == TaskKind::MultiHop { text::hops(ctx, steps, &goal) } else { Vec::new() };
    let task = TaskLine {
        id: Value::Null,
        format: worldsmith_core::task::TASK_FORMAT,
        world: Some(ctx.world.name().to_owned()),
        actions,
        expected_digest: Some(executed.session.digest()),
        changed_records: Some(changes),
        kind: Some(kind),
        scenario: Some(goal.scenario),
        answers: goal.answers,
        results: Some(executed.results),
        distractors: Vec::new(),
        assertions: Vec::new(),
        hops,
    };
    // Every task must replay to the same results and final state.
    let replayed = worldsmith_engine::replay(ctx.world, &task);
    let same_results = task.results.as_ref().is_some_and(|expected| {
        expected.len() == replayed.results.len()
            && expected.iter().zip(&replayed.results).all(|(a, b)| a.ok == b.ok && json_eq(&a.value, &b.value))
    });
    if replayed.passed != Some(true) || !same_results {
        let why = replayed.mismatch.unwrap_or_else(|| "the results differ".to_owned());
        return Err(Reject::new(Rejection::ReplayMismatch, format!("{}: {why}", summary(&task.actions))));
    }
    Ok((task, key, names))
}

/// Splits `n` in proportion to `weights` (largest remainders, ties to the first).
fn split(n: usize, weights: &[u32; 3]) -> [usize; 3] {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return [0; 3];
    }
    let n64 = n as u64;
    let mut out: [usize; 3] =
        std::array::from_fn(|k| usize::try_from(n64 * u64::from(weights[k]) / total).unwrap_or(0));
    let mut order: Vec<usize> = (0..3).filter(|&k| weights[k] > 0).collect();
    order.sort_by_key(|&k| std::cmp::Reverse((n64 * u64::from(weights[k])) % total));
    let mut left = n - out.iter().sum::<usize>();
    for k in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        out[k] += 1;
        left -= 1;
    }
    out
}

/// `a -> b -> c`, for rejection examples.
fn summary(actions: &[Action]) -> String {
    actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_follows_weights_and_sums_up() {
        assert_eq!(split(50, &[2, 1, 1]), [25, 13, 12]);
        assert_eq!(split(3, &[2, 1, 1]), [1, 1, 1]);
        assert_eq!(split(7, &[1, 0, 0]), [7, 0, 0]);
        assert_eq!(split(5, &[0, 0, 0]), [0, 0, 0]);
        assert_eq!(split(0, &[2, 1, 1]), [0, 0, 0]);
    }
}
