//! Episode, verification and reward throughput on synthesized tasks of the bundled worlds.
//! Run on one core: `taskset -c 0 cargo bench -p worldsmith-rollout --bench episodes`; the
//! `rewards/score_all_cores` row needs both: `cargo bench -p worldsmith-rollout --bench
//! episodes -- rewards`.

// Benchmarks may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

// The allocator the worldsmith binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::World;
use worldsmith_rollout::scripted::Noise;
use worldsmith_rollout::{Policy, RolloutConfig, episode};
use worldsmith_synth::{SynthConfig, synthesize};
use worldsmith_verify::Evidence;

fn tasks() -> Vec<(World, TaskLine)> {
    let worlds: Vec<World> =
        worldsmith_worlds::default_names().map(|n| worldsmith_worlds::load(n).unwrap().unwrap()).collect();
    let out = synthesize(&worlds, &SynthConfig { seed: 0, tasks_per_world: 25, ..SynthConfig::default() });
    out.tasks
        .into_iter()
        .map(|t| (worlds.iter().find(|w| Some(w.name()) == t.world.as_deref()).unwrap().clone(), t))
        .collect()
}

fn episodes(c: &mut Criterion) {
    let tasks = tasks();
    let mut group = c.benchmark_group("episodes");
    group.throughput(Throughput::Elements(tasks.len() as u64));
    for (name, policy) in [("oracle", Policy::Oracle), ("noisy", Policy::Noisy(Noise::default()))] {
        let config = RolloutConfig { policy, ..RolloutConfig::default() };
        group.bench_function(name, |b| {
            b.iter(|| {
                for (w, t) in &tasks {
                    black_box(episode(w, t, 0, &config));
                }
            });
        });
    }
    let config = RolloutConfig { policy: Policy::Noisy(Noise::default()), ..RolloutConfig::default() };
    let noisy: Vec<_> = tasks.iter().map(|(w, t)| (w, episode(w, t, 0, &config))).collect();
    group.bench_function("verify_noisy", |b| {
        b.iter(|| {
            for (w, e) in &noisy {
                black_box(worldsmith_verify::verify(e, w));
            }
        });
    });
    group.finish();
}

/// Rewards of recorded episodes against their arenas (`verify::score`: the calls run again
/// on a fork, the sub-goals checked), one at a time on one core and all at once on every
/// core (`score_all`, rayon).
fn rewards(c: &mut Criterion) {
    use worldsmith_rollout::arena::{ArenaConfig, arenas};
    let tasks = tasks();
    let config = RolloutConfig { policy: Policy::Noisy(Noise::default()), trials: 4, ..RolloutConfig::default() };
    let pairs: Vec<(World, worldsmith_core::arena::Arena)> = tasks
        .iter()
        .flat_map(|(w, t)| arenas(w, t, &ArenaConfig::default()).into_iter().map(|a| (w.clone(), a)))
        .collect();
    let (episodes, _) = worldsmith_rollout::rollout_arenas(&pairs, &config, &config.policy, &|_| {});
    let jobs: Vec<(&worldsmith_core::arena::Arena, &worldsmith_core::episode::Episode, &World)> = episodes
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (w, a) = &pairs[i / 4];
            (a, e, w)
        })
        .collect();
    let mut group = c.benchmark_group("rewards");
    group.throughput(Throughput::Elements(jobs.len() as u64));
    group.bench_function("score_one_core", |b| {
        b.iter(|| {
            for (a, e, w) in &jobs {
                black_box(worldsmith_verify::score(a, e, w, Evidence::Replay));
            }
        });
    });
    group.bench_function("score_all_cores", |b| {
        b.iter(|| black_box(worldsmith_verify::score_all(&jobs, Evidence::Replay)));
    });
    group.bench_function("recorded_one_core", |b| {
        b.iter(|| {
            for (a, e, w) in &jobs {
                black_box(worldsmith_verify::score(a, e, w, Evidence::Recorded));
            }
        });
    });
    group.bench_function("recorded_all_cores", |b| {
        b.iter(|| black_box(worldsmith_verify::score_all(&jobs, Evidence::Recorded)));
    });
    group.finish();
}

criterion_group!(benches, episodes, rewards);
criterion_main!(benches);
