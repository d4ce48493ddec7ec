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
//! Dense vectors (a sentence embedder's, [`dense_similarity_edges`]) are compared exhaustively,
//! one tool against all others at a time: O(n^2) time, but memory stays the vectors and
//! each tool's `k` best.
//!
//! Both give each tool its `k` nearest above the threshold, joined into undirected edges;
//! the result is independent of the thread count.

use crate::embed::Embedding;
use rayon::prelude::*;

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

/// The k-nearest-neighbour similarity edges of dense vectors by cosine (see the module
/// documentation), sorted by endpoints. A zero vector has no neighbours.
///
/// # Panics
///
/// When the vectors do not all have the same length.
pub fn dense_similarity_edges(
    vectors: &[Vec<f32>],
    threshold: f64,
    k: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Vec<Edge> {
    let dims = vectors.first().map_or(0, Vec::len);
    assert!(vectors.iter().all(|v| v.len() == dims), "dense vectors of one length");
    let unit: Vec<Vec<f32>> = vectors
        .iter()
        .map(|v| {
            let norm = dot(v, v).sqrt();
            if norm > 0.0 { v.iter().map(|x| x / norm).collect() } else { Vec::new() }
        })
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let neighbours: Vec<Vec<(u32, f64)>> = (0..unit.len())
        .into_par_iter()
        .map(|i| {
            let near = if unit[i].is_empty() {
                Vec::new()
            } else {
                let candidates = unit.iter().enumerate().filter(|&(j, v)| j != i && !v.is_empty());
                nearest(candidates.map(|(j, v)| (j as u32, f64::from(dot(&unit[i], v)))), threshold, k)
            };
            tick(&done, progress);
            near
        })
        .collect();
    undirected(&neighbours, progress)
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
        let edges = dense_similarity_edges(&v, 0.5, 1, &|_| {});
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.0, e.1)).collect();
        // 0-1 and 2-3 are close; the zero vector and the opposite one join nothing.
        assert_eq!(pairs, vec![(0, 1), (2, 3)]);
        assert!((edges[0].2 - 0.9939).abs() < 1e-3);
        assert!(dense_similarity_edges(&v, 0.999, 5, &|_| {}).is_empty());
    }

    proptest::proptest! {
        /// Exhaustive dense search equals a plain pairwise comparison, on any thread count.
        #[test]
        fn dense_edges_match_a_pairwise_comparison(
            v in proptest::collection::vec(proptest::collection::vec(-1.0f32..1.0, 11), 2..40),
            threshold in 0.0f64..0.9,
            k in 1usize..6,
        ) {
            let cos = |a: &[f32], b: &[f32]| {
                let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
                f64::from(dot(&a.iter().map(|x| x / na).collect::<Vec<_>>(), &b.iter().map(|x| x / nb).collect::<Vec<_>>()))
            };
            let near: Vec<Vec<(u32, f64)>> = (0..v.len())
                .map(|i| nearest((0..v.len()).filter(|&j| j != i).map(|j| (j as u32, cos(&v[i], &v[j]))), threshold, k))
                .collect();
            let expected = undirected(&near, &|_| {});
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            proptest::prop_assert_eq!(dense_similarity_edges(&v, threshold, k, &|_| {}), expected.clone());
            proptest::prop_assert_eq!(one.install(|| dense_similarity_edges(&v, threshold, k, &|_| {})), expected);
        }
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
