//! Seeded, schema-valid, referentially consistent records, with values chosen by field
//! name, format and enum.

use crate::infer::{Collection, Field};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use worldsmith_core::rng::SplitMix64;

const FIRST: &[&str] =
    &["Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Iker", "Juno", "Kofi", "Lena"];
const LAST: &[&str] =
    &["Okafor", "Lindqvist", "Moreau", "Tanaka", "Alvarez", "Novak", "Haddad", "Kowalski", "Singh", "Reyes"];
const CITIES: &[&str] =
    &["Lisbon", "Nairobi", "Osaka", "Toronto", "Lyon", "Austin", "Pune", "Tallinn", "Quito", "Perth"];
const WORDS: &[&str] =
    &["alpha", "bright", "cedar", "delta", "ember", "fjord", "granite", "harbor", "indigo", "juniper"];
const STATUSES: &[&str] = &["active", "pending", "inactive"];

/// The keys of a collection: `1..=n` for numeric keys, `PREFIX-0001...` otherwise.
#[must_use]
pub fn keys(c: &Collection, n: usize) -> Vec<String> {
    (1..=n).map(|i| if c.numeric_key { i.to_string() } else { format!("{}-{i:04}", key_prefix(c)) }).collect()
}

/// The prefix of a collection's generated keys: its first four letters, upper case.
pub fn key_prefix(c: &Collection) -> String {
    let letters: String = c.name.chars().filter(char::is_ascii_alphabetic).take(4).collect();
    if letters.is_empty() { "K".to_owned() } else { letters.to_ascii_uppercase() }
}

/// A key value as an argument of a parameter of `kind`.
#[must_use]
pub fn key_value(key: &str, kind: &str) -> Value {
    match kind {
        "integer" | "number" => key.parse::<i64>().map_or_else(|_| json!(key), |n| json!(n)),
        _ => json!(key),
    }
}

