//! Domain discovery: AgentScaler's tool graph and its communities.
//!
//! 1. Each tool's parameter list (names, types, descriptions; its name and description when
//!    it has no parameters) becomes a TF-IDF vector ([`embed`]: offline, identifier-aware,
//!    no model weights), or, with the `neural` feature, a MiniLM sentence embedding
//!    (`neural`: all-MiniLM-L6-v2 from a local directory, through candle).
//! 2. An undirected edge joins two tools whose cosine similarity reaches the threshold (the
//!    paper's Eq. 1), among each tool's `k` nearest ([`knn`]: an inverted index, no O(n^2)
//!    memory).
//! 3. Leiden communities (modularity, seeded) are sized by rules ([`community`]): large ones
//!    split at a higher resolution, small ones merged into their best-connected neighbour or
//!    dropped.
//! 4. Inside each domain, directed data-flow edges: A -> B when A returns a field B requires
//!    ([`dataflow`]).
//!
//! The result is a list of [`Domain`]s (`domains.jsonl`) and a [`GraphSummary`]. The same
//! tools, settings and seed give the same domains on any thread count.

pub mod community;
pub mod dataflow;
pub mod embed;
pub mod knn;
pub mod leftovers;
#[cfg(feature = "neural")]
pub mod neural;

use community::{CommunityConfig, CommunityStats};
use embed::{Embedder, Embedding, parameter_text};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use worldsmith_core::tool::{Provenance, ToolSpec};

/// The version of the `domains.jsonl` and `summary.json` formats.
pub const GRAPH_FORMAT: u32 = 1;

/// What tools are compared by.
#[derive(Debug, Clone, Copy)]
pub enum Similarity<'a> {
    /// Identifier-aware TF-IDF vectors of the tools' texts ([`embed`]), offline.
    TfIdf,
    /// Given dense vectors, one per tool in pool order (a sentence embedder's), by cosine.
    Dense {
        /// The embedder's name, for the summary (`minilm`).
        name: &'a str,
        /// One vector per tool.
        vectors: &'a [Vec<f32>],
        /// How each vector's nearest are found.
        search: knn::DenseSearch,
    },
}

/// How the graph is built and cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphConfig {
    /// The least cosine similarity for an edge.
    pub threshold: f64,
    /// Each tool's most similar tools considered for edges.
    pub neighbours: usize,
    /// A term in more than this fraction of tools (and more than 50) does not make two
    /// tools neighbours by itself.
    pub max_df: f64,
    /// Community detection and size rules.
    pub communities: CommunityConfig,
    /// Whether the tools the communities leave out are placed into domains (the default;
    /// [`leftovers::place`]) or dropped and counted.
    pub leftovers: leftovers::Leftovers,
}

impl Default for GraphConfig {
    fn default() -> GraphConfig {
        GraphConfig {
            threshold: 0.5,
            neighbours: 20,
            max_df: 0.01,
            communities: CommunityConfig { resolution: 1.0, seed: 0, min_size: 3, max_size: 50 },
            leftovers: leftovers::Leftovers::Place,
        }
    }
}

pub use worldsmith_core::tool::{Domain, DomainStats};

/// `summary.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// [`GRAPH_FORMAT`].
    pub format: u32,
    /// Tools read.
    pub tools: usize,
    /// What tools were compared by: `tfidf`, or a dense embedder's name (`minilm`).
    #[serde(default)]
    pub embedder: String,
    /// Tools with a non-empty vector.
    pub embedded: usize,
    /// The settings.
    pub threshold: f64,
    /// The settings.
    pub neighbours: usize,
    /// The settings.
    pub resolution: f64,
    /// The settings.
    pub seed: u64,
    /// How dense vectors' nearest were found (dense embedders only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_search: Option<knn::DenseSearchStats>,
    /// Undirected similarity edges.
    pub similarity_edges: usize,
    /// What community detection and the size rules did.
    pub communities: CommunityStats,
    /// What became of the tools they left out.
    #[serde(default)]
    pub leftovers: leftovers::LeftoverStats,
    /// Domains kept.
    pub domains: usize,
    /// Tools in a domain.
    pub tools_in_domains: usize,
    /// Domain sizes: min, median, 90th percentile, max.
    pub size: SizeSummary,
    /// Newman-Girvan modularity of the domains on the similarity graph.
    pub modularity: f64,
    /// Directed data-flow edges inside domains.
    pub data_flow_edges: usize,
    /// Agreement with provenance fields, when asked (`--labels`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, LabelAgreement>,
}

/// The distribution of domain sizes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeSummary {
    /// Smallest.
    pub min: usize,
    /// Median.
    pub median: usize,
    /// 90th percentile.
    pub p90: usize,
    /// Largest.
    pub max: usize,
    /// Domains per size bucket (`3-4`, `5-9`, `10-19`, `20-49`, `50+`).
    pub histogram: BTreeMap<String, usize>,
}

