//! Tools the communities left out (isolated, or in a small community with no neighbour to
//! merge into) are not thrown away: each joins the domain, among those holding tools of its
//! provider and with room left, whose tools of that provider are most like it; the rest are
//! grouped by provider and API into small domains of their own. Groups still smaller than
//! the minimum size are left out and counted.

use crate::ToolProfile;
use crate::embed::Embedding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What placing the left-out tools did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftoverStats {
    /// Tools in no community after the size rules.
    pub left: usize,
    /// Of those, tools that joined a domain of their provider.
    pub attached: usize,
    /// Domains made of the rest, one provider and API each.
    pub provider_domains: usize,
    /// Tools in those domains.
    pub grouped: usize,
    /// Tools still in no domain (their provider and API had too few left).
    pub left_out: usize,
}

/// Places the tools in none of `parts` (see the module documentation); `parts` gains the
/// new members and domains, each part sorted.
pub fn place(
    tools: &[ToolProfile],
    vectors: &[Embedding],
    parts: &mut Vec<Vec<u32>>,
    min_size: usize,
    max_size: usize,
) -> LeftoverStats {
    let n = tools.len();
    let mut placed = vec![false; n];
    for p in parts.iter() {
        for &m in p {
            placed[m as usize] = true;
        }
    }
    // Provider -> the parts holding its tools, with those tools.
    let mut by_provider: BTreeMap<&str, BTreeMap<usize, Vec<u32>>> = BTreeMap::new();
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            let provider = tools[m as usize].provenance.provider.as_str();
            by_provider.entry(provider).or_default().entry(c).or_default().push(m);
        }
    }
    let mut stats = LeftoverStats::default();
    let mut rest: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for u in (0..n).filter(|&u| !placed[u]) {
        stats.left += 1;
        let provenance = &tools[u].provenance;
        let best = by_provider.get(provenance.provider.as_str()).and_then(|candidates| {
            candidates
                .iter()
                .filter(|(c, _)| parts[**c].len() < max_size)
                .map(|(c, members)| {
                    let likeness = members.iter().map(|&m| vectors[u].cosine(&vectors[m as usize])).fold(0.0, f64::max);
                    (*c, likeness)
                })
                // The most alike; on a tie, the first part.
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        });
        #[allow(clippy::cast_possible_truncation)]
        let id = u as u32;
        match best {
            Some((c, _)) => {
                parts[c].push(id);
                stats.attached += 1;
            }
            None => rest
                .entry((provenance.provider.as_str(), provenance.service.as_deref().unwrap_or("")))
                .or_default()
                .push(id),
        }
    }
    for group in rest.into_values() {
        for chunk in group.chunks(max_size.max(1)) {
            if chunk.len() >= min_size {
                parts.push(chunk.to_vec());
                stats.provider_domains += 1;
                stats.grouped += chunk.len();
            } else {
                stats.left_out += chunk.len();
            }
        }
    }
    for p in parts.iter_mut() {
        p.sort_unstable();
    }
    parts.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Embedder;
    use worldsmith_core::tool::Provenance;

    fn tool(id: &str, provider: &str, service: &str, text: &str) -> ToolProfile {
        ToolProfile {
            id: id.to_owned(),
            text: text.to_owned(),
            produced: Vec::new(),
            required: Vec::new(),
            provenance: Provenance {
                provider: provider.to_owned(),
                service: Some(service.to_owned()),
                ..Provenance::default()
            },
        }
    }

    fn vectors(tools: &[ToolProfile]) -> Vec<Embedding> {
        let embedder = Embedder::fit(tools.iter().map(|t| t.text.as_str()));
        tools.iter().map(|t| embedder.embed(&t.text)).collect()
    }

    #[test]
    fn a_left_tool_joins_the_most_alike_domain_of_its_provider_and_the_rest_group_by_api() {
        let tools = vec![
            tool("a0", "shop", "orders", "order id status total"),
            tool("a1", "shop", "orders", "order id cancel reason"),
            tool("a2", "shop", "orders", "order id refund amount"),
            tool("b0", "shop", "people", "customer email name"),
            tool("b1", "shop", "people", "customer phone name"),
            tool("b2", "shop", "people", "customer address city"),
            // Left out by the communities:
            tool("x", "shop", "people", "customer loyalty points name"),
            tool("p0", "maps", "geo", "latitude longitude"),
            tool("p1", "maps", "geo", "geocode address"),
            tool("p2", "maps", "geo", "route distance"),
            tool("q0", "mail", "send", "send message"),
        ];
        let mut parts = vec![vec![0, 1, 2], vec![3, 4, 5]];
        let stats = place(&tools, &vectors(&tools), &mut parts, 3, 50);
        assert_eq!(stats, LeftoverStats { left: 5, attached: 1, provider_domains: 1, grouped: 3, left_out: 1 });
        assert_eq!(parts, vec![vec![3, 4, 5, 6], vec![0, 1, 2], vec![7, 8, 9]]);
    }

    #[test]
    fn a_full_domain_takes_no_more() {
        let tools: Vec<ToolProfile> =
            (0..5).map(|i| tool(&format!("t{i}"), "shop", "orders", &format!("order field{i}"))).collect();
        let mut parts = vec![vec![0, 1, 2]];
        let stats = place(&tools, &vectors(&tools), &mut parts, 2, 3);
        assert_eq!((stats.attached, stats.provider_domains, stats.grouped), (0, 1, 2));
        assert!(parts.iter().all(|p| p.len() <= 3), "{parts:?}");
    }
}
