//! `grpo simulate`: ASTRA's adaptive batch filling run against real arenas with a scripted
//! policy, beside a filler that takes every group, so the rollouts it spends and the
//! zero-advantage groups it avoids can be measured.
//!
//! Groups come from one deterministic stream: the k-th group is `group` rollouts of arena
//! `order[k mod n]` (the arenas in a seeded order) with the rollout seed `seed + k / n`, so a
//! second pass over the arenas draws other episodes. Both fillers read the same stream from
//! its start, so they meet the same groups.

use crate::stages::StageReport;
use crate::worlds::WorldCache;
use anyhow::{Result, bail};
use serde::Serialize;
use std::path::Path;
use worldsmith_core::arena::Arena;
use worldsmith_core::rng::SplitMix64;
use worldsmith_engine::World;
use worldsmith_grpo::{BatchFiller, Group};
use worldsmith_rollout::{AgentFactory, RolloutConfig};

/// The simulation's settings.
#[derive(Debug, Clone)]
pub struct SimulateConfig {
    /// The policy and rollout settings (its `seed` is the stream's base seed; `trials` is
    /// ignored: a group has `group` rollouts).
    pub rollout: RolloutConfig,
    /// Rollouts per group.
    pub group: u32,
    /// Groups per batch.
    pub batch: usize,
    /// Batches to fill.
    pub steps: usize,
    /// A group is valid when the standard deviation of its rewards exceeds this.
    pub delta: f64,
}

/// One filled batch of the adaptive filler.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StepRow {
    /// The batch's number, from 1.
    pub step: usize,
    /// Groups rolled out while filling it.
    pub rolled: usize,
    /// Of those, valid.
    pub valid: usize,
    /// Valid groups left in the buffer after it.
    pub buffered: usize,
    /// Groups in the batch.
    pub used: usize,
    /// Rollouts spent while filling it.
    pub rollouts: usize,
}

/// What the simulation measured (`grpo_summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SimulateReport {
    /// Rollouts per group.
    pub group: u32,
    /// Groups per batch.
    pub batch: usize,
    /// The validity threshold.
    pub delta: f64,
    /// The adaptive filler, batch by batch.
    pub steps: Vec<StepRow>,
    /// Rollouts the adaptive filler spent per filled batch, on average.
    pub adaptive_rollouts_per_batch: f64,
    /// Rollouts the every-group filler spends per batch (`group * batch`).
    pub every_group_rollouts_per_batch: f64,
    /// Share of the every-group filler's batched groups that are invalid: their rewards do
    /// not vary by more than delta (at delta 0: their advantages are all zero, rollouts
    /// that teach nothing).
    pub every_group_zero_advantage: f64,
    /// Share of all groups drawn that are invalid (as above).
    pub zero_advantage: f64,
    /// Batches the adaptive filler could not fill within its budget of groups.
    pub unfilled: usize,
}

/// Runs the simulation over the arenas of `arenas` with the agents `agents` makes.
///
/// # Errors
/// The arena file cannot be read, holds no usable arena, or the settings are empty.
pub fn simulate(
    arenas: &Path,
    config: &SimulateConfig,
    agents: &dyn AgentFactory,
    worlds: &mut WorldCache,
) -> Result<StageReport<SimulateReport>> {
    if config.group == 0 || config.batch == 0 || config.steps == 0 {
        bail!("--group, --batch and --steps must be at least 1");
    }
    let (pairs, errors) = crate::stages::arenas_with_worlds(arenas, worlds)?;
    if pairs.is_empty() {
        bail!("{} holds no arena that can run", arenas.display());
    }
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut rng = SplitMix64::for_stream(config.rollout.seed, "grpo/order");
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut stream = Stream { pairs: &pairs, order, config, agents, drawn: Vec::new() };
    // The adaptive filler, with a budget of groups per batch so a policy that never varies
    // cannot loop forever.
    let budget = config.batch * 50;
    let mut filler = BatchFiller::new(config.batch, config.delta);
    let mut next = 0;
    let mut steps = Vec::new();
    let mut unfilled = 0;
    for step in 1..=config.steps {
        let (mut rolled, mut valid) = (0, 0);
        let mut filled = None;
        while filled.is_none() && rolled < budget {
            let n = filler.to_roll().clamp(1, budget - rolled);
            let groups = stream.take(next, n);
            next += n;
            rolled += n;
            let offered = filler.offer(groups);
            valid += offered.valid;
            filled = offered.batch;
        }
        if filled.is_none() {
            unfilled += 1;
        }
        steps.push(StepRow {
            step,
            rolled,
            valid,
            buffered: filler.buffered(),
            used: filled.map_or(0, |b| b.len()),
            rollouts: rolled * config.group as usize,
        });
    }
    // The every-group filler: batch after batch from the start of the same stream.
    let every = stream.take(0, config.batch * config.steps);
    let zero = |gs: &[Group]| gs.iter().filter(|g| !g.varies(config.delta)).count();
    let every_zero = zero(&every) as f64 / every.len().max(1) as f64;
    let all = stream.take(0, next.max(every.len()));
    let report = SimulateReport {
        group: config.group,
        batch: config.batch,
        delta: config.delta,
        adaptive_rollouts_per_batch: steps.iter().map(|s| s.rollouts).sum::<usize>() as f64 / steps.len() as f64,
        every_group_rollouts_per_batch: (config.group as usize * config.batch) as f64,
        every_group_zero_advantage: every_zero,
        zero_advantage: zero(&all) as f64 / all.len().max(1) as f64,
        unfilled,
        steps,
    };
    Ok(StageReport { stats: report, errors })
}

/// The deterministic stream of groups, drawn once each.
struct Stream<'a> {
    pairs: &'a [(World, Arena)],
    order: Vec<usize>,
    config: &'a SimulateConfig,
    agents: &'a dyn AgentFactory,
    drawn: Vec<Group>,
}

impl Stream<'_> {
    /// Groups `from..from + n` of the stream.
    fn take(&mut self, from: usize, n: usize) -> Vec<Group> {
        while self.drawn.len() < from + n {
            // Draw the rest of the current pass over the arenas in parallel.
            let k0 = self.drawn.len();
            let pass = k0 / self.order.len();
            let end = ((pass + 1) * self.order.len()).min(from + n);
            let jobs: Vec<(World, Arena)> =
                (k0..end).map(|k| self.pairs[self.order[k % self.order.len()]].clone()).collect();
            let config = RolloutConfig {
                trials: self.config.group,
                seed: self.config.rollout.seed + pass as u64,
                ..self.config.rollout.clone()
            };
            let (episodes, _) = worldsmith_rollout::rollout_arenas(&jobs, &config, self.agents, &|_| {});
            for (i, (world, arena)) in jobs.iter().enumerate() {
                let g = self.config.group as usize;
                let rewards = episodes[i * g..(i + 1) * g]
                    .iter()
                    .map(|e| {
                        // The episodes were rolled out just now: their recorded results are trusted.
                        let line = worldsmith_verify::score(arena, e, world, worldsmith_verify::Evidence::Recorded);
                        line.rewards.get(&arena.reward).map_or(0.0, worldsmith_core::episode::Reward::value)
                    })
                    .collect();
                self.drawn.push(Group::new(&arena.id, rewards));
            }
        }
        self.drawn[from..from + n].to_vec()
    }
}
