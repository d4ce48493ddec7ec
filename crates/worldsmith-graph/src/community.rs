//! Communities: Leiden (modularity, `leiden-rs`) on the similarity graph, then size rules.
//!
//! - a community above `max_size` is split by running Leiden again on its own subgraph at a
//!   higher resolution (doubling, up to four times);
//! - a community below `min_size` is merged into the community it has the most edge weight
//!   to among those it can join without passing `max_size`, or dropped when there is none;
//!   tools without any edge are dropped as isolated.

use crate::knn::Edge;
use leiden_rs::{GraphDataBuilder, Leiden, LeidenConfig, Partition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How communities are found and sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommunityConfig {
    /// The modularity resolution (higher: more, smaller communities).
    pub resolution: f64,
    /// The seed of Leiden's random choices.
    pub seed: u64,
    /// Smaller communities are merged or dropped.
    pub min_size: usize,
    /// Larger communities are split.
    pub max_size: usize,
}

/// What the size rules did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityStats {
    /// Communities Leiden found with at least two tools, before the size rules.
    pub found: usize,
    /// Tools without any similarity edge (dropped).
    pub isolated: usize,
    /// Communities split because they were larger than the maximum.
    pub split: usize,
    /// Communities still larger than the maximum after splitting (kept).
    pub oversized: usize,
    /// Small communities merged into a neighbour.
    pub merged: usize,
    /// Small communities dropped (no neighbour), and their tools.
    pub dropped: usize,
    /// Tools in dropped small communities.
    pub dropped_tools: usize,
}

/// Runs Leiden on `n` nodes and `edges`; returns each node's community.
fn leiden(n: usize, edges: &[Edge], resolution: f64, seed: u64) -> Vec<usize> {
    let mut builder = GraphDataBuilder::new(n);
    for &(a, b, w) in edges {
        // Weights are cosines in (0, 1]: always valid.
        let _ = builder.add_edge(a as usize, b as usize, w);
    }
    let Ok(graph) = builder.build() else { return (0..n).collect() };
    let config = LeidenConfig { resolution, seed: Some(seed), ..LeidenConfig::default() };
    match Leiden::new(config).run(&graph) {
        Ok(out) => out.partition.as_slice().to_vec(),
        Err(_) => (0..n).collect(),
    }
}

/// Groups nodes by label, each group sorted, groups ordered by their first node.
fn groups(labels: &[usize], nodes: &[u32]) -> Vec<Vec<u32>> {
    let mut by: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for (&node, &label) in nodes.iter().zip(labels) {
        by.entry(label).or_default().push(node);
    }
    let mut out: Vec<Vec<u32>> = by.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

/// Splits `members` (global node ids) while it is larger than `max_size`.
fn split(
    members: Vec<u32>,
    edges: &[Edge],
    config: &CommunityConfig,
    depth: u32,
    stats: &mut CommunityStats,
) -> Vec<Vec<u32>> {
    if members.len() <= config.max_size {
        return vec![members];
    }
    if depth >= 4 {
        stats.oversized += 1;
        return vec![members];
    }
    let local: BTreeMap<u32, u32> = members.iter().enumerate().map(|(i, &m)| (m, i as u32)).collect();
    let inner: Vec<Edge> = edges.iter().filter_map(|&(a, b, w)| Some((*local.get(&a)?, *local.get(&b)?, w))).collect();
    let resolution = config.resolution * f64::from(2u32.pow(depth + 1));
    let labels = leiden(members.len(), &inner, resolution, config.seed.wrapping_add(u64::from(depth) + 1));
    let parts = groups(&labels, &members);
    if parts.len() < 2 {
        stats.oversized += 1;
        return vec![members];
    }
    stats.split += 1;
    parts.into_iter().flat_map(|p| split(p, edges, config, depth + 1, stats)).collect()
}

/// The communities of a graph after the size rules (see the module documentation), each a
/// sorted list of nodes, ordered by size (largest first) then first node.
pub fn communities(n: usize, edges: &[Edge], config: &CommunityConfig) -> (Vec<Vec<u32>>, CommunityStats) {
    let mut stats = CommunityStats::default();
    let mut adjacency: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in edges {
        adjacency[a as usize].push((b, w));
        adjacency[b as usize].push((a, w));
    }
    let degree: Vec<usize> = adjacency.iter().map(Vec::len).collect();
    stats.isolated = degree.iter().filter(|&&d| d == 0).count();
    let labels = leiden(n, edges, config.resolution, config.seed);
    let nodes: Vec<u32> = (0..n as u32).collect();
    let found: Vec<Vec<u32>> =
        groups(&labels, &nodes).into_iter().filter(|g| g.len() > 1 || degree[g[0] as usize] > 0).collect();
    stats.found = found.iter().filter(|g| g.len() > 1).count();
    let mut parts: Vec<Vec<u32>> = found.into_iter().flat_map(|g| split(g, edges, config, 0, &mut stats)).collect();

    // Merge small communities into their best-connected neighbour, smallest first.
    let mut owner: Vec<Option<usize>> = vec![None; n];
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            owner[m as usize] = Some(c);
        }
    }
    let mut order: Vec<usize> = (0..parts.len()).filter(|&c| parts[c].len() < config.min_size).collect();
    order.sort_by_key(|&c| (parts[c].len(), parts[c][0]));
    for c in order {
        if parts[c].is_empty() || parts[c].len() >= config.min_size {
            continue;
        }
        let mut weight: BTreeMap<usize, f64> = BTreeMap::new();
        for &m in &parts[c] {
            for &(other, w) in &adjacency[m as usize] {
                if let Some(o) = owner[other as usize].filter(|&o| o != c) {
                    *weight.entry(o).or_default() += w;
                }
            }
        }
        // A merge never makes a community larger than the maximum.
        let room = config.max_size.saturating_sub(parts[c].len());
        let best = weight
            .into_iter()
            .filter(|&(o, _)| parts[o].len() <= room)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let members = std::mem::take(&mut parts[c]);
        match best {
            Some((target, _)) => {
                stats.merged += 1;
                for &m in &members {
                    owner[m as usize] = Some(target);
                }
                parts[target].extend(members);
                parts[target].sort_unstable();
            }
            None => {
                stats.dropped += 1;
                stats.dropped_tools += members.len();
                for &m in &members {
                    owner[m as usize] = None;
                }
            }
        }
    }
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for p in parts.into_iter().filter(|p| !p.is_empty()) {
        if p.len() >= config.min_size {
            kept.push(p);
        } else {
            stats.dropped += 1;
            stats.dropped_tools += p.len();
        }
    }
    kept.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    (kept, stats)
}

