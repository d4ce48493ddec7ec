//! Declarative operations: get, list, search, create, update, delete.

use crate::manifest::{FilterOp, Op};
use crate::schema::{FieldPath, Schema};
use crate::state::State;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use worldsmith_core::canonical::{json_cmp, json_eq};

const DEFAULT_LIMIT: usize = 100;

/// A record as a tool returns it: the key under the collection's key name first (unless the
/// record already has that field), then the record's fields.
#[must_use]
pub fn with_key(key_name: &str, key: &str, record: &Value) -> Value {
    match record {
        Value::Object(fields) if !fields.contains_key(key_name) => {
            let mut out = Map::with_capacity(fields.len() + 1);
            out.insert(key_name.to_owned(), Value::String(key.to_owned()));
            out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn key_arg<'a>(op_key: Option<&'a String>, schema: &'a Schema, collection: &str) -> &'a str {
    op_key.map_or_else(|| schema.collection(collection).map_or("id", |c| c.key.as_str()), String::as_str)
}

/// The argument names an operation reads (for load-time checks).
#[must_use]
pub fn argument_names(op: &Op, schema: &Schema) -> Vec<String> {
    match op {
        Op::Get { collection, key } | Op::Delete { collection, key, .. } | Op::Update { collection, key, .. } => {
            vec![key_arg(key.as_ref(), schema, collection).to_owned()]
        }
        Op::List { filters, .. } => filters.values().cloned().collect(),
        Op::Search { filters, .. } => filters.iter().map(|f| f.arg.clone()).collect(),
        Op::Create { key, .. } => key.iter().cloned().collect(),
    }
}

fn key_value(args: &Map<String, Value>, name: &str) -> Result<String, String> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => {
            Err(format!("`{name}` must be a string key, got {}", crate::error::quote_prefix(&other.to_string())))
        }
        None => Err(format!("missing argument `{name}`")),
    }
}

fn check_require(collection: &str, key: &str, record: &Value, require: &Map<String, Value>) -> Result<(), String> {
    for (field, allowed) in require {
        let path = FieldPath::parse(field)?;
        let got = path.value(record).unwrap_or(&Value::Null);
        let ok = match allowed {
            Value::Array(options) => options.iter().any(|o| json_eq(o, got)),
            one => json_eq(one, got),
        };
        if !ok {
            let got = got.to_string();
            return Err(format!(
                "{collection} `{key}` has {field} {}, but this requires {allowed}",
                crate::error::quote_prefix(&got)
            ));
        }
    }
    Ok(())
}

fn filter_matches(op: FilterOp, got: &Value, want: &Value) -> bool {
    let lower = |v: &Value| v.as_str().map(str::to_lowercase);
    match op {
        FilterOp::Eq => json_eq(got, want),
        FilterOp::Ne => !json_eq(got, want),
        FilterOp::Lt => json_cmp(got, want) == Ordering::Less && same_kind(got, want),
        FilterOp::Le => json_cmp(got, want) != Ordering::Greater && same_kind(got, want),
        FilterOp::Gt => json_cmp(got, want) == Ordering::Greater && same_kind(got, want),
        FilterOp::Ge => json_cmp(got, want) != Ordering::Less && same_kind(got, want),
        FilterOp::Contains => match (got, lower(want)) {
            (Value::String(s), Some(w)) => s.to_lowercase().contains(&w),
            (Value::Array(items), _) => items.iter().any(|i| json_eq(i, want)),
            _ => false,
        },
        FilterOp::Prefix => match (lower(got), lower(want)) {
            (Some(s), Some(w)) => s.starts_with(&w),
            _ => false,
        },
        FilterOp::In => want.as_array().is_some_and(|options| options.iter().any(|o| json_eq(o, got))),
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Number(_), Value::Number(_)) | (Value::String(_), Value::String(_)))
}

