//! Counted reasons: how many times each reason of a closed set occurred.
//!
//! A [`Tally`] counts values of a reason enum (`Rejection`, `Invalid`, `EndReason`...). It
//! serializes as a JSON object from each reason's name (its serde spelling) to its count,
//! sorted by name, and reads the same form back, so summaries stay readable with `jq` while
//! the code works with types, not strings. A reason may carry data (materialize counts a
//! tool's invalid arguments under the tool's name), so reasons need only be `Clone`.

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Counts per reason (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally<R: Ord>(BTreeMap<R, usize>);

impl<R: Ord> Default for Tally<R> {
    fn default() -> Tally<R> {
        Tally(BTreeMap::new())
    }
}

impl<R: Ord + Clone + Serialize> Tally<R> {
    /// Counts `reason` once.
    pub fn add(&mut self, reason: R) {
        self.add_n(reason, 1);
    }

    /// Counts `reason` `n` times.
    pub fn add_n(&mut self, reason: R, n: usize) {
        *self.0.entry(reason).or_default() += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Tally<R>) {
        for (r, n) in &other.0 {
            self.add_n(r.clone(), *n);
        }
    }

    /// The count of `reason`.
    #[must_use]
    pub fn get(&self, reason: R) -> usize {
        self.0.get(&reason).copied().unwrap_or(0)
    }

    /// The sum of all counts.
    #[must_use]
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each reason with its count, in the reasons' order.
    pub fn iter(&self) -> impl Iterator<Item = (R, usize)> + '_ {
        self.0.iter().map(|(r, n)| (r.clone(), *n))
    }

    /// Each reason's name with its count, sorted by name (the serialized order).
    #[must_use]
    pub fn named(&self) -> Vec<(String, usize)> {
        let mut named: Vec<(String, usize)> = self.0.iter().map(|(r, n)| (name_of(r), *n)).collect();
        named.sort();
        named
    }
}

/// A reason's serde name (`CallRefused` -> `call_refused`).
fn name_of<R: Serialize>(reason: &R) -> String {
    match serde_json::to_value(reason) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("<{e}>"),
    }
}

impl<R: Ord + Clone + Serialize> Serialize for Tally<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let named = self.named();
        let mut map = serializer.serialize_map(Some(named.len()))?;
        for (name, n) in &named {
            map.serialize_entry(name, n)?;
        }
        map.end()
    }
}

impl<'de, R: Ord + DeserializeOwned> Deserialize<'de> for Tally<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tally<R>, D::Error> {
        let named = BTreeMap::<String, usize>::deserialize(deserializer)?;
        let mut counts = BTreeMap::new();
        for (name, n) in named {
            let reason: R =
                serde_json::from_value(serde_json::Value::String(name)).map_err(serde::de::Error::custom)?;
            *counts.entry(reason).or_default() += n;
        }
        Ok(Tally(counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Why {
        Zeta,
        Alpha,
    }

    #[test]
    fn counts_serialize_by_name_and_read_back() {
        let mut t = Tally::default();
        t.add(Why::Zeta);
        t.add_n(Why::Alpha, 2);
        t.add(Why::Zeta);
        assert_eq!((t.get(Why::Zeta), t.total()), (2, 4));
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, r#"{"alpha":2,"zeta":2}"#);
        assert_eq!(serde_json::from_str::<Tally<Why>>(&text).unwrap(), t);
        assert!(serde_json::from_str::<Tally<Why>>(r#"{"beta":1}"#).is_err());
    }
}
