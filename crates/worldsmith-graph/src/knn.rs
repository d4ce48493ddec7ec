//! Similarity edges without O(n^2) memory.
//!
//! Sparse TF-IDF vectors ([`similarity_edges`]) go through an inverted index: for each tool,
//! the tools sharing at least one term are gathered through the postings of its terms (a
//! dense accumulator per thread, reset after each tool), their exact cosine is computed, and
//! the `k` most similar above the threshold are kept. Terms in more than `max_df` tools
//! (words like `id`, `limit`, `string`) do not make two tools candidates by themselves: they
//! would join everything to everything. Memory is the vectors, the postings and one
//! accumulator per thread.
//!
//! Dense vectors (a sentence embedder's, [`dense_similarity_edges`]) are grouped first: tools
//! with the same vector are searched once. The distinct vectors are then compared
//! exhaustively ([`DenseSearch::Exact`]: O(n^2) time, memory the vectors and each one's `k`
//! best) or through an HNSW index ([`DenseSearch::Hnsw`], feature `ann`), whose recall
//! against the exhaustive search is measured on every run, on a sample.
//!
//! Both give each tool its `k` nearest above the threshold, joined into undirected edges;
//! the result is independent of the thread count.

use crate::embed::Embedding;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// An undirected weighted edge `(a, b, cosine)` with `a < b`.
pub type Edge = (u32, u32, f64);

/// The k-nearest-neighbour similarity edges of `vectors` (see the module documentation),
/// sorted by endpoints. `progress` is called with the number of tools done so far, now and
/// then.
pub fn similarity_edges(
    vectors: &[Embedding],
    threshold: f64,
    k: usize,
    max_df: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<Edge> {
    let n = vectors.len();
    let terms = vectors.iter().flat_map(|v| v.entries().iter().map(|(t, _)| *t as usize + 1)).max().unwrap_or(0);
    let mut df = vec![0usize; terms];
    for v in vectors {
        for (t, _) in v.entries() {
            df[*t as usize] += 1;
        }
    }
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); terms];
    for (i, v) in vectors.iter().enumerate() {
        for &(t, w) in v.entries() {
            if df[t as usize] <= max_df {
                postings[t as usize].push((i as u32, w as f32));
            }
        }
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let neighbours: Vec<Vec<(u32, f64)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0f32; n], Vec::<u32>::new()),
            |(acc, touched), i| {
                for &(t, w) in vectors[i].entries() {
                    if df[t as usize] > max_df {
                        continue;
                    }
                    for &(j, wj) in &postings[t as usize] {
                        if j as usize != i {
                            if acc[j as usize] == 0.0 {
                                touched.push(j);
                            }
                            acc[j as usize] += w as f32 * wj;
                        }
                    }
                }
                let near = nearest(touched.iter().map(|&j| (j, vectors[i].cosine(&vectors[j as usize]))), threshold, k);
                for &j in touched.iter() {
                    acc[j as usize] = 0.0;
                }
                touched.clear();
                tick(&done, progress);
                near
            },
        )
        .collect();
    undirected(&neighbours, progress)
}

/// How dense vectors find their nearest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DenseSearch {
    /// Every distinct vector against every other: exact, O(n^2) time.
    #[default]
    Exact,
    /// An HNSW index over the distinct vectors (`hnsw_rs`, feature `ann`): approximate,
    /// about O(n log n). Built by inserting the vectors one at a time in pool order (the
    /// crate draws each point's layer from a fixed seed), then searched in parallel, so the
    /// edges are the same on every run and thread count.
    #[cfg(feature = "ann")]
    Hnsw(HnswConfig),
}

/// The settings of an HNSW index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswConfig {
    /// Links kept per point and layer (HNSW's `M`).
    pub connections: usize,
    /// Candidates explored while inserting a point.
    pub ef_construction: usize,
    /// Candidates explored while searching a point's nearest (at least `k + 1`).
    pub ef_search: usize,
}

impl Default for HnswConfig {
    fn default() -> HnswConfig {
        HnswConfig { connections: 24, ef_construction: 200, ef_search: 128 }
    }
}

/// How a dense neighbour search was done: `exact` or `hnsw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DenseMethod {
    /// Every distinct vector against every other.
    #[default]
    Exact,
    /// An HNSW index.
    Hnsw,
}

