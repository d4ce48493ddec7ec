//! Integration tests of `worldsmith-tokens` on the real tokenizers of
//! `scripts/fetch-tokenizers.sh` (skipped with a message when they are not there; under
//! `CI=true` they must be) and on small hand-written tokenizer directories.
#![allow(clippy::unwrap_used, clippy::print_stderr, reason = "tests")]

mod bad;
mod real;
mod words;

use std::path::PathBuf;
use worldsmith_tokens::{ChatTokenizer, Options};

/// The SFT lines the tests encode: one per bundled world from the default run, with and
/// without weight-0 assistant messages.
fn lines() -> Vec<serde_json::Value> {
    include_str!("data/sft.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A fetched tokenizer directory, or `None` (with a message) when it is not there; under CI
/// it must be.
fn real(name: &str) -> Option<ChatTokenizer> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/tokenizers").join(name);
    if !dir.join("tokenizer.json").exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "no tokenizer in {} under CI (scripts/fetch-tokenizers.sh)",
            dir.display()
        );
        eprintln!("skipping: no tokenizer in {} (run scripts/fetch-tokenizers.sh)", dir.display());
        return None;
    }
    Some(ChatTokenizer::load(&dir, &Options::default()).unwrap())
}

/// The messages, tools and trained flags of an SFT line.
fn parts(line: &serde_json::Value) -> (Vec<serde_json::Value>, Vec<serde_json::Value>, Vec<bool>) {
    let messages = line["messages"].as_array().unwrap().clone();
    let tools = line["tools"].as_array().unwrap().clone();
    let trained = messages.iter().map(|m| m.get("weight").and_then(serde_json::Value::as_u64) == Some(1)).collect();
    (messages, tools, trained)
}