/// How well domains agree with a provenance field, over the tools in domains.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelAgreement {
    /// Normalised mutual information (0 to 1).
    pub nmi: f64,
    /// Adjusted Rand index (about 0 for chance, 1 for identical).
    pub ari: f64,
    /// Distinct values of the field among those tools.
    pub classes: usize,
}

/// What discovery needs of a tool. Its schemas, which can be large, are reduced to the text
/// it is embedded by and the fields data-flow edges match, so a pool of 100,000 tools fits in
/// memory without its specs.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolProfile {
    /// The tool's id.
    pub id: String,
    /// The text its vector is made of ([`tool_vector_text`]).
    pub text: String,
    /// The fields its result offers ([`dataflow::produced`]).
    pub produced: Vec<(String, String)>,
    /// The arguments it requires ([`dataflow::required`]).
    pub required: Vec<(String, String)>,
    /// Where it came from (without parameter locations).
    pub provenance: Provenance,
}

impl ToolProfile {
    /// The profile of a tool.
    #[must_use]
    pub fn of(tool: &ToolSpec) -> ToolProfile {
        let mut provenance = tool.provenance.clone();
        provenance.locations.clear();
        ToolProfile {
            id: tool.id.clone(),
            text: tool_vector_text(tool),
            produced: dataflow::produced(tool).into_iter().collect(),
            required: dataflow::required(tool).into_iter().collect(),
            provenance,
        }
    }
}

/// The text a tool is embedded by: its parameter list, or its name and description when it
/// has no parameters.
#[must_use]
pub fn tool_vector_text(tool: &ToolSpec) -> String {
    let params = parameter_text(&tool.parameters);
    if params.trim().is_empty() { embed::tool_text(&tool.name, &tool.description, &tool.parameters) } else { params }
}

/// Discovers the domains of a tool pool (see the crate documentation), comparing tools by
/// `similarity`. `progress` is called with the number of tools whose neighbours are found,
/// now and then.
///
/// # Panics
///
/// When `similarity` gives dense vectors and their number is not the number of tools.
#[must_use]
pub fn discover(
    tools: &[ToolProfile],
    config: &GraphConfig,
    similarity: Similarity<'_>,
    progress: &(dyn Fn(usize) + Sync),
) -> (Vec<Domain>, GraphSummary) {
    // TF-IDF vectors always exist: domains are named by their terms.
    let embedder = Embedder::fit(tools.iter().map(|t| t.text.as_str()));
    let vectors: Vec<Embedding> = tools.par_iter().map(|t| embedder.embed(&t.text)).collect();
    let n = tools.len();
    let mut dense_search = None;
    let (edges, embedded, embedder_name) = match similarity {
        Similarity::TfIdf => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let max_df = ((config.max_df * n as f64).ceil() as usize).max(50);
            let edges = knn::similarity_edges(&vectors, config.threshold, config.neighbours, max_df, progress);
            (edges, vectors.iter().filter(|v| !v.is_empty()).count(), "tfidf".to_owned())
        }
        Similarity::Dense { name, vectors: dense, search } => {
            assert_eq!(dense.len(), n, "one dense vector per tool");
            let (edges, stats) =
                knn::dense_similarity_edges(dense, config.threshold, config.neighbours, search, progress);
            dense_search = Some(stats);
            (edges, dense.iter().filter(|v| v.iter().any(|x| *x != 0.0)).count(), name.to_owned())
        }
    };
    let (mut parts, community_stats) = community::communities(n, &edges, &config.communities);
    let leftovers = if config.leftovers == leftovers::Leftovers::Place {
        let c = &config.communities;
        leftovers::place(tools, &vectors, &mut parts, c.min_size, c.max_size)
    } else {
        let placed: usize = parts.iter().map(Vec::len).sum();
        leftovers::LeftoverStats { left: n - placed, left_out: n - placed, ..leftovers::LeftoverStats::default() }
    };
    let modularity = community::modularity(n, &edges, &parts);

    let mut owner: Vec<Option<usize>> = vec![None; n];
    for (c, p) in parts.iter().enumerate() {
        for &m in p {
            owner[m as usize] = Some(c);
        }
    }
    let mut inner_edges = vec![0usize; parts.len()];
    for &(a, b, _) in &edges {
        if let (Some(x), Some(y)) = (owner[a as usize], owner[b as usize])
            && x == y
        {
            inner_edges[x] += 1;
        }
    }
    let mut names_taken: BTreeSet<String> = BTreeSet::new();
    let mut domains = Vec::with_capacity(parts.len());
    let flows: Vec<Vec<(u32, u32)>> = parts.par_iter().map(|p| dataflow::edges(tools, p)).collect();
    for (c, (members, flow)) in parts.iter().zip(flows).enumerate() {
        let mut name = domain_name(&embedder, &vectors, members);
        if !names_taken.insert(name.clone()) {
            let mut k = 2;
            while !names_taken.insert(format!("{name}-{k}")) {
                k += 1;
            }
            name = format!("{name}-{k}");
        }
        let mut providers: BTreeMap<&str, usize> = BTreeMap::new();
        for &m in members {
            *providers.entry(tools[m as usize].provenance.provider.as_str()).or_default() += 1;
        }
        let top_provider = providers
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(p, _)| (*p).to_owned())
            .unwrap_or_default();
        domains.push(Domain {
            id: format!("dom-{:04}", c + 1),
            name,
            tools: members.iter().map(|&m| tools[m as usize].id.clone()).collect(),
            edges: flow.iter().map(|&(a, b)| (tools[a as usize].id.clone(), tools[b as usize].id.clone())).collect(),
            stats: DomainStats {
                tools: members.len(),
                similarity_edges: inner_edges[c],
                data_flow_edges: flow.len(),
                providers: providers.len(),
                top_provider,
            },
        });
    }
    let summary = GraphSummary {
        format: GRAPH_FORMAT,
        tools: n,
        embedder: embedder_name,
        embedded,
        threshold: config.threshold,
        neighbours: config.neighbours,
        resolution: config.communities.resolution,
        seed: config.communities.seed,
        dense_search,
        similarity_edges: edges.len(),
        communities: community_stats,
        leftovers,
        domains: domains.len(),
        tools_in_domains: parts.iter().map(Vec::len).sum(),
        size: sizes(&parts),
        modularity,
        data_flow_edges: domains.iter().map(|d| d.stats.data_flow_edges).sum(),
        labels: BTreeMap::new(),
    };
    (domains, summary)
}

