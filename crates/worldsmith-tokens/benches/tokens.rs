//! Tokens rendered, tokenized and masked per second on SFT lines with Qwen3's template.
//!
//! `WORLDSMITH_SFT` names the SFT lines (default: the test fixture, one line per bundled
//! world); `WORLDSMITH_TOKENIZER` the tokenizer directory (default `.cache/tokenizers/qwen3`,
//! from `scripts/fetch-tokenizers.sh`). Each iteration loads the tokenizer afresh (empty
//! prefix cache and word memo, loading not timed) and encodes every line in parallel, as
//! `export sft` does.
#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs, reason = "benchmark")]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::path::PathBuf;
use worldsmith_tokens::{ChatTokenizer, Conversation, Options};

// As in the `worldsmith` binary, which `export sft` runs in.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Line = (Vec<serde_json::Value>, Vec<serde_json::Value>, Vec<bool>);

fn lines() -> Vec<Line> {
    let text = match std::env::var("WORLDSMITH_SFT") {
        Ok(path) => std::fs::read_to_string(path).unwrap(),
        Err(_) => include_str!("../tests/it/data/sft.jsonl").to_owned(),
    };
    text.lines()
        .map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).unwrap();
            let messages = line["messages"].as_array().unwrap().clone();
            let tools = line["tools"].as_array().unwrap().clone();
            let trained =
                messages.iter().map(|m| m.get("weight").and_then(serde_json::Value::as_u64) == Some(1)).collect();
            (messages, tools, trained)
        })
        .collect()
}

fn encode_all(tokenizer: &ChatTokenizer, lines: &[Line]) -> usize {
    lines
        .par_iter()
        .map(|(messages, tools, trained)| {
            tokenizer.encode(&Conversation { messages, tools, trained }).unwrap().input_ids.len()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let dir = std::env::var("WORLDSMITH_TOKENIZER").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/tokenizers/qwen3"),
        PathBuf::from,
    );
    if !dir.join("tokenizer.json").exists() {
        eprintln!("skipping: no tokenizer in {} (run scripts/fetch-tokenizers.sh)", dir.display());
        return;
    }
    let lines = lines();
    let tokenizer = ChatTokenizer::load(&dir, &Options::default()).unwrap();
    let tokens = encode_all(&tokenizer, &lines);
    eprintln!("{} lines, {tokens} tokens, {} threads", lines.len(), rayon::current_num_threads());
    let mut group = c.benchmark_group("tokens");
    group.sample_size(10);
    group.throughput(Throughput::Elements(tokens as u64));
    // A tokenizer loaded afresh for each iteration (outside the timing, as the baseline
    // loads its tokenizer once): every prefix and word new.
    group.bench_function("encode_cold_cache", |b| {
        b.iter_batched(
            || ChatTokenizer::load(&dir, &Options::default()).unwrap(),
            |tokenizer| encode_all(&tokenizer, &lines),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("encode_warm_cache", |b| b.iter(|| encode_all(&tokenizer, &lines)));
    // The parts: one plain rendering of each line, and tokenizing each whole rendering.
    let texts: Vec<String> = lines
        .iter()
        .map(|(messages, tools, trained)| tokenizer.render(&Conversation { messages, tools, trained }).unwrap())
        .collect();
    group.bench_function("render_once", |b| {
        b.iter(|| {
            lines
                .par_iter()
                .map(|(messages, tools, trained)| {
                    tokenizer.render(&Conversation { messages, tools, trained }).unwrap().len()
                })
                .sum::<usize>()
        });
    });
    group.bench_function("tokenize_whole", |b| {
        b.iter(|| texts.par_iter().map(|t| tokenizer.tokenize_plain(t).unwrap().len()).sum::<usize>());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
