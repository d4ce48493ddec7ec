//! Conversion between JSON (`serde_json::Value`) and Starlark values, both ways, and their
//! comparison without conversion, bounded so a value that contains itself is an error.

use serde_json::Value as Json;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, Value, ValueLike};
use worldsmith_core::canonical::json_eq;

/// The deepest nesting a script value may have to become JSON (deeper means it most likely
/// contains itself: `l.append(l)`).
const MAX_JSON_DEPTH: usize = 128;
/// About how many bytes of JSON a script value may become (shared parts count each time).
const MAX_JSON_BYTES: usize = 256 << 20;

/// Converts a Starlark value to JSON directly (dicts with string keys, lists, tuples,
/// strings, ints, floats, bools, None, structs), falling back to starlark's serializer for
/// anything else (big ints). Faster than the generic serializer, which goes through
/// `erased_serde`. A value that contains itself, nests deeper than `MAX_JSON_DEPTH` or
/// would expand past `MAX_JSON_BYTES` is an error, not a stack overflow.
pub(super) fn to_json(v: Value<'_>) -> anyhow::Result<Json> {
    let mut budget = MAX_JSON_BYTES;
    to_json_at(v, 0, &mut budget)
}

fn to_json_at(v: Value<'_>, depth: usize, budget: &mut usize) -> anyhow::Result<Json> {
    let mut spend = |n: usize| -> anyhow::Result<()> {
        *budget = budget.checked_sub(n).ok_or_else(|| {
            anyhow::anyhow!("the value is larger than {MAX_JSON_BYTES} bytes as JSON (does it repeat a big part?)")
        })?;
        Ok(())
    };
    spend(8)?;
    if v.is_none() {
        return Ok(Json::Null);
    }
    if let Some(b) = v.unpack_bool() {
        return Ok(Json::Bool(b));
    }
    if let Some(i) = v.unpack_i32() {
        return Ok(Json::from(i));
    }
    if let Some(s) = v.unpack_str() {
        spend(s.len())?;
        return Ok(Json::String(s.to_owned()));
    }
    if let Some(f) = v.downcast_ref::<starlark::values::float::StarlarkFloat>() {
        return serde_json::Number::from_f64(f.0)
            .map(Json::Number)
            .ok_or_else(|| anyhow::anyhow!("{} is not a JSON number", f.0));
    }
    let nested = |x: Value<'_>, budget: &mut usize| {
        if depth >= MAX_JSON_DEPTH {
            Err(anyhow::anyhow!("the value nests deeper than {MAX_JSON_DEPTH} levels (does it contain itself?)"))
        } else {
            to_json_at(x, depth + 1, budget)
        }
    };
    if let Some(d) = DictRef::from_value(v) {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, x) in d.iter() {
            let key = k
                .unpack_str()
                .ok_or_else(|| anyhow::anyhow!("dict keys must be strings to be JSON, got {}", k.get_type()))?;
            map.insert(key.to_owned(), nested(x, budget)?);
        }
        return Ok(Json::Object(map));
    }
    if let Some(l) = ListRef::from_value(v) {
        return l.content().iter().map(|x| nested(*x, budget)).collect::<anyhow::Result<Vec<_>>>().map(Json::Array);
    }
    if let Some(t) = TupleRef::from_value(v) {
        return t.content().iter().map(|x| nested(*x, budget)).collect::<anyhow::Result<Vec<_>>>().map(Json::Array);
    }
    if let Some(st) = starlark::values::structs::StructRef::from_value(v) {
        let mut map = serde_json::Map::with_capacity(st.iter().len());
        for (k, x) in st.iter() {
            map.insert(k.as_str().to_owned(), nested(x, budget)?);
        }
        return Ok(Json::Object(map));
    }
    v.to_json_value()
}

/// Converts JSON to a Starlark value. Numbers that fit no Starlark number (`1e400`, an
/// integer of 400 digits) are an error, where starlark's own conversion panics.
pub(super) fn from_json<'v>(heap: Heap<'v>, j: &Json) -> anyhow::Result<Value<'v>> {
    Ok(match j {
        Json::Null => Value::new_none(),
        Json::Bool(b) => Value::new_bool(*b),
        Json::String(s) => heap.alloc_str(s).to_value(),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                heap.alloc(i)
            } else if let Some(u) = n.as_u64() {
                heap.alloc(u)
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() => heap.alloc(f),
                    _ => {
                        return Err(anyhow::anyhow!(
                            "number {} is out of range",
                            crate::error::quote_prefix(&n.to_string())
                        ));
                    }
                }
            }
        }
        Json::Array(items) => {
            let values = items.iter().map(|x| from_json(heap, x)).collect::<anyhow::Result<Vec<_>>>()?;
            heap.alloc(values)
        }
        Json::Object(map) => {
            let mut pairs = Vec::with_capacity(map.len());
            for (k, x) in map {
                pairs.push((heap.alloc_str(k).to_value(), from_json(heap, x)?));
            }
            heap.alloc(AllocDict(pairs))
        }
    })
}

/// Whether a Starlark value equals a JSON value (numbers by value, as `json_eq`), without
/// building JSON: most records a call reads come back unchanged.
pub(super) fn same_as_json(v: Value<'_>, j: &Json) -> bool {
    match j {
        Json::Null => v.is_none(),
        Json::Bool(b) => v.unpack_bool() == Some(*b),
        Json::String(s) => v.unpack_str() == Some(s.as_str()),
        Json::Number(n) => {
            let mine = if let Some(i) = v.unpack_i32() {
                serde_json::Number::from(i)
            } else if let Some(f) = v.downcast_ref::<starlark::values::float::StarlarkFloat>() {
                match serde_json::Number::from_f64(f.0) {
                    Some(n) => n,
                    None => return false,
                }
            } else {
                return to_json(v).is_ok_and(|x| json_eq(&x, j));
            };
            worldsmith_core::canonical::number_eq(&mine, n)
        }
        Json::Array(items) => match ListRef::from_value(v) {
            Some(l) => l.len() == items.len() && l.content().iter().zip(items).all(|(x, y)| same_as_json(*x, y)),
            None => false,
        },
        Json::Object(map) => match DictRef::from_value(v) {
            Some(d) => {
                d.len() == map.len() && map.iter().all(|(k, y)| d.get_str(k).is_some_and(|x| same_as_json(x, y)))
            }
            None => false,
        },
    }
}