/// What a dense neighbour search did, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DenseSearchStats {
    /// How the neighbours were found.
    pub method: DenseMethod,
    /// Distinct non-zero vectors (tools with the same vector are searched once).
    pub distinct_vectors: usize,
    /// The HNSW settings, for `hnsw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw: Option<HnswConfig>,
    /// Distinct vectors whose approximate neighbours were checked against an exact search
    /// (every so many, spread over the pool); 0 for `exact`.
    pub recall_queries: usize,
    /// The share of the exact search's neighbours (the `k` nearest distinct vectors at or
    /// above the threshold) that the approximate search found, over those queries; 1 for
    /// `exact`.
    pub recall: f64,
}

/// The k-nearest-neighbour similarity edges of dense vectors by cosine (see the module
/// documentation), sorted by endpoints, and what the search did. A zero vector has no
/// neighbours.
///
/// Tools with bitwise-identical vectors (a sentence embedder gives those to tools with the
/// same text) are searched once: each distinct vector's `k` nearest distinct vectors are
/// found, exactly or by [`DenseSearch::Hnsw`], and each tool's `k` nearest tools are then
/// taken from its own group and the groups of those neighbours, ordered by cosine and then
/// by index. With [`DenseSearch::Exact`] the edges are exactly those of comparing every
/// pair of tools.
///
/// # Panics
///
/// When the vectors do not all have the same length.
pub fn dense_similarity_edges(
    vectors: &[Vec<f32>],
    threshold: f64,
    k: usize,
    search: DenseSearch,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Edge>, DenseSearchStats) {
    let dims = vectors.first().map_or(0, Vec::len);
    assert!(vectors.iter().all(|v| v.len() == dims), "dense vectors of one length");
    let groups = Groups::of(vectors);
    let exact = |g: usize| groups.exact_nearest(g, threshold, k);
    let (near, stats): (Vec<Vec<(u32, f64)>>, DenseSearchStats) = match search {
        DenseSearch::Exact => {
            let near = (0..groups.len()).into_par_iter().map(exact).collect();
            (near, DenseSearchStats { method: DenseMethod::Exact, recall: 1.0, ..DenseSearchStats::default() })
        }
        #[cfg(feature = "ann")]
        DenseSearch::Hnsw(config) => {
            let near = hnsw::nearest_groups(&groups, threshold, k, config);
            let (recall_queries, recall) = recall(&groups, &near, &exact);
            let stats = DenseSearchStats {
                method: DenseMethod::Hnsw,
                hnsw: Some(config),
                recall_queries,
                recall,
                ..DenseSearchStats::default()
            };
            (near, stats)
        }
    };
    let stats = DenseSearchStats { distinct_vectors: groups.unit.iter().filter(|u| !u.is_empty()).count(), ..stats };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let neighbours: Vec<Vec<(u32, f64)>> = (0..vectors.len())
        .into_par_iter()
        .map(|i| {
            let g = groups.of_tool[i] as usize;
            let own = f64::from(dot(&groups.unit[g], &groups.unit[g]));
            let twins = groups.members[g].iter().filter(|&&t| t as usize != i).take(k).map(|&t| (t, own));
            let others =
                near[g].iter().flat_map(|&(h, cos)| groups.members[h as usize].iter().take(k).map(move |&t| (t, cos)));
            let best = if groups.unit[g].is_empty() { Vec::new() } else { nearest(twins.chain(others), threshold, k) };
            tick(&done, progress);
            best
        })
        .collect();
    (undirected(&neighbours, progress), stats)
}

/// The number of distinct vectors checked against an exact search when the search is
/// approximate.
#[cfg(feature = "ann")]
const RECALL_QUERIES: usize = 500;

