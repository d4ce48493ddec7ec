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
pub mod openai;
pub mod scripted;
pub mod user;

use agent::{Agent, AgentError, Context, Turn};
use openai::{OpenAiAgent, OpenAiConfig};
use rayon::prelude::*;
use scripted::{Noise, Scripted};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use user::{LlmUser, ScriptedUser, User};
use worldsmith_core::episode::{CallOutcome, EPISODE_FORMAT, EndReason, Episode, Message, ToolCall};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::{Scenario, TaskLine};
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
            max_steps: 30,
            episode_timeout: Duration::from_secs(600),
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
    pub ended: BTreeMap<String, usize>,
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
    let jobs: Vec<(&World, &TaskLine, u32)> =
        tasks.iter().flat_map(|(w, t)| (0..config.trials).map(move |trial| (w, t, trial))).collect();
    let run = || {
        jobs.par_iter()
            .map(|&(world, task, trial)| {
                let e = episode(world, task, trial, config);
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
        *stats.ended.entry(end_name(e.end).to_owned()).or_default() += 1;
        stats.calls += e.calls.len();
        stats.failed_calls += e.calls.iter().filter(|c| !c.ok).count();
    }
    (episodes, stats)
}

/// The name of an end reason, as in episode lines.
#[must_use]
pub fn end_name(end: EndReason) -> &'static str {
    match end {
        EndReason::UserStop => "user_stop",
        EndReason::StepLimit => "step_limit",
        EndReason::Timeout => "timeout",
        EndReason::AgentError => "agent_error",
    }
}

