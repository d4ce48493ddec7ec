//! Episode and verification throughput on synthesized tasks of the bundled worlds. Run on
//! one core: `taskset -c 0 cargo bench -p worldsmith-rollout --bench episodes`.

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

criterion_group!(benches, episodes);
criterion_main!(benches);
