//! Pairs built on the bundled worlds: every label re-proven from the pair line alone.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::sync::OnceLock;
use worldsmith_core::episode::{Episode, Verdict};
use worldsmith_core::prm::{ErrorType, Judge, PairLine, PairSource};
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_prm::{BuildConfig, PrmSummary, TaskInput, build};
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, rollout};
use worldsmith_synth::{SynthConfig, synthesize};

struct Fixture {
    pairs: Vec<(World, TaskLine)>,
    oracle: Vec<(Episode, Verdict)>,
    noisy: Vec<(Episode, Verdict)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let worlds: Vec<World> =
            worldsmith_worlds::default_names().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect();
        let tasks = synthesize(&worlds, &SynthConfig { seed: 3, tasks_per_world: 10, ..SynthConfig::default() }).tasks;
        let pairs: Vec<(World, TaskLine)> = tasks
            .into_iter()
            .map(|t| (worlds.iter().find(|w| Some(w.name()) == t.world.as_deref()).unwrap().clone(), t))
            .collect();
        let judged = |episodes: Vec<Episode>| -> Vec<(Episode, Verdict)> {
            episodes
                .into_iter()
                .map(|e| {
                    let w = &pairs.iter().find(|(w, _)| w.name() == e.world).unwrap().0;
                    let v = worldsmith_verify::verify(&e, w);
                    (e, v)
                })
                .collect()
        };
        let oracle = judged(rollout(&pairs, &RolloutConfig::default()).0);
        let noisy_config = RolloutConfig {
            policy: Policy::Noisy(Noise { mistake_rate: 0.4, recovery_rate: 0.5 }),
            trials: 3,
            seed: 9,
            ..RolloutConfig::default()
        };
        let noisy = judged(rollout(&pairs, &noisy_config).0);
        Fixture { pairs, oracle, noisy }
    })
}

fn inputs(f: &Fixture) -> Vec<TaskInput<'_>> {
    f.pairs
        .iter()
        .zip(&f.oracle)
        .map(|((world, task), (oracle, verdict))| TaskInput {
            world,
            task,
            oracle,
            oracle_success: verdict.success,
            failed: f.noisy.iter().filter(|(e, v)| e.task.id == task.id && !v.success).map(|(e, _)| e).collect(),
        })
        .collect()
}

fn built() -> &'static (Vec<PairLine>, PrmSummary) {
    static B: OnceLock<(Vec<PairLine>, PrmSummary)> = OnceLock::new();
    B.get_or_init(|| build(&inputs(fixture()), &BuildConfig { seed: 1, per_task: 0 }))
}

#[test]
fn pairs_of_both_sources_and_every_kind_of_mistake_are_built() {
    let (pairs, summary) = built();
    println!("{}", serde_json::to_string_pretty(summary).unwrap());
    assert_eq!(summary.pairs, pairs.len());
    assert!(summary.by_source.get(&PairSource::Offline).copied().unwrap_or(0) > 100, "{summary:?}");
    assert!(summary.by_source.get(&PairSource::Online).copied().unwrap_or(0) > 5, "{summary:?}");
    for t in [
        ErrorType::WrongTool,
        ErrorType::WrongArgumentValue,
        ErrorType::MissingArgument,
        ErrorType::RepeatedCall,
        ErrorType::PrematureAnswer,
        ErrorType::WrongAnswer,
        ErrorType::UnconfirmedWrite,
    ] {
        assert!(summary.kept.get(t) > 0, "no {t} pair: {summary:?}");
    }
    // Ids are unique; every judge agrees on every kept pair.
    let ids: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), pairs.len());
    assert!(pairs.iter().all(|p| p.judges.iter().all(|j| j.agrees)));
    assert!(pairs.iter().all(|p| p.judges.iter().any(|j| j.judge == Judge::Execution)));
}

#[test]
fn building_is_deterministic_and_the_cap_keeps_every_kind() {
    let f = fixture();
    let a = build(&inputs(f), &BuildConfig { seed: 1, per_task: 4 });
    let b = build(&inputs(f), &BuildConfig { seed: 1, per_task: 4 });
    assert_eq!(a.0, b.0);
    let offline_per_task = a.0.iter().filter(|p| p.source == PairSource::Offline).fold(
        std::collections::BTreeMap::<&str, usize>::new(),
        |mut m, p| {
            *m.entry(p.task.as_str()).or_default() += 1;
            m
        },
    );
    assert!(offline_per_task.values().all(|n| *n <= 4), "{offline_per_task:?}");
    assert_eq!(a.1.capped + a.0.iter().filter(|p| p.source == PairSource::Offline).count(), a.1.proven.total());
}
