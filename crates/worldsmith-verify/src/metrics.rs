//! Metrics over verdicts: pass^k and success by gold chain length, per policy and world.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use worldsmith_core::episode::{Rewards, Verdict};

/// A count of successes out of a count of tries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Tries.
    pub n: usize,
    /// Successes.
    pub ok: usize,
    /// ok / n (0 when n is 0).
    pub rate: f64,
}

impl Rate {
    fn add(&mut self, success: bool) {
        self.n += 1;
        self.ok += usize::from(success);
        self.rate = self.ok as f64 / self.n as f64;
    }
}

/// One policy's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyMetrics {
    /// Tasks with at least one episode.
    pub tasks: usize,
    /// Episodes.
    pub episodes: usize,
    /// Episode success.
    pub success: Rate,
    /// The mean of each reward, by name.
    pub mean_rewards: BTreeMap<String, f64>,
    /// pass^k for k = 1..=N, where N is the smallest trial count of any task; `pass_hat_k[0]`
    /// is pass^1.
    pub pass_hat_k: Vec<f64>,
    /// Episode success by the number of gold calls.
    pub by_chain_length: BTreeMap<usize, Rate>,
    /// Episode success and pass^k per world.
    pub by_world: BTreeMap<String, WorldMetrics>,
    /// Episode success per task kind.
    pub by_kind: BTreeMap<String, Rate>,
}

/// One world's numbers under one policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorldMetrics {
    /// Tasks.
    pub tasks: usize,
    /// Episode success.
    pub success: Rate,
    /// pass^k for k = 1..=N.
    pub pass_hat_k: Vec<f64>,
}

/// `metrics.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The format version.
    pub format: u32,
    /// Per policy, by name.
    pub policies: BTreeMap<String, PolicyMetrics>,
}

/// pass^k: the chance that k tries drawn without replacement from a task's n trials all
/// succeed, averaged over tasks: mean of C(c,k)/C(n,k). Tasks with fewer than k trials are
/// left out; `None` when no task has k trials.
#[must_use]
pub fn pass_hat_k(tasks: &[(usize, usize)], k: usize) -> Option<f64> {
    let eligible: Vec<f64> = tasks.iter().filter(|(n, _)| *n >= k).map(|&(n, c)| choose_ratio(c, n, k)).collect();
    (!eligible.is_empty() && k > 0).then(|| eligible.iter().sum::<f64>() / eligible.len() as f64)
}

/// C(c,k)/C(n,k) as a product, exact for small k and stable for large n.
fn choose_ratio(c: usize, n: usize, k: usize) -> f64 {
    if c < k {
        return 0.0;
    }
    (0..k).map(|i| (c - i) as f64 / (n - i) as f64).product()
}

/// Per (group) task trial counts: task id -> (trials, successes).
type Trials = BTreeMap<String, (usize, usize)>;

fn pass_curve(trials: &Trials) -> Vec<f64> {
    let counts: Vec<(usize, usize)> = trials.values().copied().collect();
    let max_k = counts.iter().map(|(n, _)| *n).min().unwrap_or(0);
    (1..=max_k).filter_map(|k| pass_hat_k(&counts, k)).collect()
}

/// The version of `metrics.json`. 2: `mean_rewards` (every reward by name) replaces
/// `mean_f1`.
pub const METRICS_FORMAT: u32 = 2;

/// The mean of every reward the verdicts carry, by name (a reward missing from a verdict
/// counts as 0 there).
pub fn mean_rewards<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> BTreeMap<String, f64> {
    mean_of(verdicts.into_iter().map(|v| &v.rewards))
}

/// The mean of every reward by name over sets of rewards (each reward's scalar value).
#[must_use]
pub fn mean_of<'a>(rewards: impl IntoIterator<Item = &'a Rewards>) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut n = 0usize;
    for r in rewards {
        n += 1;
        for (name, value) in r.scalars() {
            *sums.entry(name.to_owned()).or_default() += value;
        }
    }
    for sum in sums.values_mut() {
        *sum /= n.max(1) as f64;
    }
    sums
}

/// Computes the metrics of a set of verdicts.
#[must_use]
pub fn metrics(verdicts: &[Verdict]) -> Metrics {
    let mut out = Metrics { format: METRICS_FORMAT, policies: BTreeMap::new() };
    let mut by_policy: BTreeMap<&str, Vec<&Verdict>> = BTreeMap::new();
    let mut trials: BTreeMap<&str, Trials> = BTreeMap::new();
    let mut world_trials: BTreeMap<(&str, &str), Trials> = BTreeMap::new();
    for v in verdicts {
        let p = out.policies.entry(v.policy.clone()).or_default();
        p.episodes += 1;
        p.success.add(v.success);
        by_policy.entry(&v.policy).or_default().push(v);
        p.by_chain_length.entry(v.chain_length).or_default().add(v.success);
        p.by_kind.entry(v.kind.as_str().to_owned()).or_default().add(v.success);
        p.by_world.entry(v.world.clone()).or_default().success.add(v.success);
        let task = worldsmith_core::canonical::canonical_json(&v.task);
        let t = trials.entry(&v.policy).or_default().entry(task.clone()).or_default();
        t.0 += 1;
        t.1 += usize::from(v.success);
        let t = world_trials.entry((&v.policy, &v.world)).or_default().entry(task).or_default();
        t.0 += 1;
        t.1 += usize::from(v.success);
    }
    for (name, p) in &mut out.policies {
        p.mean_rewards = mean_rewards(by_policy[name.as_str()].iter().copied());
        let t = &trials[name.as_str()];
        p.tasks = t.len();
        p.pass_hat_k = pass_curve(t);
        for (world, w) in &mut p.by_world {
            let t = &world_trials[&(name.as_str(), world.as_str())];
            w.tasks = t.len();
            w.pass_hat_k = pass_curve(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_hat_k_matches_the_definition() {
        // One task 4/4, one 2/4, one 0/4.
        let tasks = [(4, 4), (4, 2), (4, 0)];
        assert!((pass_hat_k(&tasks, 1).unwrap() - 0.5).abs() < 1e-12);
        // C(2,2)/C(4,2) = 1/6.
        assert!((pass_hat_k(&tasks, 2).unwrap() - (1.0 + 1.0 / 6.0) / 3.0).abs() < 1e-12);
        assert!((pass_hat_k(&tasks, 4).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(pass_hat_k(&tasks, 5), None);
        assert_eq!(pass_hat_k(&tasks, 0), None);
    }

    #[test]
    fn pass_hat_k_never_rises_with_k() {
        let tasks = [(8, 7), (8, 3), (8, 8), (8, 1)];
        let curve: Vec<f64> = (1..=8).map(|k| pass_hat_k(&tasks, k).unwrap()).collect();
        assert!(curve.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{curve:?}");
    }
}