/// Newman-Girvan modularity of `parts` on the graph (nodes in no part count as singletons).
#[must_use]
pub fn modularity(n: usize, edges: &[Edge], parts: &[Vec<u32>]) -> f64 {
    let mut builder = GraphDataBuilder::new(n);
    for &(a, b, w) in edges {
        let _ = builder.add_edge(a as usize, b as usize, w);
    }
    let Ok(graph) = builder.build() else { return 0.0 };
    let mut membership: Vec<usize> = (parts.len()..parts.len() + n).collect();
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            membership[m as usize] = c;
        }
    }
    let mut partition = Partition::from_membership(membership);
    partition.renumber();
    leiden_rs::compute_modularity(&graph, &partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two dense cliques of `size` joined by one weak edge, plus an isolated node.
    fn two_cliques(size: u32) -> (usize, Vec<Edge>) {
        let mut edges = Vec::new();
        for base in [0, size] {
            for a in base..base + size {
                for b in a + 1..base + size {
                    edges.push((a, b, 0.9));
                }
            }
        }
        edges.push((0, size, 0.1));
        ((2 * size + 1) as usize, edges)
    }

    fn config() -> CommunityConfig {
        CommunityConfig { resolution: 1.0, seed: 0, min_size: 3, max_size: 64 }
    }

    #[test]
    fn cliques_become_communities_and_isolated_nodes_are_dropped() {
        let (n, edges) = two_cliques(5);
        let (parts, stats) = communities(n, &edges, &config());
        assert_eq!(parts, vec![vec![0, 1, 2, 3, 4], vec![5, 6, 7, 8, 9]]);
        assert_eq!(stats.isolated, 1);
        assert!(modularity(n, &edges, &parts) > 0.4);
    }

    #[test]
    fn small_communities_merge_into_their_neighbour() {
        let (n, mut edges) = two_cliques(5);
        // A pair hanging off the first clique.
        edges.push((4, 11, 0.3));
        edges.push((11, 12, 0.95));
        let (parts, stats) = communities(n + 2, &edges, &CommunityConfig { min_size: 3, ..config() });
        assert!(parts.iter().all(|p| p.len() >= 3));
        assert!(parts.iter().any(|p| p.contains(&11) && p.contains(&0)), "{parts:?} {stats:?}");
    }

    #[test]
    fn large_communities_are_split() {
        let (n, edges) = two_cliques(6);
        // Join the cliques strongly so Leiden may see one community, then cap the size.
        let mut strong = edges.clone();
        strong.push((1, 7, 0.9));
        strong.push((2, 8, 0.9));
        let (parts, _) = communities(n, &strong, &CommunityConfig { max_size: 6, ..config() });
        assert!(parts.iter().all(|p| p.len() <= 6), "{parts:?}");
    }

    #[test]
    fn merging_never_passes_the_maximum() {
        let (n, mut edges) = two_cliques(5);
        // A pair that would join the first clique, but a clique of 5 plus 2 is above 6.
        edges.push((4, 11, 0.3));
        edges.push((11, 12, 0.95));
        let (parts, stats) = communities(n + 2, &edges, &CommunityConfig { min_size: 3, max_size: 6, ..config() });
        assert!(parts.iter().all(|p| (3..=6).contains(&p.len())), "{parts:?}");
        assert_eq!((stats.dropped, stats.dropped_tools), (1, 2), "{stats:?}");
    }

    #[test]
    fn the_seed_decides_the_result() {
        let (n, edges) = two_cliques(8);
        let a = communities(n, &edges, &config());
        let b = communities(n, &edges, &config());
        assert_eq!(a, b);
    }
}