/// Runs one episode.
#[must_use]
pub fn episode(world: &World, task: &TaskLine, trial: u32, config: &RolloutConfig) -> Episode {
    let task_key = format!("{}/{trial}", id_text(&task.id));
    let mut rng = SplitMix64::for_stream(config.seed, &task_key);
    match &config.policy {
        Policy::Oracle => converse(world, task, trial, config, &mut Scripted::oracle(world, task)),
        Policy::Noisy(noise) => {
            let mut agent = Scripted::noisy(world, task, *noise, &mut rng);
            converse(world, task, trial, config, &mut agent)
        }
        Policy::OpenAi(openai) => {
            let mut agent = OpenAiAgent::new(openai, rng.next_u64() >> 1, config.episode_timeout);
            converse(world, task, trial, config, &mut agent)
        }
    }
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
pub fn offered_tools(world: &World, task: &TaskLine) -> Vec<Value> {
    let mut tools = world.openai_tools();
    if task.distractors.is_empty() {
        return tools;
    }
    for d in &task.distractors {
        let mut tool = d.clone();
        if let Some(map) = tool.as_object_mut() {
            map.retain(|key, _| key == "type" || key == "function");
        }
        tools.push(tool);
    }
    let mut rng = SplitMix64::for_stream(0, &format!("tools/{}", id_text(&task.id)));
    for i in (1..tools.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        tools.swap(i, j);
    }
    tools
}

/// The system prompt of an episode in `world`.
#[must_use]
pub fn system_prompt(world: &World) -> String {
    let description = &world.manifest().description;
    format!(
        "You are the assistant of {}. {}\n\nHelp the user with the tools provided. Look up what you need with the tools, ask the user for any detail you are missing, ask for confirmation (yes/no) before any change, and state the values the user asked for in your final answer.",
        world.label(),
        description.trim()
    )
}

fn converse(world: &World, task: &TaskLine, trial: u32, config: &RolloutConfig, agent: &mut dyn Agent) -> Episode {
    let started = std::time::Instant::now();
    let no_scenario = Scenario::default();
    let scenario = task.scenario.as_ref().unwrap_or(&no_scenario);
    let mut scripted = ScriptedUser::new(scenario);
    let mut llm;
    let user: &mut dyn User = match &config.llm_user {
        None => &mut scripted,
        Some(chat) => {
            let seed = SplitMix64::for_stream(config.seed, &format!("user/{}/{trial}", id_text(&task.id))).next_u64();
            llm = LlmUser::new(chat, scenario, seed >> 1, started + config.episode_timeout);
            &mut llm
        }
    };
    let tools = offered_tools(world, task);
    let mut messages = vec![Message::text("system", system_prompt(world))];
    let mut calls: Vec<CallOutcome> = Vec::new();
    let mut session = world.session();
    let mut end = EndReason::StepLimit;
    let mut error = None;
    match user.opening() {
        Ok(text) => messages.push(Message::text("user", text)),
        Err(e) => {
            end = EndReason::AgentError;
            error = Some(e.to_string());
        }
    }
    for step in 0..config.max_steps {
        if error.is_some() {
            break;
        }
        if started.elapsed() > config.episode_timeout {
            end = EndReason::Timeout;
            break;
        }
        let turn = agent.next(&Context { messages: &messages, tools: &tools, calls: &calls });
        match turn {
            Err(e) => {
                end = if matches!(e, AgentError::Timeout(_)) { EndReason::Timeout } else { EndReason::AgentError };
                error = Some(e.to_string());
                break;
            }
            Ok(Turn::Calls(proposed)) => {
                user.agent_acted();
                let ids: Vec<String> = (0..proposed.len()).map(|i| format!("call_{step}_{i}")).collect();
                let tool_calls: Vec<ToolCall> = proposed
                    .iter()
                    .zip(&ids)
                    .map(|(p, id)| ToolCall {
                        id: id.clone(),
                        kind: "function".to_owned(),
                        function: worldsmith_core::episode::FunctionCall {
                            name: p.name.clone(),
                            arguments: p.arguments.clone(),
                        },
                    })
                    .collect();
                messages.push(Message::calls(tool_calls));
                for (p, id) in proposed.iter().zip(&ids) {
                    let outcome = execute(&mut session, &p.name, &p.arguments);
                    messages.push(Message::tool_result(id, outcome.observation()));
                    calls.push(outcome);
                }
            }
            Ok(Turn::Text(text)) => {
                messages.push(Message::text("assistant", text.clone()));
                let reply = match user.reply(&text) {
                    Ok(r) => r,
                    Err(e) => {
                        end = if matches!(e, AgentError::Timeout(_)) {
                            EndReason::Timeout
                        } else {
                            EndReason::AgentError
                        };
                        error = Some(e.to_string());
                        break;
                    }
                };
                messages.push(Message::text("user", reply.text));
                if reply.stop {
                    end = EndReason::UserStop;
                    break;
                }
            }
        }
    }
    Episode {
        id: format!("{}/{}/{trial}", id_text(&task.id), config.policy.name()),
        format: EPISODE_FORMAT,
        world: task.world.clone().unwrap_or_else(|| world.name().to_owned()),
        origin: origin_name(world).to_owned(),
        policy: config.policy.name(),
        trial,
        messages,
        tools,
        calls,
        final_digest: session.digest(),
        end,
        error,
        task: task.clone(),
    }
}

/// `bundled` or `generated`.
#[must_use]
pub fn origin_name(world: &World) -> &'static str {
    match world.origin() {
        worldsmith_engine::manifest::Origin::Bundled => "bundled",
        worldsmith_engine::manifest::Origin::Generated => "generated",
    }
}

/// Runs one proposed call on the session.
fn execute(session: &mut worldsmith_engine::Session, name: &str, arguments: &str) -> CallOutcome {
    let parsed: Value = match serde_json::from_str(arguments) {
        Ok(v) => v,
        Err(e) => {
            return CallOutcome {
                name: name.to_owned(),
                arguments: Value::Null,
                ok: false,
                value: Value::String(format!("the arguments are not valid JSON: {e}")),
                wrote: false,
            };
        }
    };
    let before = session.digest();
    let (ok, value) = match session.execute(name, &parsed) {
        Ok(v) => (true, v),
        Err(e) => (false, Value::String(e.to_string())),
    };
    CallOutcome { name: name.to_owned(), arguments: parsed, ok, value, wrote: session.digest() != before }
}