/// The recall of approximate neighbours `near` against `exact` on about [`RECALL_QUERIES`]
/// distinct vectors spread evenly over the pool: (queries, recall).
#[cfg(feature = "ann")]
fn recall(
    groups: &Groups,
    near: &[Vec<(u32, f64)>],
    exact: &(dyn Fn(usize) -> Vec<(u32, f64)> + Sync),
) -> (usize, f64) {
    let live: Vec<usize> = (0..groups.len()).filter(|&g| !groups.unit[g].is_empty()).collect();
    let step = live.len().div_ceil(RECALL_QUERIES).max(1);
    let queries: Vec<usize> = live.iter().copied().step_by(step).collect();
    let (found, wanted) = queries
        .par_iter()
        .map(|&g| {
            let truth = exact(g);
            let hits = truth.iter().filter(|(h, _)| near[g].iter().any(|(x, _)| x == h)).count();
            (hits, truth.len())
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    #[allow(clippy::cast_precision_loss)]
    let recall = if wanted == 0 { 1.0 } else { found as f64 / wanted as f64 };
    (queries.len(), recall)
}

/// Tools grouped by bitwise-identical vectors, groups numbered in the order of their first
/// tool.
struct Groups {
    /// Each group's vector scaled to unit length (empty for a zero vector).
    unit: Vec<Vec<f32>>,
    /// Each group's tools, ascending.
    members: Vec<Vec<u32>>,
    /// Each tool's group.
    of_tool: Vec<u32>,
}

impl Groups {
    fn of(vectors: &[Vec<f32>]) -> Groups {
        let mut index: std::collections::HashMap<Vec<u32>, u32> = std::collections::HashMap::new();
        let mut groups = Groups { unit: Vec::new(), members: Vec::new(), of_tool: Vec::with_capacity(vectors.len()) };
        for (i, v) in vectors.iter().enumerate() {
            let bits: Vec<u32> = v.iter().map(|x| x.to_bits()).collect();
            let next = u32::try_from(groups.unit.len()).expect("fewer than 2^32 vectors");
            let g = *index.entry(bits).or_insert(next);
            if g == next {
                let norm = dot(v, v).sqrt();
                groups.unit.push(if norm > 0.0 { v.iter().map(|x| x / norm).collect() } else { Vec::new() });
                groups.members.push(Vec::new());
            }
            groups.members[g as usize].push(u32::try_from(i).expect("fewer than 2^32 vectors"));
            groups.of_tool.push(g);
        }
        groups
    }

    fn len(&self) -> usize {
        self.unit.len()
    }

    /// Group `g`'s `k` nearest other groups at or above the threshold, by comparing all.
    fn exact_nearest(&self, g: usize, threshold: f64, k: usize) -> Vec<(u32, f64)> {
        if self.unit[g].is_empty() {
            return Vec::new();
        }
        let candidates = self.unit.iter().enumerate().filter(|&(h, v)| h != g && !v.is_empty());
        nearest(candidates.map(|(h, v)| (h as u32, f64::from(dot(&self.unit[g], v)))), threshold, k)
    }
}

/// The HNSW search of [`DenseSearch::Hnsw`].
#[cfg(feature = "ann")]
mod hnsw {
    use super::{Groups, HnswConfig, dot, nearest};
    use hnsw_rs::prelude::{Distance, Hnsw};
    use rayon::prelude::*;

    /// `1 - cos` of unit vectors, with the same dot product as the exact search.
    struct CosineDistance;

    impl Distance<f32> for CosineDistance {
        fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
            (1.0 - dot(a, b)).max(0.0)
        }
    }

    /// Each group's `k` nearest other groups at or above the threshold, from an HNSW index
    /// of the groups' unit vectors; cosines are computed again exactly, so they are the
    /// exact search's where both find a pair.
    pub(super) fn nearest_groups(
        groups: &Groups,
        threshold: f64,
        k: usize,
        config: HnswConfig,
    ) -> Vec<Vec<(u32, f64)>> {
        let live: Vec<usize> = (0..groups.len()).filter(|&g| !groups.unit[g].is_empty()).collect();
        // The crate's most layers; a point's layer is drawn with scale 1 / ln(connections).
        let index: Hnsw<'_, f32, CosineDistance> =
            Hnsw::new(config.connections, live.len(), 16, config.ef_construction, CosineDistance);
        for &g in &live {
            index.insert_slice((&groups.unit[g], g));
        }
        (0..groups.len())
            .into_par_iter()
            .map(|g| {
                if groups.unit[g].is_empty() {
                    return Vec::new();
                }
                let found = index.search(&groups.unit[g], k + 1, config.ef_search.max(k + 1));
                let candidates = found
                    .into_iter()
                    .filter(|n| n.d_id != g)
                    .map(|n| (n.d_id as u32, f64::from(dot(&groups.unit[g], &groups.unit[n.d_id]))));
                nearest(candidates, threshold, k)
            })
            .collect()
    }
}

/// The dot product, in eight lanes so the compiler vectorizes it; the order of additions is
/// fixed, so the result is too.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The `k` most similar candidates at or above the threshold, most similar first (ties by
/// index).
fn nearest(candidates: impl Iterator<Item = (u32, f64)>, threshold: f64, k: usize) -> Vec<(u32, f64)> {
    let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let mut near: Vec<(u32, f64)> = candidates.filter(|&(_, cos)| cos >= threshold).collect();
    // Only the k best are sorted: a row of a dense graph can hold most of the pool.
    if near.len() > k && k > 0 {
        near.select_nth_unstable_by(k - 1, order);
    }
    near.truncate(k);
    near.sort_by(order);
    near
}

/// Counts one more tool done, reporting every 1,024.
fn tick(done: &std::sync::atomic::AtomicUsize, progress: &(dyn Fn(usize) + Sync)) {
    let count = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if count.is_multiple_of(1024) {
        progress(count);
    }
}

/// Each tool's nearest, as undirected edges sorted by endpoints (a pair found from both ends
/// once).
fn undirected(neighbours: &[Vec<(u32, f64)>], progress: &(dyn Fn(usize) + Sync)) -> Vec<Edge> {
    let n = neighbours.len();
    let mut edges: Vec<Edge> = neighbours
        .iter()
        .enumerate()
        .flat_map(|(i, near)| {
            near.iter().map(move |&(j, cos)| {
                let (a, b) = if (i as u32) < j { (i as u32, j) } else { (j, i as u32) };
                (a, b, cos)
            })
        })
        .collect();
    edges.sort_by_key(|e| (e.0, e.1));
    edges.dedup_by(|x, y| x.0 == y.0 && x.1 == y.1);
    progress(n);
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Embedder;

    fn vectors(docs: &[&str]) -> Vec<Embedding> {
        let e = Embedder::fit(docs.iter().copied());
        docs.iter().map(|d| e.embed(d)).collect()
    }

    /// The same edges as comparing every pair.
    fn brute(v: &[Embedding], threshold: f64, k: usize) -> Vec<Edge> {
        let mut near: Vec<Vec<(u32, f64)>> = vec![Vec::new(); v.len()];
        for i in 0..v.len() {
            for j in 0..v.len() {
                let cos = v[i].cosine(&v[j]);
                if i != j && cos >= threshold {
                    near[i].push((j as u32, cos));
                }
            }
            near[i].sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            near[i].truncate(k);
        }
        let mut edges: Vec<Edge> = near
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.iter().map(move |&(j, c)| ((i as u32).min(j), (i as u32).max(j), c)))
            .collect();
        edges.sort_by_key(|e| (e.0, e.1));
        edges.dedup_by(|x, y| x.0 == y.0 && x.1 == y.1);
        edges
    }

    #[test]
    fn the_index_finds_what_comparing_every_pair_finds() {
        let docs = [
            "pet id name tag",
            "pet id status",
            "order id pet quantity",
            "user name email password",
            "user email",
            "weather city forecast",
            "city forecast day",
            "unrelated words here",
        ];
        let v = vectors(&docs);
        for (threshold, k) in [(0.0001, 10), (0.2, 2), (0.5, 1)] {
            assert_eq!(similarity_edges(&v, threshold, k, usize::MAX, &|_| {}), brute(&v, threshold, k));
        }
    }

    #[test]
    fn dense_vectors_give_each_tool_its_nearest_above_the_threshold() {
        let v = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.9, 0.1, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.9, 0.4],
            vec![0.0, 0.0, 0.0],
            vec![-1.0, 0.0, 0.0],
        ];
        let edges = dense_similarity_edges(&v, 0.5, 1, DenseSearch::Exact, &|_| {}).0;
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.0, e.1)).collect();
        // 0-1 and 2-3 are close; the zero vector and the opposite one join nothing.
        assert_eq!(pairs, vec![(0, 1), (2, 3)]);
        assert!((edges[0].2 - 0.9939).abs() < 1e-3);
        assert!(dense_similarity_edges(&v, 0.999, 5, DenseSearch::Exact, &|_| {}).0.is_empty());
    }

    proptest::proptest! {
        /// Exhaustive dense search equals a plain pairwise comparison of every tool, on any
        /// thread count, with tools sharing vectors (grouped) and zero vectors among them.
        #[test]
        fn dense_edges_match_a_pairwise_comparison(
            base in proptest::collection::vec(proptest::collection::vec(-1.0f32..1.0, 11), 1..12),
            picks in proptest::collection::vec(0usize..100, 2..40),
            zero in proptest::bool::ANY,
            threshold in 0.0f64..0.9,
            k in 1usize..6,
        ) {
            let mut base = base;
            if zero {
                base.push(vec![0.0; 11]);
            }
            let v: Vec<Vec<f32>> = picks.iter().map(|p| base[p % base.len()].clone()).collect();
            let cos = |a: &[f32], b: &[f32]| {
                let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
                f64::from(dot(&a.iter().map(|x| x / na).collect::<Vec<_>>(), &b.iter().map(|x| x / nb).collect::<Vec<_>>()))
            };
            let near: Vec<Vec<(u32, f64)>> = (0..v.len())
                .map(|i| nearest((0..v.len()).filter(|&j| j != i).map(|j| (j as u32, cos(&v[i], &v[j]))), threshold, k))
                .collect();
            let expected = undirected(&near, &|_| {});
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let (edges, stats) = dense_similarity_edges(&v, threshold, k, DenseSearch::Exact, &|_| {});
            proptest::prop_assert_eq!(edges, expected.clone());
            proptest::prop_assert_eq!(stats.distinct_vectors, base.iter().filter(|b| b.iter().any(|x| *x != 0.0)).filter(|b| v.contains(b)).count());
            proptest::prop_assert_eq!(one.install(|| dense_similarity_edges(&v, threshold, k, DenseSearch::Exact, &|_| {})).0, expected);
        }
    }

    /// Unit vectors in clusters: `clusters` random centres in `dims` dimensions, each with
    /// points scattered around it, from a fixed generator.
    #[cfg(feature = "ann")]
    fn clustered(points: usize, clusters: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            #[allow(clippy::cast_precision_loss)]
            let x = (state >> 40) as f32 / (1u64 << 24) as f32;
            2.0 * x - 1.0
        };
        let centres: Vec<Vec<f32>> = (0..clusters).map(|_| (0..dims).map(|_| next()).collect()).collect();
        (0..points).map(|i| centres[i % clusters].iter().map(|c| c + 0.35 * next()).collect()).collect()
    }

    #[cfg(feature = "ann")]
    #[test]
    fn hnsw_finds_what_the_exact_search_finds_and_repeats_itself() {
        let v = clustered(3_000, 60, 48, 7);
        let (threshold, k) = (0.6, 20);
        let (exact, exact_stats) = dense_similarity_edges(&v, threshold, k, DenseSearch::Exact, &|_| {});
        let search = DenseSearch::Hnsw(HnswConfig::default());
        let (approx, stats) = dense_similarity_edges(&v, threshold, k, search, &|_| {});
        assert_eq!(exact_stats.method, DenseMethod::Exact);
        assert_eq!(stats.method, DenseMethod::Hnsw);
        assert_eq!(stats.distinct_vectors, 3_000);
        assert_eq!(stats.recall_queries, 500);
        assert!(stats.recall >= 0.95, "sampled recall {}", stats.recall);
        // Recall over every edge, not just the sample.
        let found = approx.iter().filter(|e| exact.binary_search_by_key(&(e.0, e.1), |x| (x.0, x.1)).is_ok()).count();
        #[allow(clippy::cast_precision_loss)]
        let edge_recall = found as f64 / exact.len() as f64;
        assert!(edge_recall >= 0.95, "edge recall {edge_recall}");
        // The same edges again, and on one thread.
        assert_eq!(dense_similarity_edges(&v, threshold, k, search, &|_| {}).0, approx);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(one.install(|| dense_similarity_edges(&v, threshold, k, search, &|_| {})).0, approx);
    }

    #[cfg(feature = "ann")]
    #[test]
    fn hnsw_with_shared_and_zero_vectors() {
        // Tools sharing a vector are searched once; zero vectors join nothing.
        let mut v = clustered(400, 10, 16, 3);
        let copies: Vec<Vec<f32>> = v[..100].to_vec();
        v.extend(copies);
        v.push(vec![0.0; 16]);
        let search = DenseSearch::Hnsw(HnswConfig::default());
        let (edges, stats) = dense_similarity_edges(&v, 0.5, 5, search, &|_| {});
        assert_eq!(stats.distinct_vectors, 400);
        assert!(!edges.iter().any(|e| e.1 == 500));
        // Each copy's nearest is its twin (cosine 1).
        assert!(edges.iter().any(|e| (e.0, e.1) == (0, 400)));
        assert!(stats.recall >= 0.95, "{}", stats.recall);
    }

    #[test]
    fn terms_in_too_many_tools_do_not_join_tools_alone() {
        let v = vectors(&["id", "id", "id name", "name"]);
        let edges = similarity_edges(&v, 0.01, 10, 2, &|_| {});
        // "id" is in 3 tools (> 2): tools 0 and 1 share nothing else, so no edge.
        assert!(!edges.iter().any(|e| (e.0, e.1) == (0, 1)));
        assert!(edges.iter().any(|e| (e.0, e.1) == (2, 3)));
    }
}
