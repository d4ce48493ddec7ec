//! The train/test split: by whole tasks or by whole worlds, seeded.
//!
//! Arenas are grouped by their task's id ([`SplitBy::Task`]: a whole task and its hops stay
//! together, so no question is trained on in one form and tested in another) or by world
//! ([`SplitBy::World`]: the test file holds worlds never trained on, an out-of-distribution
//! test). The groups' keys are sorted, shuffled by the seed (splitmix64, the stream
//! `split`), and the first `round(test_fraction * groups)` go to test. When there are two
//! groups or more, a fraction above 0 puts at least one group in test and a fraction below 1
//! leaves at least one in train; 0 puts every group in train, 1 every group in test, and a
//! single group goes to train unless the fraction is 1. The same arenas, settings and seed
//! give the same split, whatever the order of the lines.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::arena::Arena;
use worldsmith_core::rng::SplitMix64;

/// What a split keeps together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitBy {
    /// A task's arenas (the whole task and its hops).
    #[default]
    Task,
    /// A world's arenas.
    World,
}

/// A file of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// `train.parquet`.
    Train,
    /// `test.parquet`.
    Test,
}

impl Split {
    /// `train` or `test`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// How to split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitConfig {
    /// What stays together.
    pub by: SplitBy,
    /// The fraction of groups in test, from 0 to 1.
    pub test_fraction: f64,
    /// The shuffle's seed.
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> SplitConfig {
        SplitConfig { by: SplitBy::Task, test_fraction: 0.1, seed: 0 }
    }
}

/// The key of the group an arena belongs to: its task's id or its world.
#[must_use]
pub fn group_key(arena: &Arena, by: SplitBy) -> String {
    match by {
        SplitBy::Task => crate::task_id(arena),
        SplitBy::World => arena.world.clone(),
    }
}

/// How many of `groups` go to test.
#[must_use]
pub fn test_groups(groups: usize, test_fraction: f64) -> usize {
    let fraction = test_fraction.clamp(0.0, 1.0);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let wanted = (fraction * groups as f64).round() as usize;
    if fraction == 1.0 {
        return groups;
    }
    if groups < 2 || fraction == 0.0 {
        return 0;
    }
    wanted.clamp(1, groups - 1)
}

/// The split of each arena, in order (see the module documentation).
#[must_use]
pub fn assign(arenas: &[&Arena], config: &SplitConfig) -> Vec<Split> {
    let keys: Vec<String> = arenas.iter().map(|a| group_key(a, config.by)).collect();
    assign_keys(&keys, config)
}

/// The split of each item given its group's key (its task's id or its world, as
/// `config.by` says), in order: the same rule as [`assign`] for anything grouped by task or
/// world (arenas, PRM pairs).
#[must_use]
pub fn assign_keys(keys: &[String], config: &SplitConfig) -> Vec<Split> {
    let distinct: BTreeSet<&String> = keys.iter().collect();
    let mut order: Vec<&String> = distinct.into_iter().collect();
    let mut rng = SplitMix64::for_stream(config.seed, "split");
    for i in (1..order.len()).rev() {
        #[allow(clippy::cast_possible_truncation)]
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let n_test = test_groups(order.len(), config.test_fraction);
    let split_of: BTreeMap<&String, Split> = order
        .into_iter()
        .enumerate()
        .map(|(i, key)| (key, if i < n_test { Split::Test } else { Split::Train }))
        .collect();
    keys.iter().map(|k| split_of.get(k).copied().unwrap_or(Split::Train)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::arena;

    /// Three worlds, 30 tasks, every third task with two hops.
    fn arenas() -> Vec<Arena> {
        let mut out = Vec::new();
        for t in 0..30 {
            let world = ["retail", "airline", "bank"][t % 3];
            let task = format!("task-{t:02}");
            out.push(arena(&task, None, world, false));
            if t % 3 == 0 {
                out.push(arena(&task, Some(1), world, false));
                out.push(arena(&task, Some(2), world, false));
            }
        }
        out
    }

    fn split_of(arenas: &[Arena], config: &SplitConfig) -> BTreeMap<String, Split> {
        let refs: Vec<&Arena> = arenas.iter().collect();
        arenas.iter().map(|a| a.id.clone()).zip(assign(&refs, config)).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_split_in_any_order_and_another_seed_another() {
        let a = arenas();
        let config = SplitConfig { by: SplitBy::Task, test_fraction: 0.2, seed: 7 };
        let first = split_of(&a, &config);
        let mut reversed = a.clone();
        reversed.reverse();
        assert_eq!(split_of(&reversed, &config), first);
        let other = split_of(&a, &SplitConfig { seed: 8, ..config });
        assert_ne!(other, first);
        let tests = first.values().filter(|s| **s == Split::Test).count();
        assert!(tests > 0 && tests < first.len());
    }

    #[test]
    fn a_task_and_its_hops_never_straddle_the_files() {
        let a = arenas();
        for seed in 0..20 {
            let config = SplitConfig { by: SplitBy::Task, test_fraction: 0.3, seed };
            let refs: Vec<&Arena> = a.iter().collect();
            let mut by_task: BTreeMap<String, BTreeSet<Split>> = BTreeMap::new();
            for (arena, split) in a.iter().zip(assign(&refs, &config)) {
                by_task.entry(crate::task_id(arena)).or_default().insert(split);
            }
            assert!(by_task.values().all(|s| s.len() == 1), "seed {seed}: {by_task:?}");
            let test = by_task.values().filter(|s| s.contains(&Split::Test)).count();
            assert_eq!(test, 9, "round(0.3 * 30) tasks in test");
        }
    }

    #[test]
    fn by_world_the_test_worlds_are_never_trained_on() {
        let a = arenas();
        for seed in 0..20 {
            let config = SplitConfig { by: SplitBy::World, test_fraction: 0.1, seed };
            let refs: Vec<&Arena> = a.iter().collect();
            let mut train = BTreeSet::new();
            let mut test = BTreeSet::new();
            for (arena, split) in a.iter().zip(assign(&refs, &config)) {
                match split {
                    Split::Train => train.insert(arena.world.clone()),
                    Split::Test => test.insert(arena.world.clone()),
                };
            }
            assert!(train.is_disjoint(&test), "seed {seed}");
            assert_eq!((train.len(), test.len()), (2, 1), "0.1 of 3 worlds is still one world");
        }
    }

    #[test]
    fn group_counts_at_the_edges() {
        assert_eq!(test_groups(10, 0.0), 0);
        assert_eq!(test_groups(10, 1.0), 10);
        assert_eq!(test_groups(10, 0.01), 1);
        assert_eq!(test_groups(10, 0.99), 9);
        assert_eq!(test_groups(10, 0.25), 3);
        assert_eq!(test_groups(1, 0.5), 0);
        assert_eq!(test_groups(1, 1.0), 1);
        assert_eq!(test_groups(0, 0.5), 0);
        assert_eq!(test_groups(2, 0.1), 1);
    }
}
