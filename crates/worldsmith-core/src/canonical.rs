//! Canonical JSON and value equality.
//!
//! The canonical form of a JSON value is the input of every record hash, so it is fixed:
//!
//! - object keys sorted by their UTF-8 bytes, no whitespace anywhere;
//! - strings escaped as `serde_json` escapes them;
//! - numbers by value: an integral number (whether written `3`, `3.0` or `3e0`) whose
//!   magnitude is below 2^63 is printed as a plain integer; any other number is printed in the
//!   shortest form that reads back to the same double (`ryu`'s form, e.g. `0.1`, `1e30`).
//!
//! [`json_eq`] compares two values by the same rule, so `json_eq(a, b)` holds exactly when
//! `canonical_json(a) == canonical_json(b)`.

use serde_json::{Number, Value};
use std::cmp::Ordering;

/// A JSON number reduced to its value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NumberValue {
    /// An integral value that fits in 64 bits (signed or unsigned).
    Int(i128),
    /// Any other value, as the nearest double.
    Float(f64),
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

fn number_value(n: &Number) -> NumberValue {
    if let Some(i) = n.as_i64() {
        return NumberValue::Int(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return NumberValue::Int(i128::from(u));
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.is_finite() && f.fract() == 0.0 && f.abs() < TWO_POW_63 {
        // Exact: an integral double below 2^63 converts to i64 without loss.
        #[allow(clippy::cast_possible_truncation)]
        return NumberValue::Int(i128::from(f as i64));
    }
    NumberValue::Float(f)
}

/// Where canonical text goes: a `String`, or straight into a hasher.
pub trait Sink {
    /// Appends text.
    fn push_str(&mut self, s: &str);
    /// Appends one ASCII character.
    fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
}

/// Appends the canonical text of a number to `out`.
fn write_number(n: &Number, out: &mut impl Sink) {
    match number_value(n) {
        NumberValue::Int(i) => {
            // Integers print without allocating: at most 40 digits and a sign.
            let mut buf = [0u8; 41];
            let mut n = i.unsigned_abs();
            let mut at = buf.len();
            loop {
                at -= 1;
                buf[at] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            if i < 0 {
                at -= 1;
                buf[at] = b'-';
            }
            out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or("0"));
        }
        NumberValue::Float(f) if f.is_finite() => out.push_str(ryu::Buffer::new().format_finite(f)),
        // Only reachable with arbitrary-precision numbers too large for a double.
        NumberValue::Float(_) => out.push_str(&n.to_string()),
    }
}

fn write_string(s: &str, out: &mut impl Sink) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        // Nothing to escape: the common case, without an allocation.
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        // serde_json's string escaping is the canonical one; a `String` never fails to serialize.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Appends the canonical JSON text of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut impl Sink) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
    }
}

/// The canonical JSON text of `value` (see the module documentation).
#[must_use]
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// Whether two numbers have the same value (`3` equals `3.0`).
#[must_use]
pub fn number_eq(a: &Number, b: &Number) -> bool {
    match (number_value(a), number_value(b)) {
        (NumberValue::Int(x), NumberValue::Int(y)) => x == y,
        (NumberValue::Float(x), NumberValue::Float(y)) => {
            x == y || (x.is_nan() && y.is_nan() && a.to_string() == b.to_string())
        }
        _ => false,
    }
}

/// Deep equality of JSON values with numbers compared by value and object keys in any order.
#[must_use]
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Calls `found` with the JSON pointer (relative to the values) of every place where two
/// values differ, in sorted key order: a leaf that changed, a field present on one side
/// only, or an array whose length changed (one place, the array). Stops early when `found`
/// returns `false`.
pub fn walk_differences(a: &Value, b: &Value, found: &mut impl FnMut(&str) -> bool) {
    fn escape(k: &str) -> std::borrow::Cow<'_, str> {
        if k.contains(['~', '/']) { k.replace('~', "~0").replace('/', "~1").into() } else { k.into() }
    }
    // Returns false once `found` asked to stop.
    fn go(a: &Value, b: &Value, path: &mut String, found: &mut impl FnMut(&str) -> bool) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort_unstable();
                keys.dedup();
                for k in keys {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&escape(k));
                    let more = match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => go(p, q, path, found),
                        _ => found(path),
                    };
                    path.truncate(len);
                    if !more {
                        return false;
                    }
                }
                true
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    let more = go(p, q, path, found);
                    path.truncate(len);
                    if !more {
                        return false;
                    }
                }
                true
            }
            _ => json_eq(a, b) || found(path),
        }
    }
    go(a, b, &mut String::new(), found);
}

