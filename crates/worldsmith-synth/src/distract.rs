//! Distractor tools (ASTRA's irrelevant-tool mixing): tools from other worlds offered next
//! to a task's own, sampled from three similarity bands.
//!
//! Each candidate is scored by its highest cosine similarity ([`crate::embed`]) to any tool
//! the task's gold calls use; the scores of one task's candidates are min-max normalised and
//! split into bands: near (> 0.85), middle (0.4 to 0.85) and far (< 0.4). Up to K are drawn
//! from each band. A candidate whose name equals a tool of the task's world, or of a
//! distractor already drawn, is skipped: an agent cannot be offered two tools of one name.
//! Past [`MAX_CANDIDATES`] tools (a whole directory's worlds hold about 90,000), each task
//! scores a seeded sample of that many instead of every one.

use crate::rng::Rng;
use std::collections::BTreeSet;
use worldsmith_core::tool::{Band, Distractor, FunctionTool};
use worldsmith_engine::World;
use worldsmith_graph::embed::{Embedder, Embedding, min_max_normalise, tool_text};

/// Normalised similarity above which a distractor is `near`.
pub const NEAR: f64 = 0.85;
/// Normalised similarity below which a distractor is `far`.
pub const FAR: f64 = 0.4;

/// The most other worlds' tools one task's distractors are scored among: past it, a seeded
/// sample of this many (scoring all of them for every task grows with tasks times tools).
pub const MAX_CANDIDATES: usize = 4096;

struct Entry {
    world: usize,
    name: String,
    openai: FunctionTool,
    embedding: Embedding,
}

/// Every tool of a set of worlds, embedded together.
pub(crate) struct Pool {
    /// Every tool, world by world.
    entries: Vec<Entry>,
    /// Where each world's tools start in `entries` (and, last, where they end).
    world_starts: Vec<usize>,
    names_by_world: Vec<BTreeSet<String>>,
    world_names: Vec<String>,
    /// [`MAX_CANDIDATES`], but for tests.
    max_candidates: usize,
}

impl Pool {
    pub(crate) fn new(worlds: &[World]) -> Pool {
        let texts: Vec<(usize, String, FunctionTool, String)> = worlds
            .iter()
            .enumerate()
            .flat_map(|(w, world)| {
                world.tools().iter().map(move |t| {
                    (w, t.name().to_owned(), t.openai(), tool_text(t.name(), t.description(), t.parameters()))
                })
            })
            .collect();
        let embedder = Embedder::fit(texts.iter().map(|(_, _, _, text)| text.as_str()));
        let entries = texts
            .into_iter()
            .map(|(world, name, openai, text)| Entry { world, name, openai, embedding: embedder.embed(&text) })
            .collect();
        let mut world_starts = vec![0];
        for w in worlds {
            world_starts.push(world_starts.last().copied().unwrap_or(0) + w.tools().len());
        }
        Pool {
            entries,
            world_starts,
            max_candidates: MAX_CANDIDATES,
            names_by_world: worlds.iter().map(|w| w.tools().iter().map(|t| t.name().to_owned()).collect()).collect(),
            world_names: worlds.iter().map(|w| w.name().to_owned()).collect(),
        }
    }

