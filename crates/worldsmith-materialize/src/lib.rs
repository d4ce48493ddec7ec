//! Materialization: each discovered domain becomes an executable world, deterministically.
//!
//! 1. [`infer`]: collections from resource paths (`/pets/{petId}` -> `pets` keyed by
//!    `petId`) or function names, fields from response schemas and body parameters,
//!    foreign keys from id-like names, and each tool classified (HTTP method, else the verb
//!    of its name) into a declarative operation: get, list, create, update, delete, or an
//!    update that records an action that fits no CRUD verb.
//! 2. [`data`]: seeded, schema-valid records whose foreign keys point at existing keys, with
//!    values chosen by field name, format and enum.
//! 3. Self-check (private module `self_check`): every tool is called on arguments drawn
//!    from the generated state; a write must change the digest, a read must not. A world is
//!    kept when at least [`MaterializeConfig::pass_rate`] of its tools pass; the failing
//!    ones are left out, the passing ones carry their arguments as `example`, and the world
//!    must then pass `world check`.
//! 4. [`refine`] (optional): a chat model writes Starlark for the tools that failed.
//!
//! Assembly (private module `assembly`) runs these steps for one domain and writes the
//! world's files, its `world.json` as the engine's typed manifest; [`report`] holds what
//! comes out besides the worlds (per-domain reports, the summary with its counted
//! reasons). The output is files in memory ([`GeneratedWorld::files`]); the caller writes
//! them.

mod assembly;
pub mod data;
pub mod infer;
pub mod refine;
pub mod report;
mod round_trip;
pub mod script;
mod self_check;
mod vocabulary;

pub use report::{
    DataQuality, GeneratedWorld, ImplementationKind, MaterializeSummary, Operation, Rejection, RoundTrip,
    RoundTripResult, ToolFailure, ToolResult, WorldReport,
};

use rayon::prelude::*;
use refine::Refiner;
use std::collections::BTreeMap;
use worldsmith_core::tool::ToolSpec;
use worldsmith_graph::Domain;

/// How worlds are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaterializeConfig {
    /// Records per collection.
    pub records: usize,
    /// The data seed.
    pub seed: u64,
    /// Domains with fewer tools are skipped.
    pub min_tools: usize,
    /// The share of tools that must pass the self-check for the world to be kept.
    pub pass_rate: f64,
}

impl Default for MaterializeConfig {
    fn default() -> MaterializeConfig {
        MaterializeConfig { records: 20, seed: 0, min_tools: 3, pass_rate: 0.9 }
    }
}

/// Materializes every domain (in parallel; the output follows domain order).
///
/// With a [`Refiner`], tools that fail the self-check are given to a model to implement in
/// Starlark (see [`refine`]).
/// `progress` is called with the number of domains done, now and then.
#[must_use]
pub fn materialize(
    tools: &[ToolSpec],
    domains: &[Domain],
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<GeneratedWorld>, Vec<WorldReport>, MaterializeSummary) {
    let index: BTreeMap<&str, usize> = tools.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Option<assembly::Built>> = domains
        .par_iter()
        .map(|d| {
            let members: Vec<usize> = d.tools.iter().filter_map(|id| index.get(id.as_str()).copied()).collect();
            let outcome =
                (members.len() >= config.min_tools).then(|| assembly::build(tools, d, &members, config, refiner));
            let count = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if count.is_multiple_of(16) {
                progress(count);
            }
            outcome
        })
        .collect();
    let mut summary = MaterializeSummary { domains: domains.len(), ..MaterializeSummary::default() };
    let mut worlds = Vec::new();
    let mut reports = Vec::new();
    for outcome in outcomes {
        let Some(built) = outcome else {
            summary.skipped_small += 1;
            continue;
        };
        summary.count(&built.report, built.rejection, &built.failures);
        worlds.extend(built.world);
        reports.push(built.report);
    }
    (worlds, reports, summary)
}