/// The first place where two values differ (see [`walk_differences`]), or `None` when
/// they are equal by [`json_eq`].
#[must_use]
pub fn first_difference(a: &Value, b: &Value) -> Option<String> {
    let mut first = None;
    walk_differences(a, b, &mut |at| {
        first = Some(at.to_owned());
        false
    });
    first
}

/// Every place where two values differ (see [`walk_differences`]).
#[must_use]
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut all = Vec::new();
    walk_differences(a, b, &mut |at| {
        all.push(at.to_owned());
        true
    });
    all
}

/// A total order on JSON values consistent with [`json_eq`]: null < booleans < numbers <
/// strings < arrays < objects; numbers by value, strings by bytes, containers element-wise
/// (objects by their sorted entries). Used wherever records are sorted by a field.
#[must_use]
pub fn json_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (number_value(x), number_value(y)) {
            (NumberValue::Int(p), NumberValue::Int(q)) => p.cmp(&q),
            (p, q) => {
                let f = |n: NumberValue| match n {
                    #[allow(clippy::cast_precision_loss)]
                    NumberValue::Int(i) => i as f64,
                    NumberValue::Float(f) => f,
                };
                f(p).total_cmp(&f(q))
            }
        },
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                match json_cmp(p, q) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(_), Value::Object(_)) => canonical_json(a).cmp(&canonical_json(b)),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Whether the scalar `needle` occurs anywhere inside `haystack` (numbers by value).
#[must_use]
pub fn contains_scalar(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|v| contains_scalar(v, needle)),
        Value::Object(map) => map.values().any(|v| contains_scalar(v, needle)),
        scalar => json_eq(scalar, needle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_canonical_by_value() {
        let v: Value = serde_json::from_str(r#"[3, 3.0, 3e0, -0.0, 0.1, 1e30, 12.50, 9007199254740993]"#).unwrap();
        assert_eq!(canonical_json(&v), "[3,3,3,0,0.1,1e30,12.5,9007199254740993]");
    }

    #[test]
    fn keys_are_sorted_and_nested() {
        let v = json!({"z": {"b": 1, "a": [true, null]}, "a": "é\n"});
        assert_eq!(canonical_json(&v), r#"{"a":"é\n","z":{"a":[true,null],"b":1}}"#);
    }

    #[test]
    fn equality_ignores_key_order_and_number_spelling() {
        let a: Value = serde_json::from_str(r#"{"a": 1.0, "b": [2, {"c": 0.5}]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b": [2.0, {"c": 5e-1}], "a": 1}"#).unwrap();
        assert!(json_eq(&a, &b));
        assert_eq!(first_difference(&a, &b), None);
        let c = json!({"b": [2, {"c": 0.25}], "a": 1});
        assert_eq!(first_difference(&a, &c).as_deref(), Some("/b/1/c"));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }

    #[test]
    fn differences_list_every_changed_place() {
        let a = json!({"s": "x", "n": {"a": 1, "b": [1, 2]}, "gone": 1, "l": [1]});
        let b = json!({"s": "x", "n": {"a": 2, "b": [1, 3]}, "new": 1, "l": [1, 2]});
        assert_eq!(differences(&a, &b), ["/gone", "/l", "/n/a", "/n/b/1", "/new"]);
        assert_eq!(first_difference(&a, &b).as_deref(), Some("/gone"));
        assert!(differences(&a, &a).is_empty());
    }

    #[test]
    fn ordering_is_by_value() {
        assert_eq!(json_cmp(&json!(2), &json!(10.5)), Ordering::Less);
        assert_eq!(json_cmp(&json!("b"), &json!("a")), Ordering::Greater);
        assert_eq!(json_cmp(&json!(null), &json!(false)), Ordering::Less);
        assert_eq!(json_cmp(&json!(3), &json!(3.0)), Ordering::Equal);
    }

    proptest::proptest! {
        #[test]
        fn canonical_text_round_trips(x in proptest::num::f64::NORMAL, i in proptest::num::i64::ANY) {
            let v = json!({"f": x, "i": i});
            let text = canonical_json(&v);
            let back: Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert!(json_eq(&v, &back));
            proptest::prop_assert_eq!(canonical_json(&back), text);
        }
    }
}
