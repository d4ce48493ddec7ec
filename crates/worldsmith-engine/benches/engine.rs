//! Engine benchmarks on the `bench/world` world (3,200 records). Run on one core:
//! `taskset -c 0 cargo bench -p worldsmith-engine --bench engine`.
//! `bench/compare.sh` runs these and the Python baseline in one go and prints the ratios.

// Benchmarks may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

// The allocator the worldsmith binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use std::path::Path;
use worldsmith_core::task::TaskLine;
use worldsmith_engine::{World, replay};

fn load() -> (World, TaskLine) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/world");
    let world = World::load_dir(&root).unwrap_or_else(|e| panic!("{e}"));
    let line = std::fs::read_to_string(root.join("task.jsonl")).expect("bench task");
    let task: TaskLine = serde_json::from_str(line.lines().next().expect("one line")).expect("a task line");
    assert_eq!(replay(&world, &task).passed, Some(true), "the bench task must pass");
    (world, task)
}

fn engine(c: &mut Criterion) {
    let (world, task) = load();
    let base = world.session();

    c.bench_function("fork", |b| b.iter(|| black_box(base.fork())));

    let other = base.fork();
    c.bench_function("digest_compare", |b| {
        b.iter(|| black_box(black_box(&base).digest() == black_box(&other).digest()));
    });

    let mut session = base.fork();
    let args = json!({"customer_id": "C0653"});
    c.bench_function("call/declarative_read", |b| b.iter(|| black_box(session.execute("get_customer", &args).is_ok())));

    // A write on a fresh fork each iteration; the session is returned so that dropping it
    // is not timed.
    let mut bench_write = |name: &str, tool: &str, args: serde_json::Value| {
        c.bench_function(name, |b| {
            b.iter_batched(
                || base.fork(),
                |mut s| {
                    black_box(s.execute(tool, &args).is_ok());
                    s
                },
                BatchSize::SmallInput,
            );
        });
    };
    bench_write("call/declarative_write", "set_email", json!({"customer_id": "C0653", "email": "x@example.com"}));
    bench_write("call/starlark_write", "cancel_order", json!({"order_id": "O00005"}));

    c.bench_function("replay_verify_5_calls", |b| b.iter(|| black_box(replay(&world, &task).passed)));
}

criterion_group!(benches, engine);
criterion_main!(benches);
