//! Episodes: a simulated user, an agent and a world in conversation over one task.
//!
//! Each episode starts from a fork of the world's initial state. The user (a
//! [`ScriptedUser`](user::ScriptedUser)) states the task's goal; the agent (a policy) either
//! calls tools, which run as transactions on the episode's state, or speaks to the user, who
//! gives known facts when asked, confirms changes, and ends the conversation when the agent
//! is done. The episode records the chat in OpenAI's format, every call with its outcome, the
//! final digest and how it ended.
//!
//! Policies: `oracle` (the gold calls), `noisy` (the gold calls with seeded mistakes, some
//! recovered) and `openai` (an OpenAI-compatible endpoint). Episodes run concurrently;
//! their order and contents do not depend on the thread count.
//!
//! ```
//! use worldsmith_rollout::{Policy, RolloutConfig, rollout};
//! # let world = worldsmith_worlds::load("retail").unwrap().unwrap();
//! # let line = worldsmith_worlds::file("retail", "tasks.jsonl").unwrap().lines().next().unwrap();
//! let task: worldsmith_core::task::TaskLine = serde_json::from_str(line).unwrap();
//! let config = RolloutConfig { policy: Policy::Oracle, ..RolloutConfig::default() };
//! let (episodes, stats) = rollout(&[(world, task)], &config);
//! assert_eq!(episodes.len(), 1);
//! assert_eq!(stats.episodes, 1);
//! ```

pub mod agent;
pub mod arena;
pub mod openai;
pub mod scripted;
pub mod step;
pub mod user;

use agent::Agent;
use openai::{OpenAiAgent, OpenAiConfig};
use rayon::prelude::*;
use scripted::{Noise, Scripted};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
pub use step::{EpisodeRun, EpisodeSettings, Observation};
use worldsmith_core::arena::Arena;
use worldsmith_core::episode::{EndReason, Episode};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::tally::Tally;
use worldsmith_core::task::TaskLine;
use worldsmith_core::tool::{Distractor, FunctionTool};
use worldsmith_engine::World;

/// The agent policy.
#[derive(Debug, Clone)]
pub enum Policy {
    /// Follows the gold calls.
    Oracle,
    /// Follows the gold calls with seeded mistakes.
    Noisy(Noise),
    /// Asks an OpenAI-compatible endpoint.
    OpenAi(OpenAiConfig),
}

impl Policy {
    /// The policy's name in episode lines: `oracle`, `noisy`, `openai:<model>`.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Policy::Oracle => "oracle".to_owned(),
            Policy::Noisy(_) => "noisy".to_owned(),
            Policy::OpenAi(c) => format!("openai:{}", c.model),
        }
    }
}

/// How to run episodes.
#[derive(Debug, Clone)]
pub struct RolloutConfig {
    /// The agent.
    pub policy: Policy,
    /// Episodes per task.
    pub trials: u32,
    /// The seed of every random choice (noisy mistakes, endpoint sampling).
    pub seed: u64,
    /// The most agent turns an episode may take.
    pub max_steps: u32,
    /// The most time an episode may take (checked between turns and by endpoint requests).
    pub episode_timeout: Duration,
    /// Episodes run at once; 0 means one per core.
    pub concurrency: usize,
    /// The user simulator: scripted (`None`) or played by this chat endpoint.
    pub llm_user: Option<OpenAiConfig>,
}

impl Default for RolloutConfig {
    fn default() -> RolloutConfig {
        RolloutConfig {
            policy: Policy::Oracle,
            trials: 1,
            seed: 0,
            max_steps: EpisodeSettings::default().max_steps,
            episode_timeout: EpisodeSettings::default().timeout,
            concurrency: 0,
            llm_user: None,
        }
    }
}

/// Counts over a rollout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RolloutStats {
    /// Episodes run.
    pub episodes: usize,
    /// Episodes by how they ended.
    pub ended: Tally<EndReason>,
    /// Tool calls made.
    pub calls: usize,
    /// Tool calls that failed.
    pub failed_calls: usize,
}

