//! GRPO's batch logic, independent of any trainer: group advantages, and ASTRA's adaptive
//! batch filling.
//!
//! **Advantages.** A group is the rewards of several rollouts of one prompt (an arena). Each
//! rollout's advantage is its reward minus the group's mean, divided by the group's standard
//! deviation plus [`EPSILON`] ([`Scaling::Std`], GRPO as TRL and verl compute it: the
//! sample standard deviation, n - 1 in the denominator), or not divided
//! ([`Scaling::None`], Dr. GRPO's variant). A group of one, or of equal rewards, has
//! advantage 0 everywhere; no input gives NaN (non-finite rewards are refused).
//!
//! **Batch filling.** A group whose rewards do not vary teaches nothing (all its advantages
//! are 0). ASTRA keeps only groups whose standard deviation exceeds `delta`: valid groups
//! join a buffer (oldest first), a batch is the `batch` oldest buffered groups, the surplus
//! waits for the next batch, and the caller is told how many more groups to roll out
//! ([`BatchFiller`]).
//!
//! ```
//! use worldsmith_grpo::{BatchFiller, Group, Scaling, advantages};
//!
//! let a = advantages(&[1.0, 0.0, 0.0, 1.0], Scaling::Std).unwrap();
//! assert!(a[0] > 0.0 && a[1] < 0.0 && (a[0] + a[1]).abs() < 1e-12);
//!
//! let mut filler = BatchFiller::new(2, 0.0);
//! let out = filler.offer(vec![Group::new("a", vec![1.0, 1.0]), Group::new("b", vec![1.0, 0.0])]);
//! assert_eq!((out.valid, out.invalid, out.batch.is_none()), (1, 1, true));
//! assert_eq!(filler.missing(), 1);
//! let out = filler.offer(vec![Group::new("c", vec![0.5, 0.0]), Group::new("d", vec![0.0, 0.2])]);
//! let batch = out.batch.unwrap();
//! assert_eq!(batch.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["b", "c"]);
//! assert_eq!(filler.buffered(), 1); // "d" waits for the next batch
//! ```

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Added to the standard deviation before dividing (as TRL's and verl's GRPO do).
pub const EPSILON: f64 = 1e-6;

/// How advantages are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// Divided by the group's standard deviation plus [`EPSILON`].
    #[default]
    Std,
    /// Reward minus the group mean only.
    None,
}

/// A reward that is not a finite number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotFinite {
    /// Its position in the group.
    pub index: usize,
    /// The value.
    pub value: f64,
}

impl std::fmt::Display for NotFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reward {} of the group is {}, not a finite number", self.index, self.value)
    }
}

impl std::error::Error for NotFinite {}

/// The mean of the rewards (0 for none).
#[must_use]
pub fn mean(rewards: &[f64]) -> f64 {
    if rewards.is_empty() { 0.0 } else { rewards.iter().sum::<f64>() / rewards.len() as f64 }
}

/// The sample standard deviation (n - 1 in the denominator; 0 for fewer than two rewards).
#[must_use]
pub fn std_dev(rewards: &[f64]) -> f64 {
    if rewards.len() < 2 {
        return 0.0;
    }
    let m = mean(rewards);
    let var = rewards.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (rewards.len() - 1) as f64;
    var.sqrt()
}

/// Each rollout's advantage within its group (see the crate documentation).
///
/// # Errors
/// A reward is NaN or infinite.
pub fn advantages(rewards: &[f64], scaling: Scaling) -> Result<Vec<f64>, NotFinite> {
    if let Some((index, &value)) = rewards.iter().enumerate().find(|(_, r)| !r.is_finite()) {
        return Err(NotFinite { index, value });
    }
    let m = mean(rewards);
    let s = std_dev(rewards);
    Ok(rewards
        .iter()
        .map(|r| {
            let centred = r - m;
            // Equal rewards (or one): exactly 0, not a rounding residue over epsilon.
            if s == 0.0 {
                0.0
            } else {
                match scaling {
                    Scaling::Std => centred / (s + EPSILON),
                    Scaling::None => centred,
                }
            }
        })
        .collect())
}

