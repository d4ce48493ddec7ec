//! Steppable episodes: an agent that lives outside worldsmith (a trainer, a server's client,
//! a Python loop) drives one episode a turn at a time.
//!
//! [`EpisodeRun::start`] forks the world and builds what the agent sees first (the system
//! prompt, the user's opening message and the tools offered); [`EpisodeRun::step`] takes one
//! agent turn (tool calls or text) and answers with the [`Observation`]: the messages the
//! turn added (the tool results, or the simulated user's reply) and whether the episode is
//! over and why; [`EpisodeRun::finish`] turns it into the episode line that `rollout`
//! writes. The built-in policies and `rollout` are loops over this API, so an episode driven
//! by hand with the oracle's turns is byte-identical to the oracle's.
//!
//! ```
//! use worldsmith_rollout::agent::{ProposedCall, Turn};
//! use worldsmith_rollout::step::{EpisodeRun, EpisodeSettings};
//! # let world = worldsmith_worlds::load("retail").unwrap().unwrap();
//! # let line = worldsmith_worlds::file("retail", "tasks.jsonl").unwrap().lines().next().unwrap();
//! let task: worldsmith_core::task::TaskLine = serde_json::from_str(line).unwrap();
//! let settings = EpisodeSettings { policy: "my-agent".to_owned(), ..EpisodeSettings::default() };
//! let mut run = EpisodeRun::start(&world, &task, 0, &settings);
//! let action = &task.actions[0];
//! let call = ProposedCall { name: action.name.clone(), arguments: action.arguments.to_string() };
//! let seen = run.step(Turn::Calls(vec![call]));
//! assert_eq!(seen.messages.last().unwrap().role, "tool");
//! let seen = run.step(Turn::Text("That is all I found.".to_owned()));
//! assert!(seen.done.is_some());
//! let episode = run.finish();
//! assert_eq!(episode.calls.len(), 1);
//! ```

use crate::agent::{AgentError, Context, ProposedCall, Turn};
use crate::openai::OpenAiConfig;
use crate::user::{LlmUser, ScriptedUser, User};
use crate::{id_text, offered_tools, system_prompt};
use serde_json::Value;
use std::time::{Duration, Instant};
use worldsmith_core::episode::{CallOutcome, EPISODE_FORMAT, EndReason, Episode, FunctionCall, Message, ToolCall};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::{Scenario, TaskLine};
use worldsmith_core::tool::FunctionTool;
use worldsmith_engine::{Session, World};

/// How an episode runs: its limits, its user and the name it is recorded under.
#[derive(Debug, Clone)]
pub struct EpisodeSettings {
    /// The agent's name in the episode line (`policy`), and in its id.
    pub policy: String,
    /// The most agent turns the episode may take.
    pub max_steps: u32,
    /// The most time the episode may take (checked before each turn).
    pub timeout: Duration,
    /// The seed of the user simulator's sampling (an LLM user).
    pub seed: u64,
    /// The user simulator: scripted (`None`) or played by this chat endpoint.
    pub llm_user: Option<OpenAiConfig>,
}

impl Default for EpisodeSettings {
    fn default() -> EpisodeSettings {
        EpisodeSettings {
            policy: "agent".to_owned(),
            max_steps: 30,
            timeout: Duration::from_secs(600),
            seed: 0,
            llm_user: None,
        }
    }
}

/// What one agent turn brought: the messages it added to the conversation (the agent's own
/// message first, then the tool results or the user's reply) and, when the episode is over,
/// why.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The messages this turn added, in order.
    pub messages: Vec<Message>,
    /// `Some` once the episode is over.
    pub done: Option<EndReason>,
}

/// One episode in progress (see the module documentation).
pub struct EpisodeRun<'a> {
    world: &'a World,
    task: &'a TaskLine,
    trial: u32,
    policy: String,
    user: Box<dyn User + 'a>,
    session: Session,
    tools: Vec<FunctionTool>,
    messages: Vec<Message>,
    calls: Vec<CallOutcome>,
    steps: u32,
    max_steps: u32,
    started: Instant,
    timeout: Duration,
    end: Option<EndReason>,
    error: Option<String>,
}

