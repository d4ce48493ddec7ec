//! `worldsmith ingest`: API documents into `tools.jsonl`, with a progress bar and a summary
//! table on stderr.

use super::Outcome;
use crate::cli::IngestArgs;
use crate::output::{pretty_json, write_atomic, write_atomic_with};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use worldsmith_ingest::{IngestConfig, IngestError, IngestSummary, Progress, ingest_paths};

/// `worldsmith ingest`: the documents under the given paths into a tool pool, with a
/// progress bar and a summary table on stderr.
pub fn ingest(args: &IngestArgs) -> Result<Outcome> {
    let started = std::time::Instant::now();
    let config = IngestConfig {
        max_ref_depth: args.max_ref_depth,
        max_schema_nodes: args.max_schema_nodes,
        max_params: args.max_params,
        max_description: args.max_description,
        keep_deprecated: args.keep_deprecated,
        ..IngestConfig::default()
    };
    // Hidden when stderr is not a terminal (indicatif's default target).
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("ingest [{bar:40}] {pos}/{len} documents, {msg} tools, eta {eta}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let progress = |p: Progress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(p.tools.to_string());
    };
    let summary = write_atomic_with(&args.out, |out| {
        ingest_paths(&args.paths, &config, out, &progress).map_err(|e| match e {
            IngestError::Input { .. } => {
                anyhow::anyhow!("{e}\nhint: give API documents, or directories that hold them")
            }
            e => anyhow::Error::from(e).context(format!("cannot write {}", args.out.display())),
        })
    })?;
    bar.finish_and_clear();
    if let Some(path) = &args.summary {
        write_atomic(path, &pretty_json(&summary)?)?;
    }
    for skipped in summary.skipped.iter().take(20) {
        eprintln!("warning: skipped {}: {}", skipped.source, skipped.message);
    }
    if summary.skipped.len() > 20 {
        eprintln!("warning: ... and {} more skipped documents (--summary lists them all)", summary.skipped.len() - 20);
    }
    eprint!("{}", table(&summary));
    eprintln!("wrote {} in {:.1} s", args.out.display(), started.elapsed().as_secs_f64());
    Ok(if summary.skipped.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// The summary people read (no timings: snapshot tests compare it).
pub fn table(s: &IngestSummary) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "documents              {:>8}", s.documents_imported());
    for (format, n) in &s.documents {
        let _ = writeln!(t, "  {format:<20} {n:>8}");
    }
    let _ = writeln!(t, "skipped documents      {:>8}", s.documents_skipped());
    for (reason, n) in &s.skipped_documents {
        let _ = writeln!(t, "  {reason:<20} {n:>8}");
    }
    if s.ignored_files > 0 {
        let _ = writeln!(t, "ignored files          {:>8} (not .json, .yaml, .yml, .jsonl, .ndjson)", s.ignored_files);
    }
    let _ = writeln!(t, "operations             {:>8}", s.operations);
    let _ = writeln!(t, "filtered               {:>8}", s.tools_filtered());
    for (reason, n) in s.filtered.named() {
        let _ = writeln!(t, "  {reason:<20} {n:>8}");
    }
    let _ = writeln!(t, "tools written          {:>8} ({} renamed to stay unique)", s.tools_written, s.renamed);
    t
}