/// One group: the rewards of the rollouts of one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// What the group is of (an arena's id).
    pub id: String,
    /// The rollouts' rewards.
    pub rewards: Vec<f64>,
}

impl Group {
    /// A group of `rewards` for `id`.
    #[must_use]
    pub fn new(id: &str, rewards: Vec<f64>) -> Group {
        Group { id: id.to_owned(), rewards }
    }

    /// Whether the group's rewards vary by more than `delta` (its standard deviation exceeds
    /// it); a group with a non-finite reward is never valid.
    #[must_use]
    pub fn varies(&self, delta: f64) -> bool {
        self.rewards.iter().all(|r| r.is_finite()) && std_dev(&self.rewards) > delta
    }
}

/// What offering groups to a [`BatchFiller`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Offered {
    /// Groups kept (their rewards vary by more than delta).
    pub valid: usize,
    /// Groups dropped.
    pub invalid: usize,
    /// A full batch, when the buffer held one: the oldest valid groups.
    pub batch: Option<Vec<Group>>,
}

/// ASTRA's adaptive batch filler (see the crate documentation).
#[derive(Debug, Clone)]
pub struct BatchFiller {
    batch: usize,
    delta: f64,
    buffer: VecDeque<Group>,
    offered: usize,
    valid: usize,
}

impl BatchFiller {
    /// A filler of batches of `batch` groups (at least 1) keeping groups whose standard
    /// deviation exceeds `delta`.
    #[must_use]
    pub fn new(batch: usize, delta: f64) -> BatchFiller {
        BatchFiller { batch: batch.max(1), delta, buffer: VecDeque::new(), offered: 0, valid: 0 }
    }

    /// Offers rolled-out groups: valid ones join the buffer in order, and a batch is taken
    /// from its oldest when it holds enough.
    pub fn offer(&mut self, groups: Vec<Group>) -> Offered {
        let mut out = Offered { valid: 0, invalid: 0, batch: None };
        for g in groups {
            self.offered += 1;
            if g.varies(self.delta) {
                out.valid += 1;
                self.valid += 1;
                self.buffer.push_back(g);
            } else {
                out.invalid += 1;
            }
        }
        if self.buffer.len() >= self.batch {
            out.batch = Some(self.buffer.drain(..self.batch).collect());
        }
        out
    }

    /// Valid groups waiting for a batch.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Valid groups still missing from the next batch.
    #[must_use]
    pub fn missing(&self) -> usize {
        self.batch.saturating_sub(self.buffer.len())
    }

    /// How many groups to roll out next to fill the batch: the missing ones divided by the
    /// share of valid groups so far (all offered groups count as valid before any is
    /// offered), rounded up; 0 when the buffer already holds a batch.
    #[must_use]
    pub fn to_roll(&self) -> usize {
        let missing = self.missing();
        if missing == 0 {
            return 0;
        }
        if self.offered == 0 || self.valid == 0 {
            // Nothing known yet, or nothing valid so far: ask for the missing ones (the
            // caller keeps rolling until a batch is filled).
            return missing;
        }
        (missing * self.offered).div_ceil(self.valid)
    }