/// Runs `config.trials` episodes for every (world, task) pair, in input order (task-major).
#[must_use]
pub fn rollout(tasks: &[(World, TaskLine)], config: &RolloutConfig) -> (Vec<Episode>, RolloutStats) {
    rollout_observed(tasks, config, &|_| {})
}

/// [`rollout`], calling `on_episode` as each episode ends (in any order), e.g. to show
/// progress.
#[must_use]
pub fn rollout_observed(
    tasks: &[(World, TaskLine)],
    config: &RolloutConfig,
    on_episode: &(dyn Fn(&Episode) + Sync),
) -> (Vec<Episode>, RolloutStats) {
    rollout_with(tasks, config, &config.policy, on_episode)
}

/// [`rollout_observed`] with the agents `agents` makes instead of `config.policy`.
#[must_use]
pub fn rollout_with(
    tasks: &[(World, TaskLine)],
    config: &RolloutConfig,
    agents: &dyn AgentFactory,
    on_episode: &(dyn Fn(&Episode) + Sync),
) -> (Vec<Episode>, RolloutStats) {
    run_all(tasks, config, on_episode, |world, task, trial| episode_with(world, task, trial, config, agents))
}

/// [`rollout_with`] over arenas: `config.trials` episodes in every (world, arena) pair, in
/// input order, each recording its arena ([`arena_episode`]).
#[must_use]
pub fn rollout_arenas(
    arenas: &[(World, Arena)],
    config: &RolloutConfig,
    agents: &dyn AgentFactory,
    on_episode: &(dyn Fn(&Episode) + Sync),
) -> (Vec<Episode>, RolloutStats) {
    run_all(arenas, config, on_episode, |world, arena, trial| arena_episode(world, arena, trial, config, agents))
}

/// Runs `one` for every trial of every pair (in parallel, on `config.concurrency` threads
/// when set) and counts the episodes, in input order.
fn run_all<T: Sync>(
    pairs: &[(World, T)],
    config: &RolloutConfig,
    on_episode: &(dyn Fn(&Episode) + Sync),
    one: impl Fn(&World, &T, u32) -> Episode + Sync,
) -> (Vec<Episode>, RolloutStats) {
    let jobs: Vec<(&World, &T, u32)> =
        pairs.iter().flat_map(|(w, t)| (0..config.trials).map(move |trial| (w, t, trial))).collect();
    let run = || {
        jobs.par_iter()
            .map(|&(world, item, trial)| {
                let e = one(world, item, trial);
                on_episode(&e);
                e
            })
            .collect::<Vec<_>>()
    };
    let episodes = if config.concurrency == 0 {
        run()
    } else {
        match rayon::ThreadPoolBuilder::new().num_threads(config.concurrency).build() {
            Ok(pool) => pool.install(run),
            Err(_) => run(),
        }
    };
    let mut stats = RolloutStats { episodes: episodes.len(), ..RolloutStats::default() };
    for e in &episodes {
        stats.ended.add(e.end);
        stats.calls += e.calls.len();
        stats.failed_calls += e.calls.iter().filter(|c| !c.ok).count();
    }
    (episodes, stats)
}

/// Makes the agent of each episode: the built-in [`Policy`], or any agent from outside
/// (a model client, a trainer's policy) that `rollout` should run.
pub trait AgentFactory: Sync {
    /// The agent's name in episode lines and ids.
    fn name(&self) -> String;
    /// The agent for trial `trial` of `task` in `world`; `rng` is the episode's own stream
    /// (seeded by the rollout seed, the task id and the trial) and `timeout` its time limit.
    fn agent<'a>(
        &'a self,
        world: &'a World,
        task: &'a TaskLine,
        rng: &mut SplitMix64,
        timeout: Duration,
    ) -> Box<dyn Agent + 'a>;
}

impl AgentFactory for Policy {
    fn name(&self) -> String {
        Policy::name(self)
    }

