//! Arenas from the synthesized tasks of every bundled world: self-contained, the same start
//! as the task's episodes, hops that partition the task, and solvable by the oracle as
//! `verify` judges it.

use super::scripted::tasks;
use serde_json::Value;
use worldsmith_core::arena::{Arena, Subgoal};
use worldsmith_core::task::TaskKind;
use worldsmith_rollout::arena::{ArenaConfig, arenas, build_arenas};
use worldsmith_rollout::{Policy, RolloutConfig, arena_episode, episode, offered_tools};

#[test]
fn a_whole_task_arena_starts_as_the_task_s_episodes_do() {
    let config = RolloutConfig::default();
    for (world, task) in tasks() {
        let all = arenas(world, task, &ArenaConfig::default());
        let whole = &all[0];
        assert_eq!(whole.hop, None);
        assert_eq!(whole.task, task.id);
        assert_eq!(whole.init.digest, world.initial_state().digest());
        assert_eq!(whole.tools, offered_tools(world, task), "{}", whole.id);
        let e = episode(world, task, 0, &config);
        assert_eq!(whole.messages, e.messages[..2], "{}", whole.id);
        assert_eq!(whole.gold, task.actions);
        let records: usize = task.changed_records.iter().flatten().map(|(_, r)| r.len()).sum();
        assert_eq!(whole.subgoals.len(), records + task.answers.len(), "{}", whole.id);
        // Its task line is judged as the task is: the oracle succeeds with full F1.
        let arena_run = arena_episode(world, whole, 0, &config, &Policy::Oracle);
        let verdict = worldsmith_verify::verify(&arena_run, world);
        assert!(verdict.success, "{}: {:?}", whole.id, verdict.reason);
        assert_eq!(verdict.rewards.f1().map(|f| f.f1), Some(1.0), "{}", whole.id);
        // It reads back.
        let line = serde_json::to_string(whole).unwrap();
        assert_eq!(&serde_json::from_str::<Arena>(&line).unwrap(), whole);
    }
}

#[test]
fn multi_hop_questions_give_one_arena_per_hop_that_the_oracle_solves() {
    let config = RolloutConfig::default();
    let mut hop_arenas = 0;
    for (world, task) in tasks().iter().filter(|(_, t)| t.kind == Some(TaskKind::MultiHop)) {
        let all = arenas(world, task, &ArenaConfig::default());
        assert_eq!(all.len(), 1 + task.hops.len(), "{}", task.id);
        // The hops' gold calls, in order, are the task's.
        let gold: Vec<_> = all[1..].iter().flat_map(|a| a.gold.clone()).collect();
        assert_eq!(gold, task.actions, "{}", task.id);
        let mut given: Vec<Value> = Vec::new();
        for (k, arena) in all[1..].iter().enumerate() {
            hop_arenas += 1;
            assert_eq!(arena.hop, Some(k + 1));
            assert!(!arena.needs_user, "{}: the hop states what it gives", arena.id);
            // The earlier hops' answers are given, in the message and as known facts.
            for value in &given {
                let text = worldsmith_core::prose::plain(value);
                assert!(arena.messages[1].content.as_deref().unwrap_or("").contains(&text), "{}", arena.id);
                assert!(arena.scenario.known_facts.values().any(|v| v == value), "{}", arena.id);
            }
            assert!(arena.subgoals.iter().all(|g| matches!(g, Subgoal::Answer(_))));
            let run = arena_episode(world, arena, 0, &config, &Policy::Oracle);
            let verdict = worldsmith_verify::verify(&run, world);
            assert!(verdict.success, "{}: {:?}", arena.id, verdict.reason);
            given.extend(task.hops[k].answers.iter().cloned());
        }
    }
    assert!(hop_arenas >= 4, "{hop_arenas} hop arenas");
}

#[test]
fn distractors_are_limited_and_the_seed_orders_the_tools() {
    let (world, task) = tasks().iter().find(|(_, t)| t.distractors.len() >= 3).expect("a task with distractors");
    let own = world.openai_tools().len();
    let one = &arenas(world, task, &ArenaConfig { distractors: Some(1), ..ArenaConfig::default() })[0];
    assert_eq!(one.tools.len(), own + 1);
    // The one taken is a near one: the bands are taken in turn, nearest first.
    let near = task.distractors.iter().find(|d| d.band == Some(worldsmith_core::tool::Band::Near));
    if let Some(near) = near {
        assert!(one.tools.iter().any(|t| t.name() == near.function.name));
    }
    let none = &arenas(world, task, &ArenaConfig { distractors: Some(0), ..ArenaConfig::default() })[0];
    assert_eq!(none.tools, world.openai_tools());
    let a = &arenas(world, task, &ArenaConfig { seed: 1, ..ArenaConfig::default() })[0];
    let b = &arenas(world, task, &ArenaConfig { seed: 2, ..ArenaConfig::default() })[0];
    assert_ne!(a.tools, b.tools);
    let names = |x: &Arena| {
        let mut n: Vec<String> = x.tools.iter().map(|t| t.name().to_owned()).collect();
        n.sort();
        n
    };
    assert_eq!(names(a), names(b));
}