    /// Groups offered and valid so far.
    #[must_use]
    pub fn counts(&self) -> (usize, usize) {
        (self.offered, self.valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn advantages_match_grpo_and_handle_degenerate_groups() {
        // mean 0.5, sample std sqrt(1/3).
        let a = advantages(&[1.0, 0.0, 1.0, 0.0], Scaling::Std).unwrap();
        let s = (1.0f64 / 3.0).sqrt();
        assert!((a[0] - 0.5 / (s + EPSILON)).abs() < 1e-12);
        assert!((a[1] + 0.5 / (s + EPSILON)).abs() < 1e-12);
        assert_eq!(advantages(&[1.0, 0.0, 1.0, 0.0], Scaling::None).unwrap(), vec![0.5, -0.5, 0.5, -0.5]);
        assert_eq!(advantages(&[0.7], Scaling::Std).unwrap(), vec![0.0]);
        assert_eq!(advantages(&[0.3, 0.3, 0.3], Scaling::Std).unwrap(), vec![0.0; 3]);
        assert!(advantages(&[], Scaling::Std).unwrap().is_empty());
        let err = advantages(&[1.0, f64::NAN], Scaling::Std).unwrap_err();
        assert!(err.index == 1 && err.value.is_nan());
        assert!(advantages(&[1.0, f64::INFINITY], Scaling::None).is_err());
    }

    #[test]
    fn the_filler_keeps_varied_groups_buffers_the_surplus_oldest_first_and_counts() {
        let g = |id: &str, r: &[f64]| Group::new(id, r.to_vec());
        let mut f = BatchFiller::new(3, 0.1);
        assert_eq!(f.to_roll(), 3);
        // Step 1: two valid of four; no batch yet.
        let o = f.offer(vec![g("a", &[1.0, 1.0]), g("b", &[1.0, 0.0]), g("c", &[0.0, 0.0]), g("d", &[0.2, 0.9])]);
        assert_eq!((o.valid, o.invalid, o.batch), (2, 2, None));
        assert_eq!((f.buffered(), f.missing(), f.to_roll()), (2, 1, 2));
        // Step 2: three valid: a batch of the oldest three, one left in the buffer.
        let o = f.offer(vec![g("e", &[0.0, 1.0]), g("f", &[0.5, 0.5]), g("h", &[0.0, 0.6]), g("i", &[1.0, 0.0])]);
        assert_eq!((o.valid, o.invalid), (3, 1));
        let batch: Vec<String> = o.batch.unwrap().into_iter().map(|g| g.id).collect();
        assert_eq!(batch, ["b", "d", "e"]);
        assert_eq!((f.buffered(), f.missing()), (2, 1));
        assert_eq!(f.counts(), (8, 5));
        // A std exactly at delta is not above it.
        let mut strict = BatchFiller::new(1, std_dev(&[0.0, 1.0]));
        assert_eq!(strict.offer(vec![g("x", &[0.0, 1.0])]).valid, 0);
        // A group of one never varies; a NaN never counts.
        assert_eq!(BatchFiller::new(1, 0.0).offer(vec![g("y", &[1.0]), g("z", &[f64::NAN, 1.0])]).valid, 0);
    }

    proptest! {
        #[test]
        fn advantages_are_finite_and_centred(rewards in proptest::collection::vec(-1e6f64..1e6, 0..12)) {
            for scaling in [Scaling::Std, Scaling::None] {
                let a = advantages(&rewards, scaling).unwrap();
                prop_assert_eq!(a.len(), rewards.len());
                prop_assert!(a.iter().all(|x| x.is_finite()));
                let sum: f64 = a.iter().sum();
                prop_assert!(sum.abs() < 1e-6 * (1.0 + rewards.iter().map(|r| r.abs()).sum::<f64>()));
            }
        }

        #[test]
        fn every_valid_group_is_batched_once_in_order(stds in proptest::collection::vec(0u8..4, 0..40), batch in 1usize..6) {
            let mut f = BatchFiller::new(batch, 0.0);
            let mut batched = Vec::new();
            let mut expected = Vec::new();
            for (i, s) in stds.iter().enumerate() {
                let g = Group::new(&i.to_string(), vec![0.0, f64::from(*s)]);
                if *s > 0 { expected.push(i.to_string()); }
                if let Some(b) = f.offer(vec![g]).batch { batched.extend(b.into_iter().map(|g| g.id)); }
            }
            prop_assert_eq!(batched.len() + f.buffered(), expected.len());
            prop_assert_eq!(&batched[..], &expected[..batched.len()]);
        }
    }
}