    fn agent<'a>(
        &'a self,
        world: &'a World,
        task: &'a TaskLine,
        rng: &mut SplitMix64,
        timeout: Duration,
    ) -> Box<dyn Agent + 'a> {
        match self {
            Policy::Oracle => Box::new(Scripted::oracle(world, task)),
            Policy::Noisy(noise) => Box::new(Scripted::noisy(world, task, *noise, rng)),
            Policy::OpenAi(openai) => Box::new(OpenAiAgent::new(openai, rng.next_u64() >> 1, timeout)),
        }
    }
}

/// Runs one episode of `config.policy`.
#[must_use]
pub fn episode(world: &World, task: &TaskLine, trial: u32, config: &RolloutConfig) -> Episode {
    episode_with(world, task, trial, config, &config.policy)
}

/// Runs one episode of the agent `agents` makes: a loop of [`EpisodeRun::step`] over the
/// agent's turns.
#[must_use]
pub fn episode_with(
    world: &World,
    task: &TaskLine,
    trial: u32,
    config: &RolloutConfig,
    agents: &dyn AgentFactory,
) -> Episode {
    let settings = settings(config, agents);
    drive(EpisodeRun::start(world, task, trial, &settings), world, task, trial, config, agents)
}

/// Runs one episode of `arena` with the agent `agents` makes (as [`episode_with`] runs a
/// task's); the episode's task is the arena's [`task_line`](Arena::task_line), so that
/// `verify` judges it against the arena's sub-goals.
#[must_use]
pub fn arena_episode(
    world: &World,
    arena: &Arena,
    trial: u32,
    config: &RolloutConfig,
    agents: &dyn AgentFactory,
) -> Episode {
    let task = arena.task_line();
    let settings = settings(config, agents);
    let mut e =
        drive(EpisodeRun::start_arena(world, arena, &task, trial, &settings), world, &task, trial, config, agents);
    e.arena = Some(arena.id.clone());
    e
}

fn settings(config: &RolloutConfig, agents: &dyn AgentFactory) -> EpisodeSettings {
    EpisodeSettings {
        policy: agents.name(),
        max_steps: config.max_steps,
        timeout: config.episode_timeout,
        seed: config.seed,
        llm_user: config.llm_user.clone(),
    }
}

/// The agent's turns, stepped until the episode ends.
fn drive(
    mut run: EpisodeRun<'_>,
    world: &World,
    task: &TaskLine,
    trial: u32,
    config: &RolloutConfig,
    agents: &dyn AgentFactory,
) -> Episode {
    let mut rng = SplitMix64::for_stream(config.seed, &format!("{}/{trial}", id_text(&task.id)));
    let mut agent = agents.agent(world, task, &mut rng, config.episode_timeout);
    while run.check_time().is_none() {
        match agent.next(&run.context()) {
            Ok(turn) => {
                run.step(turn);
            }
            Err(e) => run.fail(&e),
        }
    }
    run.finish()
}

/// A task id as text: strings without quotes.
#[must_use]
pub fn id_text(id: &Value) -> String {
    user::render(id)
}

/// The tools an episode offers: the world's and the task's distractors, in the same shape
/// (the distractors' similarity band and home world are removed) and, when there are
/// distractors, shuffled together by a stream of the task's id, so position tells nothing.
#[must_use]
pub fn offered_tools(world: &World, task: &TaskLine) -> Vec<FunctionTool> {
    let mut tools = world.openai_tools();
    if task.distractors.is_empty() {
        return tools;
    }
    tools.extend(task.distractors.iter().map(Distractor::offered));
    arena::shuffle(&mut tools, 0, &id_text(&task.id));
    tools
}

/// The system prompt of an episode in `world`: the world named by its title
/// ([`World::title`]), never by the path or label it was loaded under, so the same world
/// gives the same prompt wherever it lies.
#[must_use]
pub fn system_prompt(world: &World) -> String {
    let description = &world.manifest().description;
    format!(
        "You are the assistant of {}. {}\n\nHelp the user with the tools provided. Look up what you need with the tools, ask the user for any detail you are missing, ask for confirmation (yes/no) before any change, and state the values the user asked for in your final answer.",
        world.title(),
        description.trim()
    )
}
