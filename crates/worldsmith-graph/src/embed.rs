//! A small offline text embedding for tools: an identifier-aware bag of words with TF-IDF
//! weights, compared by cosine similarity.
//!
//! Identifiers are split the way people read them: `getOrderPayments`, `get_order_payments`
//! and `get-order-payments` all give `get order payment`. Tokens are lower-cased, plural `s`
//! is stripped, digits and a few function words are dropped. A tool's text is its name
//! (counted twice: names are the strongest signal), its description, and its parameters'
//! names and descriptions ([`tool_text`]).
//!
//! ```
//! use serde_json::json;
//! use worldsmith_graph::embed::{Embedder, tool_text};
//!
//! let params = json!({"type": "object", "properties": {"orderId": {"type": "string"}}});
//! let docs = [
//!     tool_text("cancel_order", "Cancel an order.", &params),
//!     tool_text("cancelOrder", "Cancels an order that has not shipped.", &params),
//!     tool_text("get_weather", "Today's forecast for a city.", &json!({})),
//! ];
//! let embedder = Embedder::fit(docs.iter().map(String::as_str));
//! let v: Vec<_> = docs.iter().map(|d| embedder.embed(d)).collect();
//! assert!(v[0].cosine(&v[1]) > 0.8);
//! assert!(v[0].cosine(&v[2]) < 0.1);
//! ```

use serde_json::Value;
use std::collections::BTreeMap;

/// Words too common to tell tools apart.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "can",
    "do",
    "does",
    "e",
    "eg",
    "for",
    "from",
    "g",
    "given",
    "has",
    "have",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "may",
    "must",
    "no",
    "not",
    "of",
    "on",
    "one",
    "only",
    "or",
    "otherwise",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "this",
    "those",
    "to",
    "up",
    "use",
    "when",
    "which",
    "who",
    "with",
    "without",
];

/// Splits text and identifiers into lower-case word tokens (see the module documentation).
#[must_use]
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            let lower = word.to_lowercase();
            word.clear();
            if lower.chars().all(|c| c.is_ascii_digit()) || lower.chars().count() < 2 {
                return;
            }
            let stem = stem(&lower);
            if !STOPWORDS.contains(&stem.as_str()) {
                out.push(stem);
            }
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut out);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() != c.is_alphabetic());
            if boundary {
                flush(&mut word, &mut out);
            }
        }
        word.push(c);
        prev = Some(c);
    }
    flush(&mut word, &mut out);
    out
}

/// A light plural stemmer: `payments` -> `payment`, `categories` -> `category`.
fn stem(word: &str) -> String {
    worldsmith_core::ident::singular(word)
}

/// The text a tool is embedded by: its name twice, its description, and each parameter's
/// name and description (top-level properties of the JSON Schema).
#[must_use]
pub fn tool_text(name: &str, description: &str, parameters: &Value) -> String {
    let mut text = format!("{name} {name} {description}");
    if let Some(props) = parameters.get("properties").and_then(Value::as_object) {
        for (param, schema) in props {
            text.push(' ');
            text.push_str(param);
            if let Some(d) = schema.get("description").and_then(Value::as_str) {
                text.push(' ');
                text.push_str(d);
            }
        }
    }
    text
}

/// The text of a tool's parameter list, as AgentScaler embeds it: each parameter's name,
/// JSON type and description (top-level properties, then one level into object and array
/// parameters).
#[must_use]
pub fn parameter_text(parameters: &Value) -> String {
    fn walk(schema: &Value, depth: usize, text: &mut String) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
        for (param, s) in props {
            text.push(' ');
            text.push_str(param);
            if let Some(t) = s.get("type") {
                let t = match t {
                    Value::String(t) => t.clone(),
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
                    _ => String::new(),
                };
                text.push(' ');
                text.push_str(&t);
            }
            if let Some(d) = s.get("description").and_then(Value::as_str) {
                text.push(' ');
                text.push_str(d);
            }
            if depth < 1 {
                walk(s, depth + 1, text);
                if let Some(items) = s.get("items") {
                    walk(items, depth + 1, text);
                }
            }
        }
    }
    let mut text = String::new();
    walk(parameters, 0, &mut text);
    text
}

