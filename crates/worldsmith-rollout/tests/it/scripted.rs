//! The scripted policies on synthesized tasks of every bundled world.

use std::sync::OnceLock;
use worldsmith_core::episode::EndReason;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};
use worldsmith_synth::{SynthConfig, synthesize};

/// Synthesized tasks of every bundled world (made once: synthesis is slow in debug builds).
pub fn tasks() -> &'static [(World, TaskLine)] {
    static TASKS: OnceLock<Vec<(World, TaskLine)>> = OnceLock::new();
    TASKS.get_or_init(|| {
        let worlds: Vec<World> =
            worldsmith_worlds::default_names().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect();
        let out = synthesize(&worlds, &SynthConfig { seed: 3, tasks_per_world: 8, ..SynthConfig::default() });
        out.tasks
            .into_iter()
            .map(|t| {
                let w = worlds.iter().find(|w| Some(w.name()) == t.world.as_deref()).unwrap().clone();
                (w, t)
            })
            .collect()
    })
}

#[test]
fn the_oracle_reaches_every_expected_state_and_states_every_answer() {
    let tasks = tasks();
    let (episodes, stats) = rollout(tasks, &RolloutConfig::default());
    assert_eq!(episodes.len(), tasks.len());
    assert_eq!(stats.failed_calls, 0);
    for (e, (_, t)) in episodes.iter().zip(tasks) {
        assert_eq!(e.end, EndReason::UserStop, "{}", e.id);
        assert_eq!(Some(e.final_digest), t.expected_digest, "{}", e.id);
        assert_eq!(e.calls.len(), t.actions.len());
        let said: String = e
            .messages
            .iter()
            .filter(|m| m.role == "assistant")
            .filter_map(|m| m.content.clone())
            .collect::<Vec<_>>()
            .join("\n");
        for a in t.answers.iter().flat_map(|a| a.members()) {
            let text = worldsmith_rollout::user::render(a);
            let money = a.as_f64().map(|f| format!("{f:.2}")).unwrap_or_default();
            let plain = said.replace(',', "");
            assert!(said.contains(&text) || plain.contains(&money), "{}: {a} not stated in {said}", e.id);
        }
        // Writes are confirmed before they happen.
        if e.calls.iter().any(|c| c.wrote) {
            assert!(said.contains("Shall I go ahead?"), "{}", e.id);
        }
    }
}

#[test]
fn noisy_episodes_make_mistakes_recover_some_and_are_reproducible() {
    let tasks = tasks();
    let config =
        RolloutConfig { policy: Policy::Noisy(Noise::default()), trials: 3, seed: 11, ..RolloutConfig::default() };
    let (a, stats) = rollout(tasks, &config);
    assert!(stats.failed_calls > 0, "no mistakes in {} episodes", a.len());
    let reached = a.iter().filter(|e| Some(e.final_digest) == e.task.expected_digest).count();
    let recovered =
        a.iter().filter(|e| e.calls.iter().any(|c| !c.ok) && Some(e.final_digest) == e.task.expected_digest).count();
    assert!(reached < a.len() && reached > a.len() / 3, "{reached} of {}", a.len());
    assert!(recovered > 0);
    let one_thread = RolloutConfig { concurrency: 1, ..config.clone() };
    let (b, _) = rollout(tasks, &one_thread);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let other_seed = RolloutConfig { seed: 12, ..config };
    let (c, _) = rollout(tasks, &other_seed);
    assert_ne!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&c).unwrap());
}

#[test]
fn a_step_limit_ends_the_episode() {
    let tasks = tasks();
    let config = RolloutConfig { max_steps: 1, ..RolloutConfig::default() };
    let (episodes, _) = rollout(&tasks[..1], &config);
    assert_eq!(episodes[0].end, EndReason::StepLimit);
}

#[test]
fn distractors_look_like_the_worlds_own_tools_and_sit_among_them() {
    let mut not_last = 0;
    let mut with_distractors = 0;
    for (world, task) in tasks().iter().filter(|(_, t)| !t.distractors.is_empty()) {
        with_distractors += 1;
        let offered = worldsmith_rollout::offered_tools(world, task);
        let own: Vec<String> = world.openai_tools().iter().map(|t| t.name().to_owned()).collect();
        assert_eq!(offered.len(), own.len() + task.distractors.len());
        // As the agent sees them, in JSON.
        let shape = |t: &worldsmith_core::tool::FunctionTool| {
            let t = serde_json::to_value(t).unwrap();
            let mut keys: Vec<&String> = t.as_object().unwrap().keys().collect();
            keys.extend(t["function"].as_object().unwrap().keys());
            keys.into_iter().cloned().collect::<std::collections::BTreeSet<String>>()
        };
        let reference = shape(&world.openai_tools()[0]);
        for tool in &offered {
            assert_eq!(shape(tool), reference, "{}: {tool:?}", task.id);
        }
        // The distractors are not the trailing block (a seeded shuffle puts them there with
        // negligible chance).
        let tail = &offered[offered.len() - task.distractors.len()..];
        not_last += usize::from(tail.iter().any(|t| own.iter().any(|name| name == t.name())));
        // The same task offers the same order every time.
        assert_eq!(offered, worldsmith_rollout::offered_tools(world, task));
    }
    assert!(with_distractors > 0 && not_last == with_distractors, "{not_last} of {with_distractors} shuffled");
}
