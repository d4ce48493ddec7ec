//! `worldsmith graph`: domains of a tool pool, written as `DIR/domains.jsonl`,
//! `DIR/summary.json` and a chart of their sizes (`DIR/domain_sizes.svg`), with a table on
//! stderr.

use super::Outcome;
use crate::cli::{EmbedderName, GraphArgs};
use crate::output::{json_lines, pretty_json, read_jsonl_map, write_atomic};
use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use worldsmith_core::tool::ToolSpec;
use worldsmith_graph::community::CommunityConfig;
use worldsmith_graph::{GraphConfig, GraphSummary, Similarity, ToolProfile, agreement, discover, label_of};

/// What `graph` compares tools by.
pub enum Embedder {
    /// TF-IDF vectors (offline).
    TfIdf,
    /// MiniLM sentence embeddings, the model in this directory (build feature `neural`).
    MiniLm(PathBuf),
}

pub fn graph(args: &GraphArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("--threshold must be between 0 and 1, not {}", args.threshold);
    }
    if args.min_size > args.max_size {
        bail!("--min-size ({}) is larger than --max-size ({})", args.min_size, args.max_size);
    }
    let started = std::time::Instant::now();
    let config = GraphConfig {
        threshold: args.threshold,
        neighbours: args.neighbours,
        max_df: args.max_df,
        communities: CommunityConfig {
            resolution: args.resolution,
            seed: args.seed,
            min_size: args.min_size,
            max_size: args.max_size,
        },
    };
    let embedder = match args.embedder {
        EmbedderName::Tfidf => Embedder::TfIdf,
        EmbedderName::Minilm => Embedder::MiniLm(args.model_dir.clone()),
    };
    let (summary, errors) = graph_files(&args.tools, &args.out, &config, &embedder, &args.labels)?;
    for e in errors.iter().take(20) {
        eprintln!("warning: {e}");
    }
    eprint!("{}", table(&summary));
    eprintln!(
        "wrote {}, summary.json and domain_sizes.svg in {:.1} s",
        args.out.join("domains.jsonl").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(if errors.is_empty() { Outcome::Ok } else { Outcome::Problems })
}

/// Discovers the domains of the pool in `tools` and writes `out/domains.jsonl` and
/// `out/summary.json` (with NMI/ARI for each of `labels`); returns the summary and a
/// message per skipped input line.
pub fn graph_files(
    tools: &Path,
    out: &Path,
    config: &GraphConfig,
    embedder: &Embedder,
    labels: &[String],
) -> Result<(GraphSummary, Vec<String>)> {
    let (lines, mut errors) = read_jsonl_map(tools, "tool", |t: ToolSpec| ToolProfile::of(&t))?;
    let mut seen = BTreeSet::new();
    let mut pool = Vec::with_capacity(lines.len());
    for t in lines {
        if seen.insert(t.id.clone()) {
            pool.push(t);
        } else {
            errors.push(format!("tool id `{}` appears twice; the second is skipped", t.id));
        }
    }
    if let Some(field) = labels.iter().find(|f| pool.first().is_some_and(|t| label_of(&t.provenance, f).is_none())) {
        bail!("unknown label field `{field}`\nhint: use provider, service, category, format, source or method");
    }
    let dense = match embedder {
        Embedder::TfIdf => None,
        Embedder::MiniLm(dir) => Some(minilm_vectors(dir, &pool)?),
    };
    let similarity = match &dense {
        None => Similarity::TfIdf,
        Some(vectors) => Similarity::Dense { name: "minilm", vectors },
    };
    let bar = super::stages::progress(pool.len(), "neighbours");
    let (domains, mut summary) = discover(&pool, config, similarity, &|done| bar.set_position(done as u64));
    bar.finish_and_clear();
    for field in labels {
        if let Some(a) = agreement(&pool, &domains, field) {
            summary.labels.insert(field.clone(), a);
        }
    }
    write_atomic(&out.join("domains.jsonl"), &json_lines(&domains)?)?;
    write_atomic(&out.join("summary.json"), &pretty_json(&summary)?)?;
    let sizes: Vec<usize> = domains.iter().map(|d| d.tools.len()).collect();
    write_atomic(&out.join("domain_sizes.svg"), crate::charts::domain_sizes_svg(&sizes)?.as_bytes())?;
    Ok((summary, errors))
}

/// One MiniLM vector per tool of the pool, from its text.
#[cfg(feature = "neural")]
fn minilm_vectors(dir: &Path, pool: &[ToolProfile]) -> Result<Vec<Vec<f32>>> {
    let model = worldsmith_graph::neural::NeuralEmbedder::load(dir)?;
    let texts: Vec<&str> = pool.iter().map(|t| t.text.as_str()).collect();
    let bar = super::stages::progress(texts.len(), "embedding");
    let vectors = model.embed(&texts, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    Ok(vectors)
}

#[cfg(not(feature = "neural"))]
fn minilm_vectors(_dir: &Path, _pool: &[ToolProfile]) -> Result<Vec<Vec<f32>>> {
    bail!(
        "--embedder minilm needs the `neural` build feature\nhint: cargo build --release -p worldsmith --features neural"
    )
}

/// The summary people read.
pub fn table(s: &GraphSummary) -> String {
    let mut t = String::new();
    let c = &s.communities;
    let _ = writeln!(t, "tools                {:>8} ({} with a {} vector)", s.tools, s.embedded, s.embedder);
    let _ = writeln!(
        t,
        "similarity edges     {:>8} (cosine >= {}, {} nearest)",
        s.similarity_edges, s.threshold, s.neighbours
    );
    let _ = writeln!(t, "communities found    {:>8} (resolution {}, seed {})", c.found, s.resolution, s.seed);
    let _ = writeln!(t, "  isolated tools     {:>8}", c.isolated);
    let _ = writeln!(t, "  split              {:>8} ({} still oversized)", c.split, c.oversized);
    let _ = writeln!(t, "  merged small       {:>8}", c.merged);
    let _ = writeln!(t, "  dropped small      {:>8} ({} tools)", c.dropped, c.dropped_tools);
    let _ = writeln!(
        t,
        "domains              {:>8} ({} tools; size min {}, median {}, p90 {}, max {})",
        s.domains, s.tools_in_domains, s.size.min, s.size.median, s.size.p90, s.size.max
    );
    let _ = writeln!(t, "modularity           {:>8.3}", s.modularity);
    let _ = writeln!(t, "data-flow edges      {:>8}", s.data_flow_edges);
    for (field, a) in &s.labels {
        let _ = writeln!(t, "agreement with {field:<8} NMI {:.3}, ARI {:.3} ({} classes)", a.nmi, a.ari, a.classes);
    }
    t
}
