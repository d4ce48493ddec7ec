//! Arenas from tasks (ASTRA's verifiable arenas with QA decomposition): one arena for the
//! whole task and, for a multi-hop question, one per hop, each self-contained (see
//! [`worldsmith_core::arena`] for the line format).
//!
//! A hop's arena asks the hop's question with the earlier hops' answers given: they are
//! stated in the user's first message and are known facts of its scenario. Its gold calls
//! are those after the previous hop's call, through its own; its sub-goals are its answers.
//! The last hop asks the whole question, so its arena differs from the whole task's only in
//! the facts it is given.

use crate::{id_text, system_prompt};
use serde_json::Value;
use worldsmith_core::arena::{ARENA_FORMAT, Arena, Init, RecordGoal, Subgoal};
use worldsmith_core::episode::Message;
use worldsmith_core::ident::words;
use worldsmith_core::prose::{and_list, plain};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::{Action, Answer, Scenario, TaskKind, TaskLine};
use worldsmith_core::tool::{Band, Distractor, FunctionTool};
use worldsmith_engine::World;

/// How arenas are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArenaConfig {
    /// Seeds the order of the tools offered (0 gives the order episodes of the task use).
    pub seed: u64,
    /// The most distractors an arena offers (taken from the task's, near, middle and far in
    /// turn); `None` for all of them.
    pub distractors: Option<usize>,
    /// The most agent turns an episode may take.
    pub max_turns: u32,
    /// The reward arenas are scored with, by name.
    pub reward: String,
}

impl Default for ArenaConfig {
    fn default() -> ArenaConfig {
        ArenaConfig {
            seed: 0,
            distractors: None,
            max_turns: crate::step::EpisodeSettings::default().max_steps,
            reward: "f1".to_owned(),
        }
    }
}

/// The arenas of `task` in `world`: the whole task's first, then one per hop of a multi-hop
/// question.
#[must_use]
pub fn arenas(world: &World, task: &TaskLine, config: &ArenaConfig) -> Vec<Arena> {
    let id = id_text(&task.id);
    let scenario = task.scenario.clone().unwrap_or_default();
    let tools = offered(world, task, config);
    let mut subgoals: Vec<Subgoal> = task
        .changed_records
        .iter()
        .flatten()
        .flat_map(|(collection, records)| {
            records.iter().map(|(key, value)| {
                Subgoal::Record(RecordGoal { collection: collection.clone(), key: key.clone(), value: value.clone() })
            })
        })
        .collect();
    subgoals.extend(task.answers.iter().cloned().map(Subgoal::Answer));
    let base = Arena {
        id: id.clone(),
        format: ARENA_FORMAT,
        world: world.name().to_owned(),
        origin: world.origin(),
        task: task.id.clone(),
        hop: None,
        init: Init { world: world.name().to_owned(), digest: world.initial_state().digest() },
        messages: Vec::new(),
        tools,
        subgoals,
        gold: task.actions.clone(),
        scenario,
        max_turns: config.max_turns,
        reward: config.reward.clone(),
        needs_user: false,
    };
    let mut out = vec![finish(world, base.clone())];
    if task.kind != Some(TaskKind::MultiHop) || task.hops.len() < 2 {
        return out;
    }
    let mut given: Vec<(String, Value)> = Vec::new();
    let mut first_call = 0;
    for (k, hop) in task.hops.iter().enumerate() {
        let last = k + 1 == task.hops.len();
        let Some(gold) = task.actions.get(first_call..=hop.call) else { break };
        let mut scenario = base.scenario.clone();
        scenario.known_facts.extend(given.iter().cloned());
        let stated: Vec<String> =
            given.iter().map(|(name, value)| format!("the {} is {}", words(name), plain(value))).collect();
        scenario.goal = if stated.is_empty() {
            hop.question.clone()
        } else {
            format!("{} (What I already know: {}.)", hop.question, and_list(&stated))
        };
        let subgoals = if last {
            task.answers.iter().cloned().map(Subgoal::Answer).collect()
        } else {
            hop.answers.iter().map(|a| Subgoal::Answer(Answer::infer(a.clone(), None))).collect()
        };
        out.push(finish(
            world,
            Arena {
                id: format!("{id}/hop-{}", k + 1),
                hop: Some(k + 1),
                subgoals,
                gold: gold.to_vec(),
                scenario,
                ..base.clone()
            },
        ));
        // The next hop is given this hop's answers, named as the next call takes them.
        if let Some(next) = task.actions.get(hop.call + 1) {
            given.extend(named_inputs(next, &hop.answers));
        }
        first_call = hop.call + 1;
    }
    out
}

/// Fills in the messages and whether the agent must ask the user.
fn finish(world: &World, mut arena: Arena) -> Arena {
    arena.messages =
        vec![Message::text("system", system_prompt(world)), Message::text("user", arena.scenario.goal.clone())];
    arena.needs_user = needs_user(&arena.scenario, &arena.gold);
    arena
}

