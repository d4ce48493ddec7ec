//! Similarity edges without O(n^2) memory: an inverted index over sparse TF-IDF vectors.
//!
//! For each tool, the tools sharing at least one term are gathered through the postings of
//! its terms (a dense accumulator per thread, reset after each tool), their exact cosine is
//! computed, and the `k` most similar above the threshold are kept. Terms in more than
//! `max_df` tools (words like `id`, `limit`, `string`) do not make two tools candidates by
//! themselves: they would join everything to everything. Memory is the vectors, the
//! postings and one accumulator per thread; the result is independent of the thread count.

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
                let mut near: Vec<(u32, f64)> = touched
                    .iter()
                    .filter_map(|&j| {
                        let cos = vectors[i].cosine(&vectors[j as usize]);
                        (cos >= threshold).then_some((j, cos))
                    })
                    .collect();
                for &j in touched.iter() {
                    acc[j as usize] = 0.0;
                }
                touched.clear();
                near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                near.truncate(k);
                let count = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if count.is_multiple_of(1024) {
                    progress(count);
                }
                near
            },
        )
        .collect();
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
    fn terms_in_too_many_tools_do_not_join_tools_alone() {
        let v = vectors(&["id", "id", "id name", "name"]);
        let edges = similarity_edges(&v, 0.01, 10, 2, &|_| {});
        // "id" is in 3 tools (> 2): tools 0 and 1 share nothing else, so no edge.
        assert!(!edges.iter().any(|e| (e.0, e.1) == (0, 1)));
        assert!(edges.iter().any(|e| (e.0, e.1) == (2, 3)));
    }
}
