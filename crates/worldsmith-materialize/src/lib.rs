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
//! them, a batch of domains at a time with [`materialize_each`], so memory is bounded by a
//! batch, not by the pool.

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
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// How many tools a batch of domains holds (at least one domain per batch): only one
    /// batch's tools and worlds are in memory at a time (see [`materialize_each`]). The
    /// output does not depend on it.
    pub batch_tools: usize,
}

impl Default for MaterializeConfig {
    fn default() -> MaterializeConfig {
        MaterializeConfig { records: 20, seed: 0, min_tools: 3, pass_rate: 0.9, batch_tools: 4096 }
    }
}

/// Materializes every domain (in parallel; the output follows domain order), holding every
/// world in memory: [`materialize_each`] over a pool in memory.
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
    let index = pool_index(tools);
    let mut worlds = Vec::new();
    let mut reports = Vec::new();
    let summary = materialize_each(
        domains,
        config,
        refiner,
        |ids| -> Result<Vec<ToolSpec>, std::convert::Infallible> {
            let mut members: Vec<usize> = ids.iter().filter_map(|id| index.get(id).copied()).collect();
            members.sort_unstable();
            Ok(members.into_iter().map(|i| tools[i].clone()).collect())
        },
        |world, report| {
            worlds.extend(world);
            reports.push(report);
            Ok(())
        },
        progress,
    );
    let Ok(summary) = summary;
    (worlds, reports, summary)
}

/// Materializes the domains a batch at a time, so memory holds one batch's tools and worlds
/// rather than the whole pool's (a batch is as many domains, in order, as hold
/// [`MaterializeConfig::batch_tools`] tools). For each batch, `tools_of` is asked for the
/// tools of the batch's domains (by id; those of the pool, in pool order: when an id occurs
/// twice, its last tool), the batch's domains are built in parallel, and `keep` receives
/// each attempted domain's world (when it was kept) and report line, in domain order.
/// Domains with fewer than [`MaterializeConfig::min_tools`] known tools are counted, not
/// handed over. The output is the same for every batch size and thread count.
///
/// `progress` is called with the number of domains done, now and then.
///
/// # Errors
///
/// The first error of `tools_of` or `keep`; the domains after it are not built.
pub fn materialize_each<E, T, K>(
    domains: &[Domain],
    config: &MaterializeConfig,
    refiner: Option<&Refiner>,
    mut tools_of: T,
    mut keep: K,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<MaterializeSummary, E>
where
    T: FnMut(&BTreeSet<&str>) -> Result<Vec<ToolSpec>, E>,
    K: FnMut(Option<GeneratedWorld>, WorldReport) -> Result<(), E>,
{
    let done = AtomicUsize::new(0);
    let mut summary = MaterializeSummary { domains: domains.len(), ..MaterializeSummary::default() };
    for batch in batches(domains, config.batch_tools) {
        let ids: BTreeSet<&str> = batch.iter().flat_map(|d| d.tools.iter().map(String::as_str)).collect();
        let tools = tools_of(&ids)?;
        let index = pool_index(&tools);
        let outcomes: Vec<Option<assembly::Built>> = batch
            .par_iter()
            .map(|d| {
                let members: Vec<usize> = d.tools.iter().filter_map(|id| index.get(id.as_str()).copied()).collect();
                let outcome =
                    (members.len() >= config.min_tools).then(|| assembly::build(&tools, d, &members, config, refiner));
                let count = done.fetch_add(1, Ordering::Relaxed) + 1;
                if count.is_multiple_of(16) {
                    progress(count);
                }
                outcome
            })
            .collect();
        for outcome in outcomes {
            let Some(built) = outcome else {
                summary.skipped_small += 1;
                continue;
            };
            summary.count(&built.report, built.rejection, &built.failures);
            keep(built.world, built.report)?;
        }
    }
    Ok(summary)
}

/// The position of each tool id in `tools` (the last, when an id occurs twice).
fn pool_index(tools: &[ToolSpec]) -> BTreeMap<&str, usize> {
    tools.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect()
}

/// The domains cut, in order, into batches of at least `tools` tools (the last one may hold
/// fewer), each at least one domain.
fn batches(domains: &[Domain], tools: usize) -> Vec<&[Domain]> {
    let mut out = Vec::new();
    let (mut start, mut held) = (0, 0);
    for (i, d) in domains.iter().enumerate() {
        held += d.tools.len();
        if held >= tools {
            out.push(&domains[start..=i]);
            (start, held) = (i + 1, 0);
        }
    }
    if start < domains.len() {
        out.push(&domains[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_enough_tools_and_every_domain_once() {
        let domain = |n: usize| Domain {
            id: format!("dom-{n}"),
            name: String::new(),
            tools: (0..n).map(|i| i.to_string()).collect(),
            edges: Vec::new(),
            stats: worldsmith_graph::DomainStats::default(),
        };
        let domains: Vec<Domain> = [3, 1, 4, 1, 5].into_iter().map(domain).collect();
        let sizes = |tools| batches(&domains, tools).iter().map(|b| b.len()).collect::<Vec<_>>();
        assert_eq!(sizes(1), [1, 1, 1, 1, 1]);
        assert_eq!(sizes(4), [2, 1, 2]);
        assert_eq!(sizes(5), [3, 2]);
        assert_eq!(sizes(100), [5]);
        assert!(batches(&[], 4).is_empty());
    }
}