/// TF-IDF weights fitted on a pool of documents.
#[derive(Debug, Clone, Default)]
pub struct Embedder {
    vocabulary: BTreeMap<String, (u32, f64)>,
    /// Terms by index.
    terms: Vec<String>,
}

/// An L2-normalised sparse vector (term index -> weight), sorted by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embedding(Vec<(u32, f64)>);

impl Embedder {
    /// Fits inverse document frequencies on `documents`:
    /// `idf(t) = ln((1 + n) / (1 + df(t))) + 1`.
    pub fn fit<'a>(documents: impl IntoIterator<Item = &'a str>) -> Embedder {
        let mut df: BTreeMap<String, usize> = BTreeMap::new();
        let mut n = 0usize;
        for doc in documents {
            n += 1;
            let mut tokens = tokenize(doc);
            tokens.sort();
            tokens.dedup();
            for t in tokens {
                *df.entry(t).or_default() += 1;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let vocabulary = df
            .into_iter()
            .enumerate()
            .map(|(i, (t, d))| {
                (t, (u32::try_from(i).unwrap_or(u32::MAX), ((1 + n) as f64 / (1 + d) as f64).ln() + 1.0))
            })
            .collect::<BTreeMap<String, (u32, f64)>>();
        let terms = vocabulary.keys().cloned().collect();
        Embedder { vocabulary, terms }
    }

    /// The term with this index.
    #[must_use]
    pub fn term(&self, index: u32) -> Option<&str> {
        self.terms.get(index as usize).map(String::as_str)
    }

    /// The number of distinct terms.
    #[must_use]
    pub fn len(&self) -> usize {
        self.vocabulary.len()
    }

    /// Whether no term was seen.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.vocabulary.is_empty()
    }

    /// Embeds a text: `(1 + ln tf) * idf` per known term, L2-normalised. Terms not seen
    /// while fitting are ignored.
    #[must_use]
    pub fn embed(&self, text: &str) -> Embedding {
        let mut tf: BTreeMap<u32, (usize, f64)> = BTreeMap::new();
        for t in tokenize(text) {
            if let Some(&(i, idf)) = self.vocabulary.get(&t) {
                tf.entry(i).or_insert((0, idf)).0 += 1;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let mut v: Vec<(u32, f64)> = tf.into_iter().map(|(i, (c, idf))| (i, (1.0 + (c as f64).ln()) * idf)).collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        Embedding(v)
    }
}

impl Embedding {
    /// Cosine similarity (both vectors are normalised, so the dot product); 0 when either
    /// is empty.
    #[must_use]
    pub fn cosine(&self, other: &Embedding) -> f64 {
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].0.cmp(&other.0[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += self.0[i].1 * other.0[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        dot
    }

    /// Whether the vector has no terms.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The (term index, weight) entries, sorted by index.
    #[must_use]
    pub fn entries(&self) -> &[(u32, f64)] {
        &self.0
    }
}

/// Rescales scores to `[0, 1]` by `(s - min) / (max - min)`; all zeros when they are equal.
pub fn min_max_normalise(scores: &mut [f64]) {
    let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = max - min;
    for s in scores {
        *s = if span > 0.0 { (*s - min) / span } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_like_words() {
        assert_eq!(tokenize("getOrderPayments"), ["get", "order", "payment"]);
        assert_eq!(tokenize("get_order_payments"), ["get", "order", "payment"]);
        assert_eq!(tokenize("HTTPServer2Status"), ["http", "server", "status"]);
        assert_eq!(tokenize("List the categories of a user's 3 orders."), ["list", "category", "user", "order"]);
    }

    #[test]
    fn normalisation() {
        let mut s = [2.0, 4.0, 3.0];
        min_max_normalise(&mut s);
        assert_eq!(s, [0.0, 1.0, 0.5]);
        let mut same = [1.0, 1.0];
        min_max_normalise(&mut same);
        assert_eq!(same, [0.0, 0.0]);
    }

    #[test]
    fn idf_favours_rare_terms() {
        let docs = ["get order", "get customer", "get refund"];
        let e = Embedder::fit(docs);
        let a = e.embed("get order");
        let b = e.embed("get customer");
        let c = e.embed("order");
        assert!(a.cosine(&c) > a.cosine(&b));
        assert!((a.cosine(&a) - 1.0).abs() < 1e-9);
    }
}
