//! `worldsmith graph`: domains of a tool pool, written as `DIR/domains.jsonl`,
//! `DIR/summary.json` and a chart of their sizes (`DIR/domain_sizes.svg`), with a table on
//! stderr.

use super::Outcome;
use crate::cli::{EmbedderName, GraphArgs, NeighbourSearch};
use anyhow::{Result, bail};
use worldsmith_graph::GraphConfig;
use worldsmith_graph::community::CommunityConfig;
use worldsmith_graph::knn::DenseMethod;
use worldsmith_graph::leftovers::Leftovers;
use worldsmith_pipeline::stages::{Embedder, graph_files};
use worldsmith_pipeline::tables::graph_table as table;

pub fn graph(args: &GraphArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!("--threshold must be between 0 and 1, not {}", args.threshold);
    }
    if args.max_tokens < 3 {
        bail!("--max-tokens must be at least 3 (the two special tokens and one word), not {}", args.max_tokens);
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
        leftovers: if args.drop_leftovers { Leftovers::Drop } else { Leftovers::Place },
    };
    let embedder = match args.embedder {
        EmbedderName::Tfidf => Embedder::TfIdf,
        EmbedderName::Minilm => Embedder::MiniLm {
            dir: args.model_dir.clone(),
            max_tokens: args.max_tokens,
            search: match args.neighbour_search {
                NeighbourSearch::Hnsw => DenseMethod::Hnsw,
                NeighbourSearch::Exact => DenseMethod::Exact,
            },
        },
    };
    let (summary, errors) =
        graph_files(&args.tools, &args.out, &config, &embedder, &args.labels, &super::stages::Stderr)?;
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
