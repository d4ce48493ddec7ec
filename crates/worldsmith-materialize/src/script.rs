//! Generated Starlark tools, for what one declarative operation cannot do: a state
//! transition with its precondition, and list results shaped like the tool's response.
//!
//! Each script defines `run(**args)` (tool names may hold `-`, which Starlark identifiers
//! cannot), and names come in as JSON string literals, which Starlark reads the same way.

use crate::infer::{Collection, Wrap};
use serde_json::Value;
use std::fmt::Write as _;

/// A string literal for Starlark source.
fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The record key from the key argument (integer keys arrive as numbers).
fn key_line(key_arg: &str) -> String {
    format!("    key = str(args[{}])\n", lit(key_arg))
}

/// Moves the record under the key argument into `field = value`, refusing a missing record
/// or one already there; records the action in `last_action` and returns the record with
/// its key.
#[must_use]
pub fn transition(tool: &str, c: &Collection, key_arg: &str, field: &str, value: &Value) -> String {
    let value = value.to_string();
    let (coll, field_lit) = (lit(&c.name), lit(field));
    let mut s = format!(
        "# Generated: `{tool}` sets {field} to {value} on a {name} record.\n\ndef run(**args):\n",
        name = c.name
    );
    s.push_str(&key_line(key_arg));
    let _ = write!(
        s,
        "    record = db.get({coll}, key)
    if record == None:
        fail(\"no {name} record with {key} %s\" % key)
    if record.get({field_lit}) == {value}:
        fail(\"{name} record %s already has {field} {plain}\" % key)
    record[{field_lit}] = {value}
    record[\"last_action\"] = {tool_lit}
    out = dict(record)
    out[{key_lit}] = args[{key_arg_lit}]
    return out
",
        name = c.name,
        key = c.key,
        plain = value.trim_matches('"'),
        tool_lit = lit(tool),
        key_lit = lit(&c.key),
        key_arg_lit = lit(key_arg),
    );
    s
}

/// Lists the records matching the filters given (a filter whose argument is absent is
/// skipped), wrapped as the response describes: the records under `wrap.items`, their
/// number under each of `wrap.counts`.
#[must_use]
pub fn wrapped_list(tool: &str, c: &Collection, filters: &[(String, String)], wrap: &Wrap) -> String {
    let mut s = format!("# Generated: `{tool}` lists {} records, wrapped in an object.\n\ndef run(**args):\n", c.name);
    s.push_str("    query = {}\n");
    for (field, arg) in filters {
        let _ =
            writeln!(s, "    if args.get({a}) != None:\n        query[{f}] = args[{a}]", a = lit(arg), f = lit(field));
    }
    let _ = write!(
        s,
        "    records = []
    for key, record in db.scan({coll}, query):
        out = dict(record)
        out[{key}] = {key_value}
        records.append(out)
    return {{{items}: records",
        coll = lit(&c.name),
        key = lit(&c.key),
        key_value = if c.numeric_key { "int(key)" } else { "key" },
        items = lit(&wrap.items),
    );
    for count in &wrap.counts {
        let _ = write!(s, ", {}: len(records)", lit(count));
    }
    s.push_str("}\n");
    s
}
