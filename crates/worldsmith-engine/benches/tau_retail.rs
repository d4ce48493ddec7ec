//! The tau-bench retail world: loading it, and replaying + verifying all 500 gold tasks.
//! `bench/tau_retail.sh` runs this and the Python baseline in one go.
//! Needs the data (`WORLDSMITH_TAU_RETAIL_DATA`, else `../shared/taubench-retail`).

// Benchmarks may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

// The allocator the worldsmith binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use worldsmith_core::task::TaskLine;
use worldsmith_engine::{World, replay};

fn data_dir() -> PathBuf {
    std::env::var_os("WORLDSMITH_TAU_RETAIL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/taubench-retail"))
}

fn tau_retail(c: &mut Criterion) {
    let world_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../worlds/tau-retail");
    if !data_dir().join("users.json").is_file() {
        eprintln!("SKIPPED: no tau-bench retail data at {} (set WORLDSMITH_TAU_RETAIL_DATA)", data_dir().display());
        return;
    }
    let world = World::load_dir(&world_dir).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(data_dir().join("train.jsonl")).expect("train.jsonl");
    let tasks: Vec<TaskLine> = text.lines().map(|l| serde_json::from_str(l).expect("task line")).collect();
    assert!(tasks.iter().all(|t| replay(&world, t).passed == Some(true)));

    let mut group = c.benchmark_group("tau_retail");
    group.sample_size(10);
    group.bench_function("load_world_and_database", |b| b.iter(|| black_box(World::load_dir(&world_dir).is_ok())));
    group.bench_function("replay_verify_500_tasks", |b| {
        b.iter(|| tasks.iter().filter(|t| replay(&world, t).passed == Some(true)).count());
    });
    group.finish();
}

criterion_group!(benches, tau_retail);
criterion_main!(benches);
