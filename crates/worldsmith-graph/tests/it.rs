//! Domain discovery on a pool made of the bundled worlds' tools (each world a provider),
//! and the nearest-neighbour index against comparing every pair.

// Tests may unwrap and report on the terminal (the library-code lints of the workspace).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;
use worldsmith_core::tool::ToolSpec;
use worldsmith_graph::embed::Embedder;
use worldsmith_graph::{GraphConfig, Similarity, ToolProfile, agreement, discover, knn};

fn pool() -> Vec<ToolProfile> {
    let mut tools = Vec::new();
    for name in worldsmith_worlds::default_names() {
        let world = worldsmith_worlds::load(name).unwrap().unwrap();
        for t in world.tools() {
            tools.push(
                serde_json::from_value::<ToolSpec>(json!({
                    "id": format!("{name}/{}", t.name()), "name": t.name(), "description": t.description(),
                    "parameters": t.parameters(), "response": null,
                    "provenance": {"source": name, "provider": name, "categories": [name]}
                }))
                .unwrap(),
            );
        }
    }
    tools.iter().map(ToolProfile::of).collect()
}

#[test]
fn bundled_tools_form_domains_that_follow_the_worlds() {
    let tools = pool();
    let config = GraphConfig { threshold: 0.3, ..GraphConfig::default() };
    let (domains, summary) = discover(&tools, &config, Similarity::TfIdf, &|_| {});
    assert!(summary.domains >= 4, "{summary:#?}");
    let mut seen = BTreeSet::new();
    let ids: BTreeSet<&str> = tools.iter().map(|t| t.id.as_str()).collect();
    for d in &domains {
        assert!(d.tools.len() >= config.communities.min_size && d.tools.len() <= config.communities.max_size);
        for t in &d.tools {
            assert!(ids.contains(t.as_str()) && seen.insert(t.clone()), "{t} unknown or in two domains");
        }
    }
    let names: BTreeSet<&str> = domains.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names.len(), domains.len(), "domain names are unique");
    assert_eq!(summary.tools_in_domains, seen.len());
    assert!(summary.modularity > 0.3, "{summary:#?}");
    let provider = agreement(&tools, &domains, "provider").unwrap();
    assert!(provider.nmi > 0.3 && provider.classes == 4, "{provider:?}");
    assert!(agreement(&tools, &domains, "color").is_none());

    // The same pool and seed give the same domains, on one thread too.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let again = one.install(|| discover(&tools, &config, Similarity::TfIdf, &|_| {}));
    assert_eq!(serde_json::to_string(&again.0).unwrap(), serde_json::to_string(&domains).unwrap());
}

proptest! {
    #[test]
    fn the_index_finds_exactly_the_pairs_a_full_comparison_finds(
        docs in prop::collection::vec(prop::collection::vec(0usize..12, 0..6), 1..40),
        threshold in 0.05f64..0.9,
        k in 1usize..6,
    ) {
        const WORDS: [&str; 12] = ["pet", "owner", "order", "user", "city", "email", "card", "loan", "line", "plan", "bill", "seat"];
        let texts: Vec<String> = docs.iter().map(|d| d.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ")).collect();
        let embedder = Embedder::fit(texts.iter().map(String::as_str));
        let v: Vec<_> = texts.iter().map(|t| embedder.embed(t)).collect();
        let edges = knn::similarity_edges(&v, threshold, k, usize::MAX, &|_| {});
        // Every edge is above the threshold, and every pair above it is an edge unless
        // both ends had k closer neighbours.
        for &(a, b, cos) in &edges {
            prop_assert!(a < b && cos >= threshold);
        }
        let linked: BTreeSet<(u32, u32)> = edges.iter().map(|e| (e.0, e.1)).collect();
        for a in 0..v.len() {
            for b in a + 1..v.len() {
                let cos = v[a].cosine(&v[b]);
                if cos >= threshold && !linked.contains(&(a as u32, b as u32)) {
                    let closer = |x: usize| (0..v.len()).filter(|&y| y != x && v[x].cosine(&v[y]) >= cos).count();
                    prop_assert!(closer(a) > k || closer(b) > k || closer(a) >= k && closer(b) >= k);
                }
            }
        }
    }
}
