//! Tools the communities left out (isolated, or in a small community with no neighbour to
//! merge into) are not thrown away. In order, each:
//!
//! 1. joins the domain, among those holding tools of its own API (provider and service) and
//!    with room left, whose tools of that API are most like it;
//! 2. or, with the others of its API that found no such domain, forms small domains of that
//!    API alone (split evenly when there are more than fit in one);
//! 3. or, when its API has too few of those for a domain, joins the domain of its provider
//!    with room left whose tools of that provider are most like it;
//! 4. or stays out, counted.
//!
//! Keeping a tool with its own API first keeps the domains as pure as the communities made
//! them: an API's tools share one category, a provider's do not always (a cloud provider
//! publishes hundreds of APIs).

use crate::ToolProfile;
use crate::embed::Embedding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What placing the left-out tools did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftoverStats {
    /// Tools in no community after the size rules.
    pub left: usize,
    /// Of those, tools that joined a domain holding tools of their API (step 1).
    pub attached: usize,
    /// Domains made of the rest, one provider and API each (step 2).
    pub provider_domains: usize,
    /// Tools in those domains.
    pub grouped: usize,
    /// Tools that joined a domain of their provider (step 3).
    #[serde(default)]
    pub attached_to_provider: usize,
    /// Tools still in no domain (their provider had no domain with room).
    pub left_out: usize,
}

/// Whether the tools the communities left out are placed ([`place`]) or dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leftovers {
    /// Placed into domains (the default).
    #[default]
    Place,
    /// Left out of every domain.
    Drop,
}

type Api<'a> = (&'a str, &'a str);

fn api_of(tool: &ToolProfile) -> Api<'_> {
    (tool.provenance.provider.as_str(), tool.provenance.service.as_deref().unwrap_or(""))
}

/// The part with room left whose members of the group are most like tool `u` (on a tie, the
/// first part), among `candidates` (part -> its members of the group).
fn most_alike(
    u: usize,
    vectors: &[Embedding],
    parts: &[Vec<u32>],
    candidates: Option<&BTreeMap<usize, Vec<u32>>>,
    max_size: usize,
) -> Option<usize> {
    candidates?
        .iter()
        .filter(|(c, _)| parts[**c].len() < max_size)
        .map(|(c, members)| {
            let likeness = members.iter().map(|&m| vectors[u].cosine(&vectors[m as usize])).fold(0.0, f64::max);
            (*c, likeness)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(c, _)| c)
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
    let mut by_api: BTreeMap<Api<'_>, BTreeMap<usize, Vec<u32>>> = BTreeMap::new();
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            by_api.entry(api_of(&tools[m as usize])).or_default().entry(c).or_default().push(m);
        }
    }
    let mut stats = LeftoverStats::default();
    // Step 1: a domain of the tool's own API.
    let mut rest: BTreeMap<Api<'_>, Vec<u32>> = BTreeMap::new();
    for u in (0..n).filter(|&u| !placed[u]) {
        stats.left += 1;
        #[allow(clippy::cast_possible_truncation)]
        let id = u as u32;
        let api = api_of(&tools[u]);
        match most_alike(u, vectors, parts, by_api.get(&api), max_size) {
            Some(c) => {
                parts[c].push(id);
                stats.attached += 1;
            }
            None => rest.entry(api).or_default().push(id),
        }
    }
    // Step 2: domains of one API, split evenly.
    let mut stragglers = Vec::new();
    for group in rest.into_values() {
        if group.len() < min_size {
            stragglers.extend(group);
            continue;
        }
        let pieces = group.len().div_ceil(max_size.max(1));
        let (base, extra) = (group.len() / pieces, group.len() % pieces);
        let mut from = 0;
        for i in 0..pieces {
            let to = from + base + usize::from(i < extra);
            parts.push(group[from..to].to_vec());
            from = to;
        }
        stats.provider_domains += pieces;
        stats.grouped += group.len();
    }
    // Step 3: a domain of the tool's provider (those of step 2 included).
    let mut by_provider: BTreeMap<&str, BTreeMap<usize, Vec<u32>>> = BTreeMap::new();
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            by_provider.entry(api_of(&tools[m as usize]).0).or_default().entry(c).or_default().push(m);
        }
    }
    stragglers.sort_unstable();
    for id in stragglers {
        let u = id as usize;
        match most_alike(u, vectors, parts, by_provider.get(api_of(&tools[u]).0), max_size) {
            Some(c) => {
                parts[c].push(id);
                stats.attached_to_provider += 1;
            }
            None => stats.left_out += 1,
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
    fn a_left_tool_joins_the_most_alike_domain_of_its_api_and_the_rest_group_by_api() {
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
        assert_eq!(
            stats,
            LeftoverStats {
                left: 5,
                attached: 1,
                provider_domains: 1,
                grouped: 3,
                attached_to_provider: 0,
                left_out: 1
            }
        );
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

    /// Two domains of one provider's billing and storage APIs (parts `[0, 1, 2]` and
    /// `[3, 4, 5]`), and a left-out tool.
    fn cloud_with(left: ToolProfile) -> Vec<ToolProfile> {
        vec![
            tool("a0", "cloud", "billing", "invoice amount currency"),
            tool("a1", "cloud", "billing", "invoice due date"),
            tool("a2", "cloud", "billing", "invoice pdf"),
            tool("b0", "cloud", "storage", "bucket name region"),
            tool("b1", "cloud", "storage", "bucket object key"),
            tool("b2", "cloud", "storage", "bucket acl"),
            left,
        ]
    }

    #[test]
    fn a_tool_stays_with_its_own_api_even_when_another_api_of_its_provider_reads_more_alike() {
        // A billing tool whose words are the storage API's:
        let tools = cloud_with(tool("x", "cloud", "billing", "bucket name region object key"));
        let mut parts = vec![vec![0, 1, 2], vec![3, 4, 5]];
        let stats = place(&tools, &vectors(&tools), &mut parts, 3, 50);
        assert_eq!(stats.attached, 1);
        assert_eq!(parts, vec![vec![0, 1, 2, 6], vec![3, 4, 5]]);
    }

    #[test]
    fn an_api_too_small_for_a_domain_joins_its_providers_most_alike_domain() {
        // One tool of an API no domain holds:
        let tools = cloud_with(tool("x", "cloud", "archive", "bucket object key restore"));
        let mut parts = vec![vec![0, 1, 2], vec![3, 4, 5]];
        let stats = place(&tools, &vectors(&tools), &mut parts, 3, 50);
        assert_eq!((stats.attached, stats.grouped, stats.attached_to_provider, stats.left_out), (0, 0, 1, 0));
        assert_eq!(parts, vec![vec![3, 4, 5, 6], vec![0, 1, 2]]);
    }

    #[test]
    fn an_api_with_more_left_than_fit_in_one_domain_is_split_evenly() {
        let tools: Vec<ToolProfile> =
            (0..7).map(|i| tool(&format!("t{i}"), "shop", "orders", &format!("order field{i}"))).collect();
        let mut parts = Vec::new();
        let stats = place(&tools, &vectors(&tools), &mut parts, 2, 3);
        assert_eq!((stats.provider_domains, stats.grouped), (3, 7));
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![3, 2, 2]);
    }
}