/// Whether a gold call needs a fact the user knows but the first message does not state
/// (every scalar of a stated fact appears in the message), or a fact the scenario says the
/// goal withholds (`withheld`; so a withheld value that happens to appear in the message
/// for another reason still counts).
fn needs_user(scenario: &Scenario, gold: &[Action]) -> bool {
    let opening = scenario.goal.to_lowercase();
    let stated = |fact: &Value| scalars(fact).iter().all(|s| opening.contains(&plain(s).to_lowercase()));
    let withheld: Vec<&Value> = scenario.withheld.iter().filter_map(|n| scenario.known_facts.get(n)).collect();
    gold.iter().filter_map(|a| a.arguments.as_object()).flat_map(|m| m.values()).any(|value| {
        let same = |fact: &&Value| worldsmith_core::canonical::json_eq(fact, value);
        withheld.iter().any(&same) || scenario.known_facts.values().any(|fact| same(&fact) && !stated(fact))
    })
}

/// The scalars inside a value.
fn scalars(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(scalars).collect(),
        Value::Object(map) => map.values().flat_map(scalars).collect(),
        scalar => vec![scalar],
    }
}

/// The arguments of `call` that take one of `answers`, by argument name.
fn named_inputs(call: &Action, answers: &[Value]) -> Vec<(String, Value)> {
    call.arguments
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| answers.iter().any(|a| worldsmith_core::canonical::json_eq(a, v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The world's tools and the task's distractors (at most `config.distractors`, the bands in
/// turn), shuffled together by a stream of the seed and the task id.
fn offered(world: &World, task: &TaskLine, config: &ArenaConfig) -> Vec<FunctionTool> {
    let mut tools = world.openai_tools();
    let limit = config.distractors.unwrap_or(usize::MAX);
    let mut by_band: Vec<Vec<&Distractor>> =
        Band::ALL.iter().map(|b| task.distractors.iter().filter(|d| d.band == Some(*b)).rev().collect()).collect();
    by_band.push(task.distractors.iter().filter(|d| d.band.is_none()).rev().collect());
    let mut taken = Vec::new();
    while taken.len() < limit && by_band.iter().any(|b| !b.is_empty()) {
        for band in &mut by_band {
            if taken.len() < limit
                && let Some(d) = band.pop()
            {
                taken.push(d);
            }
        }
    }
    // Keep the task's own order among the distractors taken, so that with no limit and seed
    // 0 the arena offers exactly what the task's episodes offer.
    let mut chosen: Vec<&Distractor> =
        task.distractors.iter().filter(|d| taken.iter().any(|t| std::ptr::eq(*t, *d))).collect();
    if chosen.is_empty() {
        return tools;
    }
    tools.extend(chosen.drain(..).map(Distractor::offered));
    shuffle(&mut tools, config.seed, &id_text(&task.id));
    tools
}

/// The seeded shuffle episodes and arenas offer tools in.
pub(crate) fn shuffle(tools: &mut [FunctionTool], seed: u64, task_id: &str) {
    let mut rng = SplitMix64::for_stream(seed, &format!("tools/{task_id}"));
    for i in (1..tools.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        tools.swap(i, j);
    }
}

/// The version of `arenas_summary.json`.
pub const ARENA_SUMMARY_FORMAT: u32 = 1;

/// What building arenas made (`arenas_summary.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArenaStats {
    /// [`ARENA_SUMMARY_FORMAT`].
    pub format: u32,
    /// The seed of the tools' order.
    pub seed: u64,
    /// Tasks read.
    pub tasks: usize,
    /// Arenas written.
    pub arenas: usize,
    /// Arenas of whole tasks.
    pub whole: usize,
    /// Arenas of single hops of multi-hop questions.
    pub hops: usize,
    /// Arenas whose first message withholds a fact the agent must ask for.
    pub needs_user: usize,
    /// Sub-goals that are records in a given final state.
    pub record_subgoals: usize,
    /// Sub-goals that are values to state.
    pub answer_subgoals: usize,
    /// Arenas per world.
    pub worlds: std::collections::BTreeMap<String, usize>,
}

/// The arenas of every task (in task order, whole task first), built in parallel, with
/// their counts.
#[must_use]
pub fn build_arenas(pairs: &[(World, TaskLine)], config: &ArenaConfig) -> (Vec<Arena>, ArenaStats) {
    use rayon::prelude::*;
    let arenas: Vec<Arena> = pairs.par_iter().flat_map_iter(|(world, task)| arenas(world, task, config)).collect();
    let mut stats = ArenaStats {
        format: ARENA_SUMMARY_FORMAT,
        seed: config.seed,
        tasks: pairs.len(),
        arenas: arenas.len(),
        ..ArenaStats::default()
    };
    for a in &arenas {
        if a.hop.is_some() {
            stats.hops += 1;
        } else {
            stats.whole += 1;
        }
        stats.needs_user += usize::from(a.needs_user);
        for g in &a.subgoals {
            match g {
                Subgoal::Record(_) => stats.record_subgoals += 1,
                Subgoal::Answer(_) => stats.answer_subgoals += 1,
            }
        }
        *stats.worlds.entry(a.world.clone()).or_default() += 1;
    }
    (arenas, stats)
}
