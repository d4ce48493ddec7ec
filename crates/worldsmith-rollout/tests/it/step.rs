//! Steppable episodes driven from outside, and outside agents run by `rollout`.

use super::scripted::tasks;
use std::time::Duration;
use worldsmith_core::episode::{EndReason, Episode};
use worldsmith_core::rng::SplitMix64;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_rollout::agent::{Agent, AgentError, Context, ProposedCall, Turn};
use worldsmith_rollout::{AgentFactory, EpisodeRun, EpisodeSettings, Policy, RolloutConfig, episode, rollout_with};

/// The agent turns of an episode, as an outside agent would send them.
fn turns(e: &Episode) -> Vec<Turn> {
    e.messages
        .iter()
        .filter(|m| m.role == "assistant")
        .map(|m| {
            if m.tool_calls.is_empty() {
                Turn::Text(m.content.clone().unwrap_or_default())
            } else {
                Turn::Calls(
                    m.tool_calls
                        .iter()
                        .map(|c| ProposedCall {
                            name: c.function.name.clone(),
                            arguments: c.function.arguments.clone(),
                        })
                        .collect(),
                )
            }
        })
        .collect()
}

#[test]
fn an_episode_driven_by_hand_is_byte_identical_to_the_oracles() {
    let config = RolloutConfig::default();
    for (world, task) in tasks() {
        let oracle = episode(world, task, 0, &config);
        let settings = EpisodeSettings { policy: "oracle".to_owned(), ..EpisodeSettings::default() };
        let mut run = EpisodeRun::start(world, task, 0, &settings);
        assert_eq!(run.messages().len(), 2, "system prompt and the user's opening");
        assert_eq!(run.tools(), oracle.tools.as_slice());
        for turn in turns(&oracle) {
            assert!(run.done().is_none());
            let seen = run.step(turn);
            assert!(!seen.messages.is_empty());
            assert_eq!(seen.messages[0].role, "assistant");
        }
        assert_eq!(run.done(), Some(EndReason::UserStop));
        // A turn after the end changes nothing.
        let after = run.step(Turn::Text("Anything else?".to_owned()));
        assert!(after.messages.is_empty() && after.done == Some(EndReason::UserStop));
        let by_hand = run.finish();
        assert_eq!(serde_json::to_string(&by_hand).unwrap(), serde_json::to_string(&oracle).unwrap(), "{}", task.id);
    }
}

#[test]
fn the_step_limit_and_bad_arguments_end_or_answer_as_they_should() {
    let (world, task) = &tasks()[0];
    let settings = EpisodeSettings { max_steps: 2, ..EpisodeSettings::default() };
    let mut run = EpisodeRun::start(world, task, 0, &settings);
    let bad = run.step(Turn::Calls(vec![ProposedCall {
        name: task.actions[0].name.clone(),
        arguments: "{not json".to_owned(),
    }]));
    assert!(bad.messages[1].content.as_deref().unwrap().starts_with("Error: the arguments are not valid JSON"));
    assert!(bad.done.is_none());
    let unknown =
        run.step(Turn::Calls(vec![ProposedCall { name: "no_such_tool".to_owned(), arguments: "{}".to_owned() }]));
    assert_eq!(unknown.done, Some(EndReason::StepLimit));
    let e = run.finish();
    assert_eq!(e.end, EndReason::StepLimit);
    assert!(e.calls.iter().all(|c| !c.ok) && e.final_digest == world.initial_state().digest());
}

/// An outside agent: answers every turn with one fixed message.
struct Polite;

impl Agent for Polite {
    fn next(&mut self, _context: &Context<'_>) -> Result<Turn, AgentError> {
        Ok(Turn::Text("I am not able to help with that.".to_owned()))
    }
}

struct PoliteFactory;

impl AgentFactory for PoliteFactory {
    fn name(&self) -> String {
        "polite".to_owned()
    }

    fn agent<'a>(&'a self, _: &'a World, _: &'a TaskLine, _: &mut SplitMix64, _: Duration) -> Box<dyn Agent + 'a> {
        Box::new(Polite)
    }
}

#[test]
fn rollout_runs_any_agent_a_factory_makes() {
    let some: Vec<(World, TaskLine)> = tasks().iter().take(3).cloned().collect();
    let config = RolloutConfig { trials: 2, ..RolloutConfig::default() };
    let (episodes, stats) = rollout_with(&some, &config, &PoliteFactory, &|_| {});
    assert_eq!(episodes.len(), 6);
    assert_eq!(stats.calls, 0);
    for e in &episodes {
        assert_eq!(e.policy, "polite");
        assert!(e.id.ends_with("/polite/0") || e.id.ends_with("/polite/1"), "{}", e.id);
        // The scripted user gives up on an agent that only talks.
        assert_eq!(e.end, EndReason::UserStop);
        assert!(e.messages.iter().any(|m| m.content.as_deref() == Some("I am not able to help with that.")));
    }
    // The built-in policies are factories too.
    let (oracle, _) = rollout_with(&some, &RolloutConfig::default(), &Policy::Oracle, &|_| {});
    assert!(oracle.iter().all(|e| e.policy == "oracle" && e.end == EndReason::UserStop));
}

/// An agent whose endpoint fails: the episode ends with `agent_error` and says why.
struct Broken;

impl Agent for Broken {
    fn next(&mut self, _context: &Context<'_>) -> Result<Turn, AgentError> {
        Err(AgentError::Endpoint("connection refused".to_owned()))
    }
}

#[test]
fn an_agent_that_cannot_act_ends_the_episode_with_its_error() {
    let (world, task) = &tasks()[0];
    let mut run = EpisodeRun::start(world, task, 0, &EpisodeSettings::default());
    let error = Broken.next(&run.context()).unwrap_err();
    run.fail(&error);
    assert_eq!(run.done(), Some(EndReason::AgentError));
    let e = run.finish();
    assert_eq!(e.error.as_deref(), Some("connection refused"));
}