    /// Distractors for a task of world `world` whose gold calls use `tools`, each the tool's
    /// OpenAI function object plus its band and world; near first, then middle, then far.
    pub(crate) fn distractors(&self, world: usize, tools: &[&str], per_band: usize, rng: &mut Rng) -> Vec<Distractor> {
        if per_band == 0 {
            return Vec::new();
        }
        let scope: Vec<&Embedding> = self.entries[self.world_starts[world]..self.world_starts[world + 1]]
            .iter()
            .filter(|e| tools.contains(&e.name.as_str()))
            .map(|e| &e.embedding)
            .collect();
        let own = &self.names_by_world[world];
        let eligible = |e: &Entry| e.world != world && !own.contains(&e.name);
        let candidates: Vec<&Entry> = if self.entries.len() <= self.max_candidates {
            self.entries.iter().filter(|e| eligible(e)).collect()
        } else {
            // A seeded sample, in pool order; draws are bounded for a pool that is mostly
            // the task's own world.
            let mut seen = std::collections::HashSet::new();
            let mut picked = Vec::new();
            for _ in 0..4 * self.max_candidates {
                if picked.len() == self.max_candidates {
                    break;
                }
                let i = rng.below(self.entries.len());
                if seen.insert(i) && eligible(&self.entries[i]) {
                    picked.push(i);
                }
            }
            picked.sort_unstable();
            picked.into_iter().map(|i| &self.entries[i]).collect()
        };
        if candidates.is_empty() || scope.is_empty() {
            return Vec::new();
        }
        let mut scores: Vec<f64> =
            candidates.iter().map(|c| scope.iter().map(|s| s.cosine(&c.embedding)).fold(0.0, f64::max)).collect();
        min_max_normalise(&mut scores);
        let mut bands: [Vec<usize>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for (i, &s) in scores.iter().enumerate() {
            let band = if s > NEAR {
                0
            } else if s >= FAR {
                1
            } else {
                2
            };
            bands[band].push(i);
        }
        let mut chosen_names: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
        for (band, members) in Band::ALL.into_iter().zip(bands.iter_mut()) {
            rng.shuffle(members);
            let mut taken = 0;
            for &i in members.iter() {
                if taken == per_band {
                    break;
                }
                let c = candidates[i];
                if !chosen_names.insert(c.name.as_str()) {
                    continue;
                }
                out.push(Distractor::new(c.openai.clone(), band, &self.world_names[c.world]));
                taken += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use worldsmith_engine::MemFiles;

    /// A world whose tools all read one collection.
    fn world(name: &str, tools: &[(&str, &str)]) -> World {
        let tools: Vec<Value> = tools
            .iter()
            .map(|(n, d)| {
                json!({"name": n, "description": d, "effect": "read",
                       "parameters": {"type": "object", "properties": {"thing_id": {"type": "string"}}, "required": ["thing_id"]},
                       "op": {"kind": "get", "collection": "things"}})
            })
            .collect();
        let manifest = json!({"format": 1, "name": name, "collections": {"things": {"key": "thing_id"}},
                              "data": {"dir": "data"}, "tools": tools});
        World::load(&MemFiles::new(name).with("world.json", manifest.to_string()).with("data/things.json", "{}"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A shop (the task's world), travel (a near tool, and a `get_order` of the same name)
    /// and music.
    fn shop_travel_music() -> [World; 3] {
        [
            world("shop", &[("cancel_order", "Cancel an order that has not shipped."), ("get_order", "Get an order.")]),
            world(
                "travel",
                &[
                    ("cancel_order_booking", "Cancel an order for a booking that has not started."),
                    ("get_order", "Get a travel order."),
                    ("list_hotels", "List hotels in a city."),
                ],
            ),
            world("music", &[("play_song", "Play a song."), ("list_albums", "List the albums of an artist.")]),
        ]
    }

    #[test]
    fn bands_by_normalised_similarity_without_name_clashes() {
        let worlds = shop_travel_music();
        let pool = Pool::new(&worlds);
        let mut rng = Rng::for_stream(1, "t");
        let out = pool.distractors(0, &["cancel_order"], 2, &mut rng);
        let names: Vec<&str> = out.iter().map(|d| d.function.name.as_str()).collect();
        // `get_order` is also a tool of the task's own world: never offered.
        assert!(!names.contains(&"get_order"), "{names:?}");
        let near: Vec<&Distractor> = out.iter().filter(|d| d.band == Some(Band::Near)).collect();
        assert_eq!(near.len(), 1);
        assert_eq!(near[0].function.name, "cancel_order_booking");
        assert_eq!(near[0].world.as_deref(), Some("travel"));
        assert!(out.iter().filter(|d| d.band == Some(Band::Far)).count() <= 2);
        assert!(out.iter().all(|d| d.world.as_deref() != Some("shop")));
        // Bands come in order, and the same stream gives the same choice.
        let again = pool.distractors(0, &["cancel_order"], 2, &mut Rng::for_stream(1, "t"));
        assert_eq!(out, again);
        assert!(pool.distractors(0, &["cancel_order"], 0, &mut rng).is_empty());
    }

    #[test]
    fn a_large_pool_is_sampled_the_same_way_each_time_and_keeps_the_rules() {
        let worlds = shop_travel_music();
        let mut pool = Pool::new(&worlds);
        pool.max_candidates = 2;
        for seed in 0..20 {
            let out = pool.distractors(0, &["cancel_order"], 2, &mut Rng::for_stream(seed, "t"));
            let names: Vec<&str> = out.iter().map(|d| d.function.name.as_str()).collect();
            // At most the sample's two, never the task's own world or a name it holds.
            assert!((1..=2).contains(&out.len()), "{names:?}");
            assert!(!names.contains(&"get_order") && !names.contains(&"cancel_order"), "{names:?}");
            assert!(out.iter().all(|d| d.world.as_deref() != Some("shop")));
            assert_eq!(out, pool.distractors(0, &["cancel_order"], 2, &mut Rng::for_stream(seed, "t")));
        }
    }
}