#[test]
fn a_withheld_fact_makes_an_arena_need_the_user() {
    let (world, task) = tasks().iter().find(|(_, t)| t.kind == Some(TaskKind::Write)).expect("a write task");
    let mut withheld = task.clone();
    let scenario = withheld.scenario.as_mut().unwrap();
    let (name, value) = task.actions[0]
        .arguments
        .as_object()
        .and_then(|m| m.iter().find(|(_, v)| v.is_string()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .expect("a string argument");
    let text = worldsmith_core::prose::plain(&value);
    scenario.goal = scenario.goal.replace(&text, &format!("my {}", worldsmith_core::ident::words(&name)));
    scenario.known_facts.insert(name, value);
    assert!(!arenas(world, task, &ArenaConfig::default())[0].needs_user);
    assert!(arenas(world, &withheld, &ArenaConfig::default())[0].needs_user);
    // The oracle asks and the scripted user answers: still solved.
    let arena = &arenas(world, &withheld, &ArenaConfig::default())[0];
    let run = arena_episode(world, arena, 0, &RolloutConfig::default(), &Policy::Oracle);
    assert!(worldsmith_verify::verify(&run, world).success);
}

#[test]
fn building_is_deterministic_and_counted() {
    let (a, stats) = build_arenas(tasks(), &ArenaConfig::default());
    let (b, _) = build_arenas(tasks(), &ArenaConfig::default());
    assert_eq!(a, b);
    assert_eq!(stats.arenas, a.len());
    assert_eq!(stats.whole, tasks().len());
    assert_eq!(stats.whole + stats.hops, stats.arenas);
    assert_eq!(stats.worlds.values().sum::<usize>(), stats.arenas);
}

#[test]
fn an_arena_without_a_digest_is_judged_by_its_record_subgoals() {
    let (world, task) = tasks().iter().find(|(_, t)| t.kind == Some(TaskKind::Write)).expect("a write task");
    let mut arena = arenas(world, task, &ArenaConfig::default()).remove(0);
    // Expect another final value of the first record: the oracle's episode no longer
    // reaches the arena's state.
    let Some(Subgoal::Record(goal)) = arena.subgoals.iter_mut().find(|g| matches!(g, Subgoal::Record(_))) else {
        panic!("a record sub-goal")
    };
    goal.value = Some(serde_json::json!({"tampered": true}));
    let run = arena_episode(world, &arena, 0, &RolloutConfig::default(), &Policy::Oracle);
    let verdict = worldsmith_verify::verify(&run, world);
    assert!(!verdict.success);
    assert_eq!(verdict.failure(), Some(worldsmith_core::episode::Failure::State));
    let f1 = verdict.rewards.f1().unwrap();
    assert_eq!(f1.solved + 1, f1.subgoals, "{f1:?}");
}

#[test]
fn rewards_against_the_whole_task_arena_are_verify_s_and_recompute_from_their_counts() {
    let noisy = RolloutConfig {
        policy: Policy::Noisy(worldsmith_rollout::scripted::Noise { mistake_rate: 0.4, recovery_rate: 0.5 }),
        trials: 3,
        seed: 11,
        ..RolloutConfig::default()
    };
    let (episodes, _) = worldsmith_rollout::rollout(tasks(), &noisy);
    let mut failed = 0;
    for e in &episodes {
        let (world, task) = tasks().iter().find(|(_, t)| t.id == e.task.id).unwrap();
        let arena = &arenas(world, task, &ArenaConfig::default())[0];
        let verdict = worldsmith_verify::verify(e, world);
        let line = worldsmith_verify::score(arena, e, world, worldsmith_verify::Evidence::Replay);
        // Trusting the record gives the same line as running the calls again (differential),
        // and so does an episode without recorded changes (format 1: it is replayed).
        assert_eq!(worldsmith_verify::score(arena, e, world, worldsmith_verify::Evidence::Recorded), line, "{}", e.id);
        let old = worldsmith_core::episode::Episode { changes: None, ..e.clone() };
        assert_eq!(
            worldsmith_verify::score(arena, &old, world, worldsmith_verify::Evidence::Recorded),
            line,
            "{}",
            e.id
        );
        // One implementation: the same success and rewards as the verdict.
        assert_eq!(line.success, verdict.success, "{}: {:?} / {:?}", e.id, line.reason, verdict.reason);
        assert_eq!(line.rewards, verdict.rewards, "{}", e.id);
        failed += usize::from(!line.success);
        // Per-sub-goal credit sums to the F1 object's solved count.
        let f1 = line.rewards.f1().unwrap();
        let credited: usize = line.subgoals.iter().map(|c| usize::from(*c)).sum();
        assert_eq!(line.subgoals.len(), f1.subgoals);
        if line.valid && f1.f1 > 0.0 {
            assert_eq!(credited, f1.solved, "{}", e.id);
        }
        // Anyone can recompute both forms from what the line reports.
        assert!(f1.f1.is_finite() && f1.f1_raw.is_finite());
        if f1.solved > 0 && f1.f1 > 0.0 {
            let harmonic = 2.0 * f1.precision * f1.recall / (f1.precision + f1.recall);
            assert!((harmonic - f1.f1).abs() < 1e-12, "{}", e.id);
            let raw_p = (f1.solved as f64 / f1.calls as f64).min(1.0);
            let r = f1.solved as f64 / f1.subgoals as f64;
            assert!((2.0 * raw_p * r / (raw_p + r) - f1.f1_raw).abs() < 1e-12, "{}", e.id);
        }
    }
    assert!(failed > 0, "the noisy policy fails some episodes");
}