/// A task without a scenario has a user with nothing to say.
static NO_SCENARIO: std::sync::LazyLock<Scenario> = std::sync::LazyLock::new(Scenario::default);

impl<'a> EpisodeRun<'a> {
    /// Starts trial `trial` of `task` in `world`: forks the world's initial state, offers
    /// the world's tools and the task's distractors, and opens with the system prompt and
    /// the user's first message.
    #[must_use]
    pub fn start(world: &'a World, task: &'a TaskLine, trial: u32, settings: &EpisodeSettings) -> EpisodeRun<'a> {
        EpisodeRun::start_offering(world, task, offered_tools(world, task), trial, settings)
    }

    /// Starts an episode of an arena ([`worldsmith_core::arena::Arena`]): `task` is the
    /// arena's [`task_line`](worldsmith_core::arena::Arena::task_line) and `tools` the
    /// arena's tools, offered in the arena's order.
    #[must_use]
    pub fn start_arena(
        world: &'a World,
        arena: &worldsmith_core::arena::Arena,
        task: &'a TaskLine,
        trial: u32,
        settings: &EpisodeSettings,
    ) -> EpisodeRun<'a> {
        let settings = EpisodeSettings { max_steps: arena.max_turns, ..settings.clone() };
        EpisodeRun::start_offering(world, task, arena.tools.clone(), trial, &settings)
    }

    /// Starts trial `trial` of `task` offering `tools` (see [`EpisodeRun::start`]).
    #[must_use]
    pub fn start_offering(
        world: &'a World,
        task: &'a TaskLine,
        tools: Vec<FunctionTool>,
        trial: u32,
        settings: &EpisodeSettings,
    ) -> EpisodeRun<'a> {
        let started = Instant::now();
        let scenario = task.scenario.as_ref().unwrap_or(&NO_SCENARIO);
        let user: Box<dyn User + 'a> = match &settings.llm_user {
            None => Box::new(ScriptedUser::new(scenario)),
            Some(chat) => {
                let label = format!("user/{}/{trial}", id_text(&task.id));
                let seed = SplitMix64::for_stream(settings.seed, &label).next_u64();
                Box::new(LlmUser::new(chat, scenario, seed >> 1, started + settings.timeout))
            }
        };
        let mut run = EpisodeRun {
            world,
            task,
            trial,
            policy: settings.policy.clone(),
            user,
            session: world.session(),
            tools,
            messages: vec![Message::text("system", system_prompt(world))],
            calls: Vec::new(),
            steps: 0,
            max_steps: settings.max_steps,
            started,
            timeout: settings.timeout,
            end: None,
            error: None,
        };
        match run.user.opening() {
            Ok(text) => run.messages.push(Message::text("user", text)),
            Err(e) => {
                run.end = Some(EndReason::AgentError);
                run.error = Some(e.to_string());
            }
        }
        if run.end.is_none() && run.max_steps == 0 {
            run.end = Some(EndReason::StepLimit);
        }
        run
    }

    /// The conversation so far, system prompt first.
    #[must_use]
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The tools offered (OpenAI function format).
    #[must_use]
    pub fn tools(&self) -> &[FunctionTool] {
        &self.tools
    }

    /// Every call made so far, with its outcome.
    #[must_use]
    pub fn calls(&self) -> &[CallOutcome] {
        &self.calls
    }

    /// The episode's world state so far (fork it to try an action without taking it).
    #[must_use]
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// What an agent sees when it takes its turn.
    #[must_use]
    pub fn context(&self) -> Context<'_> {
        Context { messages: &self.messages, tools: &self.tools, calls: &self.calls }
    }

    /// `Some` once the episode is over, with why.
    #[must_use]
    pub fn done(&self) -> Option<EndReason> {
        self.end
    }

    /// Ends the episode with `timeout` when its time has run out; returns [`Self::done`].
    /// A loop calls it before it asks its agent for a turn (`step` checks it too, so a turn
    /// that arrives too late changes nothing).
    pub fn check_time(&mut self) -> Option<EndReason> {
        if self.end.is_none() && self.started.elapsed() > self.timeout {
            self.end = Some(EndReason::Timeout);
        }
        self.end
    }

    /// Takes one agent turn. Tool calls run, one after another, as transactions on the
    /// episode's own fork (an error is a result the agent sees, never a crash); text goes to
    /// the user, whose reply may end the episode. A turn after the end changes nothing.
    pub fn step(&mut self, turn: Turn) -> Observation {
        let before = self.messages.len();
        if self.check_time().is_some() {
            return Observation { messages: Vec::new(), done: self.end };
        }
        let step = self.steps;
        self.steps += 1;
        match turn {
            Turn::Calls(proposed) => {
                self.user.agent_acted();
                let ids: Vec<String> = (0..proposed.len()).map(|i| format!("call_{step}_{i}")).collect();
                let tool_calls = proposed
                    .iter()
                    .zip(&ids)
                    .map(|(p, id)| ToolCall {
                        id: id.clone(),
                        kind: worldsmith_core::tool::ToolType::Function,
                        function: FunctionCall { name: p.name.clone(), arguments: p.arguments.clone() },
                    })
                    .collect();
                self.messages.push(Message::calls(tool_calls));
                for (p, id) in proposed.iter().zip(&ids) {
                    let outcome = execute(&mut self.session, p);
                    self.messages.push(Message::tool_result(id, outcome.observation()));
                    self.calls.push(outcome);
                }
            }
            Turn::Text(text) => {
                self.messages.push(Message::text("assistant", text.clone()));
                match self.user.reply(&text) {
                    Ok(reply) => {
                        self.messages.push(Message::text("user", reply.text));
                        if reply.stop {
                            self.end = Some(EndReason::UserStop);
                        }
                    }
                    Err(e) => self.fail(&e),
                }
            }
        }
        if self.end.is_none() && self.steps >= self.max_steps {
            self.end = Some(EndReason::StepLimit);
        }
        Observation { messages: self.messages[before..].to_vec(), done: self.end }
    }

    /// Ends the episode because the agent (or the user simulator) could not act: a timeout
    /// or an endpoint that failed after its retries.
    pub fn fail(&mut self, error: &AgentError) {
        if self.end.is_some() {
            return;
        }
        self.end =
            Some(if matches!(error, AgentError::Timeout(_)) { EndReason::Timeout } else { EndReason::AgentError });
        self.error = Some(error.to_string());
    }

    /// The episode line: the conversation, the tools offered, every call, the final digest
    /// and how it ended (the step limit when it was still going).
    #[must_use]
    pub fn finish(self) -> Episode {
        Episode {
            id: format!("{}/{}/{}", id_text(&self.task.id), self.policy, self.trial),
            format: EPISODE_FORMAT,
            world: self.task.world.clone().unwrap_or_else(|| self.world.name().to_owned()),
            origin: self.world.origin(),
            policy: self.policy,
            trial: self.trial,
            messages: self.messages,
            tools: self.tools,
            calls: self.calls,
            final_digest: self.session.digest(),
            changes: Some(self.session.changes()),
            end: self.end.unwrap_or(EndReason::StepLimit),
            error: self.error,
            task: self.task.clone(),
            arena: None,
        }
    }
}

/// Runs one proposed call on the session.
fn execute(session: &mut Session, call: &ProposedCall) -> CallOutcome {
    let parsed: Value = match serde_json::from_str(&call.arguments) {
        Ok(v) => v,
        Err(e) => {
            return CallOutcome {
                name: call.name.clone(),
                arguments: Value::Null,
                ok: false,
                value: Value::String(format!("the arguments are not valid JSON: {e}")),
                wrote: false,
            };
        }
    };
    let before = session.digest();
    let (ok, value) = match session.execute(&call.name, &parsed) {
        Ok(v) => (true, v),
        Err(e) => (false, Value::String(e.to_string())),
    };
    CallOutcome { name: call.name.clone(), arguments: parsed, ok, value, wrote: session.digest() != before }
}