/// The domain's three most characteristic terms: summed TF-IDF weight over its tools.
fn domain_name(embedder: &Embedder, vectors: &[Embedding], members: &[u32]) -> String {
    // JSON type names say nothing about a domain.
    const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object", "null"];
    let mut weight: BTreeMap<u32, f64> = BTreeMap::new();
    for &m in members {
        for &(t, w) in vectors[m as usize].entries() {
            *weight.entry(t).or_default() += w;
        }
    }
    let mut ranked: Vec<(u32, f64)> = weight.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let words: Vec<&str> =
        ranked.iter().filter_map(|(t, _)| embedder.term(*t)).filter(|w| !TYPES.contains(w)).take(3).collect();
    if words.is_empty() { "misc".to_owned() } else { words.join("-") }
}

fn sizes(parts: &[Vec<u32>]) -> SizeSummary {
    let mut s: Vec<usize> = parts.iter().map(Vec::len).collect();
    s.sort_unstable();
    let at = |q: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let i = ((s.len() as f64 - 1.0) * q).round() as usize;
        s.get(i).copied().unwrap_or(0)
    };
    let mut histogram = BTreeMap::new();
    for &size in &s {
        let bucket = match size {
            0..=4 => "3-4",
            5..=9 => "5-9",
            10..=19 => "10-19",
            20..=49 => "20-49",
            _ => "50+",
        };
        *histogram.entry(bucket.to_owned()).or_default() += 1;
    }
    SizeSummary { min: at(0.0), median: at(0.5), p90: at(0.9), max: at(1.0), histogram }
}

/// A provenance field of a tool, as a label: `provider`, `service`, `format`, `source`,
/// `method`, or `category` (the first of `categories`). `None` for an unknown field.
#[must_use]
pub fn label_of(p: &Provenance, field: &str) -> Option<String> {
    Some(match field {
        "provider" => p.provider.clone(),
        "service" => p.service.clone().unwrap_or_else(|| p.provider.clone()),
        "format" => p.format.clone(),
        "source" => p.source.clone(),
        "method" => p.method.clone().unwrap_or_default(),
        "category" | "categories" => p.categories.first().cloned().unwrap_or_else(|| "uncategorized".to_owned()),
        _ => return None,
    })
}

/// NMI and ARI between the domains and a provenance field over the tools in domains, or
/// `None` for an unknown field.
#[must_use]
pub fn agreement(tools: &[ToolProfile], domains: &[Domain], field: &str) -> Option<LabelAgreement> {
    let by_id: BTreeMap<&str, &ToolProfile> = tools.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut truth = Vec::new();
    let mut found = Vec::new();
    for (d, domain) in domains.iter().enumerate() {
        for id in &domain.tools {
            let tool = by_id.get(id.as_str())?;
            let label = label_of(&tool.provenance, field)?;
            let next = classes.len();
            truth.push(*classes.entry(label).or_insert(next));
            found.push(d);
        }
    }
    if found.is_empty() {
        return label_of(&tools.first()?.provenance, field).map(|_| LabelAgreement::default());
    }
    Some(LabelAgreement {
        nmi: leiden_rs::nmi(&found, &truth),
        ari: leiden_rs::ari(&found, &truth),
        classes: classes.len(),
    })
}
