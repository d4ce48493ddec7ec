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
    // Every name and value from a spec enters the source as a literal (JSON's string and
    // number syntax is Starlark's), never as code or inside a format string.
    let value_lit = value.to_string();
    let value_text = lit(value.as_str().map_or(value_lit.clone(), str::to_owned).as_str());
    let mut s = format!("# Generated: a state transition of one {} record.\n\ndef run(**args):\n", lit(&c.name));
    s.push_str(&key_line(key_arg));
    let _ = write!(
        s,
        "    record = db.get({coll}, key)
    if record == None:
        fail(\"no \" + {coll} + \" record with \" + {key_name} + \" \" + key)
    if record.get({field}) == {value}:
        fail({coll} + \" record \" + key + \" already has \" + {field} + \" \" + {value_text})
    record[{field}] = {value}
    record[\"last_action\"] = {tool}
    out = dict(record)
    out[{key_name}] = args[{key_arg}]
    return out
",
        coll = lit(&c.name),
        key_name = lit(&c.key),
        field = lit(field),
        value = value_lit,
        tool = lit(tool),
        key_arg = lit(key_arg),
    );
    s
}

/// Lists the records matching the filters given (a filter whose argument is absent is
/// skipped), wrapped as the response describes: the records under `wrap.items`, their
/// number under each of `wrap.counts`.
#[must_use]
pub fn wrapped_list(c: &Collection, filters: &[(String, String)], wrap: &Wrap) -> String {
    let mut s = format!("# Generated: a list of {} records, wrapped in an object.\n\ndef run(**args):\n", lit(&c.name));
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