/// A value for a field, by name, format and enum (`k` varies it).
pub fn value(name: &str, field: &Field, k: usize, rng: &mut SplitMix64) -> Value {
    if field.kind == "array" {
        // One or two items: of the enum's values, else of the item type.
        let item = Field {
            kind: field
                .item
                .clone()
                .unwrap_or_else(|| if field.choices.is_empty() { "string" } else { "any" }.to_owned()),
            format: field.format.clone(),
            choices: field.choices.clone(),
            item: None,
        };
        if field.item.is_none() && field.choices.is_empty() {
            // Items of an unknown or structured type: a small object.
            return json!([value(name, &Field { kind: "object".into(), ..item }, k, rng)]);
        }
        let n = 1 + rng.below(2) as usize;
        let mut items: Vec<Value> = (0..n).map(|i| value(name, &item, k + i, rng)).collect();
        items.dedup();
        return Value::Array(items);
    }
    if !field.choices.is_empty() {
        return field.choices[rng.below(field.choices.len() as u64) as usize].clone();
    }
    let n = name.to_ascii_lowercase();
    let pick = |rng: &mut SplitMix64, list: &[&str]| list[rng.below(list.len() as u64) as usize].to_owned();
    match field.kind.as_str() {
        "boolean" => json!(rng.below(2) == 0),
        "integer" => {
            let max =
                if ["count", "quantity", "qty", "age", "size", "number", "limit", "page"].iter().any(|w| n.contains(w))
                {
                    20
                } else {
                    1000
                };
            json!(1 + rng.below(max))
        }
        "number" => {
            if n.contains("lat") {
                json!(((rng.unit() * 180.0 - 90.0) * 1e4).round() / 1e4)
            } else if n.contains("lon") || n.contains("lng") {
                json!(((rng.unit() * 360.0 - 180.0) * 1e4).round() / 1e4)
            } else {
                json!((rng.unit() * 500.0 * 100.0).round() / 100.0 + 1.0)
            }
        }
        "array" => json!([]),
        // Free-form objects (their properties are not kept): a label, so writes change them.
        "object" => json!({"label": format!("{}-{k}", pick(rng, WORDS))}),
        _ => {
            let format = field.format.as_deref().unwrap_or("");
            let first = pick(rng, FIRST);
            let last = pick(rng, LAST);
            let day = 1 + rng.below(28);
            let month = 1 + rng.below(12);
            if format == "email" || n.contains("email") {
                json!(format!("{}.{}{k}@example.test", first.to_lowercase(), last.to_lowercase()))
            } else if format == "date-time"
                || n.ends_with("_at")
                || n.ends_with("at") && n.len() > 4 && name.ends_with("At")
                || n.contains("time")
            {
                json!(format!("2026-{month:02}-{day:02}T{:02}:{:02}:00Z", rng.below(24), rng.below(60)))
            } else if format == "date" || n.contains("date") || n.contains("birthday") {
                json!(format!("2026-{month:02}-{day:02}"))
            } else if format == "uuid" || n.contains("uuid") || n.contains("guid") {
                json!(format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    rng.next_u64() as u32,
                    rng.below(65536),
                    rng.below(4096),
                    rng.below(4096),
                    rng.next_u64() & 0xffff_ffff_ffff
                ))
            } else if format == "uri"
                || format == "url"
                || n.ends_with("url")
                || n.ends_with("uri")
                || n.contains("link")
            {
                json!(format!("https://example.test/{n}/{k}"))
            } else if n.contains("phone") {
                json!(format!("+1-555-01{:02}", rng.below(100)))
            } else if n.contains("first") {
                json!(first)
            } else if n.contains("last") || n.contains("surname") {
                json!(last)
            } else if n.contains("name") || n.contains("title") || n.contains("author") {
                json!(format!("{first} {last}"))
            } else if n.contains("city") {
                json!(pick(rng, CITIES))
            } else if n.contains("country") {
                json!(pick(rng, &["PT", "KE", "JP", "CA", "FR", "US", "IN", "EE"]))
            } else if n.contains("currency") {
                json!(pick(rng, &["USD", "EUR", "JPY", "GBP"]))
            } else if n.contains("status") || n.contains("state") {
                json!(pick(rng, STATUSES))
            } else if n.contains("zip") || n.contains("postal") {
                json!(format!("{:05}", rng.below(100_000)))
            } else if ["description", "summary", "comment", "note", "text", "message", "body", "content"]
                .iter()
                .any(|w| n.contains(w))
            {
                json!(format!("{} {} {} note {k}", pick(rng, WORDS), pick(rng, WORDS), pick(rng, WORDS)))
            } else {
                json!(format!("{}-{}", pick(rng, WORDS), k))
            }
        }
    }
}

/// Generates `n` records per collection; foreign keys point at generated keys of their
/// target (never dangling). Returns collection -> key -> record.
#[must_use]
pub fn generate(collections: &[Collection], n: usize, seed: u64) -> BTreeMap<String, BTreeMap<String, Value>> {
    let all_keys: BTreeMap<&str, Vec<String>> = collections.iter().map(|c| (c.name.as_str(), keys(c, n))).collect();
    let mut out = BTreeMap::new();
    for c in collections {
        let mut rng = SplitMix64::for_stream(seed, &c.name);
        let mut records = BTreeMap::new();
        for (k, key) in all_keys[c.name.as_str()].iter().enumerate() {
            let mut record = Map::new();
            for (name, field) in &c.fields {
                let v = if let Some(target) = c.foreign_keys.get(name) {
                    // The last records of a collection are never referred to, so a delete
                    // has records it may remove.
                    let targets = &all_keys[target.as_str()];
                    let referable = if targets.len() > 5 { targets.len() - 3 } else { targets.len() };
                    key_value(&targets[rng.below(referable as u64) as usize], &field.kind)
                } else if (*name == c.key || name == "id")
                    && matches!(field.kind.as_str(), "string" | "integer" | "number")
                {
                    // The record's own id, in the field's type (a number field of a
                    // collection with text keys gets the record's position).
                    match key_value(key, &field.kind) {
                        Value::String(_) if matches!(field.kind.as_str(), "integer" | "number") => json!(k + 1),
                        v => v,
                    }
                } else {
                    value(name, field, k + 1, &mut rng)
                };
                record.insert(name.clone(), v);
            }
            records.insert(key.clone(), Value::Object(record));
        }
        out.insert(c.name.clone(), records);
    }
    out
}