fn fields_from_args(
    args: &Map<String, Value>,
    only: Option<&Vec<String>>,
    key_arg: Option<&str>,
) -> Map<String, Value> {
    args.iter()
        .filter(|(k, _)| Some(k.as_str()) != key_arg && only.is_none_or(|o| o.contains(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The records that may match a set of equality filters: those an index returns for the
/// first indexed filter, else every record; in insertion order either way. The caller still
/// applies every filter.
fn candidates<'s, 'p>(
    state: &'s State,
    collection: &str,
    equalities: impl IntoIterator<Item = (&'p FieldPath, &'p Value)>,
) -> Vec<(&'s str, &'s crate::state::Record)> {
    for (path, want) in equalities {
        if let Some(hits) = state.find_eq(collection, path.as_str(), want) {
            return hits;
        }
    }
    state.scan(collection).collect()
}

/// Runs `op` on `state` with validated `args`. Returns the result and the (collection, key)
/// of every record written. On error the caller discards `state`.
///
/// # Errors
/// A message for the agent: a missing record, an unmet precondition, a taken key.
pub fn run(
    op: &Op,
    schema: &Schema,
    state: &mut State,
    args: &Map<String, Value>,
) -> Result<(Value, Vec<(String, String)>), String> {
    let name = op.collection();
    let key_name = schema.collection(name).map_or("id", |c| c.key.as_str());
    let not_found = |key: &str| format!("{name} `{}` not found", crate::error::quote_prefix(key));
    match op {
        Op::Get { key, .. } => {
            let k = key_value(args, key_arg(key.as_ref(), schema, name))?;
            let record = state.get(name, &k).ok_or_else(|| not_found(&k))?;
            Ok((with_key(key_name, &k, record), vec![]))
        }
        Op::List { filters, limit, .. } => {
            let mut compiled = Vec::new();
            for (field, arg) in filters {
                if let Some(want) = args.get(arg) {
                    compiled.push((FieldPath::parse(field)?, want));
                }
            }
            let out: Vec<Value> = candidates(state, name, compiled.iter().map(|(p, want)| (p, *want)))
                .into_iter()
                .filter(|(_, r)| compiled.iter().all(|(p, want)| p.any(r, &mut |got| json_eq(got, want))))
                .take(limit.unwrap_or(DEFAULT_LIMIT))
                .map(|(k, r)| with_key(key_name, k, r))
                .collect();
            Ok((Value::Array(out), vec![]))
        }
        Op::Search { filters, sort_by, descending, limit, .. } => {
            let mut compiled = Vec::new();
            for f in filters {
                if let Some(want) = args.get(&f.arg) {
                    compiled.push((FieldPath::parse(&f.field)?, f.op, want));
                }
            }
            let equalities = compiled.iter().filter(|(_, op, _)| *op == FilterOp::Eq).map(|(p, _, want)| (p, *want));
            let mut hits: Vec<(&str, &Value)> = candidates(state, name, equalities)
                .into_iter()
                .filter(|(_, r)| {
                    compiled.iter().all(|(p, op, want)| p.any(r, &mut |got| filter_matches(*op, got, want)))
                })
                .map(|(k, r)| (k, &**r))
                .collect();
            if let Some(field) = sort_by {
                let path = FieldPath::parse(field)?;
                // A stable sort keeps insertion order among equal values.
                hits.sort_by(|a, b| {
                    let o = json_cmp(path.value(a.1).unwrap_or(&Value::Null), path.value(b.1).unwrap_or(&Value::Null));
                    if *descending { o.reverse() } else { o }
                });
            }
            let out =
                hits.into_iter().take(limit.unwrap_or(DEFAULT_LIMIT)).map(|(k, r)| with_key(key_name, k, r)).collect();
            Ok((Value::Array(out), vec![]))
        }
        Op::Create { key, key_prefix, fields, set, .. } => {
            let k = match key {
                Some(arg) => key_value(args, arg)?,
                None => {
                    let prefix = key_prefix.as_deref().unwrap_or("");
                    let mut n = state.len(name) + 1;
                    while state.contains(name, &format!("{prefix}{n}")) {
                        n += 1;
                    }
                    format!("{prefix}{n}")
                }
            };
            if state.contains(name, &k) {
                return Err(format!("{name} `{k}` already exists"));
            }
            let mut record = fields_from_args(args, fields.as_ref(), key.as_deref());
            record.extend(set.iter().map(|(f, v)| (f.clone(), v.clone())));
            let record = Value::Object(record);
            let result = with_key(key_name, &k, &record);
            state.put(name, &k, record).map_err(|e| e.to_string())?;
            Ok((result, vec![(name.to_owned(), k)]))
        }
        Op::Update { key, fields, set, require, .. } => {
            let arg = key_arg(key.as_ref(), schema, name);
            let k = key_value(args, arg)?;
            let old = state.get(name, &k).ok_or_else(|| not_found(&k))?;
            check_require(name, &k, old, require)?;
            let mut record = match &**old {
                Value::Object(m) => m.clone(),
                _ => return Err(format!("{name} `{k}` is not an object")),
            };
            record.extend(fields_from_args(args, fields.as_ref(), Some(arg)));
            record.extend(set.iter().map(|(f, v)| (f.clone(), v.clone())));
            let record = Value::Object(record);
            let result = with_key(key_name, &k, &record);
            state.put(name, &k, record).map_err(|e| e.to_string())?;
            Ok((result, vec![(name.to_owned(), k)]))
        }
        Op::Delete { key, require, .. } => {
            let k = key_value(args, key_arg(key.as_ref(), schema, name))?;
            let old = state.get(name, &k).ok_or_else(|| not_found(&k))?;
            check_require(name, &k, old, require)?;
            state.delete(name, &k);
            Ok((serde_json::json!({ "deleted": k }), vec![(name.to_owned(), k)]))
        }
    }
}
