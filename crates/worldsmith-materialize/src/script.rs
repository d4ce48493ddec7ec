//! Generated Starlark tools, for what one declarative operation cannot do: a state
//! transition with its precondition, list results shaped like the tool's response, a
//! record found only under its parents (`scope`), arguments written under another field's
//! name, a create that takes the caller's key when given, and a delete of the records a
//! filter names.
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

/// Looks up the record under the key argument into `record`; a missing record, or one whose
/// `scope` fields differ from their arguments (a record of another parent), is not found.
fn lookup(c: &Collection, key_arg: &str, scope: &[(String, String)]) -> String {
    let mut s = key_line(key_arg);
    let _ = writeln!(s, "    record = db.get({}, key)", lit(&c.name));
    s.push_str("    if record == None");
    for (field, arg) in scope {
        let _ = write!(
            s,
            " or (args.get({a}) != None and str(record.get({f})) != str(args[{a}]))",
            a = lit(arg),
            f = lit(field)
        );
    }
    let _ = writeln!(s, ":\n        fail({} + \" `\" + key + \"` not found\")", lit(&c.name));
    s
}

/// The lines returning `record` with its key (as the declarative operations do: the key
/// under the collection's key name unless the record has that field).
fn return_record(c: &Collection, key: &str) -> String {
    format!(
        "    out = dict(record)\n    if {name} not in out:\n        out[{name}] = {key}\n    return out\n",
        name = lit(&c.key)
    )
}

/// What a keyed script does with the record it found.
pub enum Keyed<'a> {
    /// Returns it.
    Get,
    /// Writes these (argument, field) pairs (those given), and `last_action` when it is
    /// an action that names no field.
    Update {
        /// (argument, field) pairs.
        writes: &'a [(String, String)],
        /// The tool's name, recorded in `last_action`.
        touch: Option<&'a str>,
    },
    /// Removes it.
    Delete,
}

/// A get, update or delete of the record under the key argument, found only under its
/// parents (`scope`, as (field, argument)).
#[must_use]
pub fn keyed(c: &Collection, key_arg: &str, scope: &[(String, String)], kind: &Keyed<'_>) -> String {
    let what = match kind {
        Keyed::Get => "a read",
        Keyed::Update { .. } => "an update",
        Keyed::Delete => "a delete",
    };
    let mut s = format!("# Generated: {what} of one {} record, under its parents.\n\ndef run(**args):\n", lit(&c.name));
    s.push_str(&lookup(c, key_arg, scope));
    match kind {
        Keyed::Get => s.push_str(&return_record(c, &format!("args[{}]", lit(key_arg)))),
        Keyed::Update { writes, touch } => {
            for (arg, field) in *writes {
                let _ =
                    writeln!(s, "    if {a} in args:\n        record[{f}] = args[{a}]", a = lit(arg), f = lit(field));
            }
            if let Some(tool) = touch {
                let _ = writeln!(s, "    record[\"last_action\"] = {}", lit(tool));
            }
            s.push_str(&return_record(c, &format!("args[{}]", lit(key_arg))));
        }
        Keyed::Delete => {
            let _ = write!(s, "    db.delete({}, key)\n    return {{\"deleted\": key}}\n", lit(&c.name));
        }
    }
    s
}

/// Inserts a record from the (argument, field) pairs given, under the key argument when the
/// caller gives one, else under the next free key (`prefix` and a number).
#[must_use]
pub fn create(c: &Collection, key_arg: Option<&str>, writes: &[(String, String)], prefix: &str) -> String {
    let coll = lit(&c.name);
    let mut s = format!("# Generated: a new {coll} record.\n\ndef run(**args):\n");
    let next = format!("db.next_key({coll}, {})", lit(prefix));
    match key_arg {
        Some(k) => {
            let _ = writeln!(
                s,
                "    if args.get({k}) != None:\n        key = str(args[{k}])\n    else:\n        key = {next}",
                k = lit(k)
            );
        }
        None => {
            let _ = writeln!(s, "    key = {next}");
        }
    }
    let _ = writeln!(s, "    if db.exists({coll}, key):\n        fail({coll} + \" `\" + key + \"` already exists\")");
    s.push_str("    record = {}\n");
    for (arg, field) in writes {
        let _ = writeln!(s, "    if {a} in args:\n        record[{f}] = args[{a}]", a = lit(arg), f = lit(field));
    }
    let _ = writeln!(s, "    db.insert({coll}, key, record)");
    let key = if c.numeric_key { "int(key)" } else { "key" };
    s.push_str(&return_record(c, key));
    s
}

/// Removes the records matching the filters given ((field, argument) pairs; a filter whose
/// argument is absent is skipped), only those whose keys `ids` lists when it is given
/// (comma-separated or an array); fails when none matches.
#[must_use]
pub fn clear(c: &Collection, filters: &[(String, String)], ids: Option<&str>) -> String {
    let coll = lit(&c.name);
    let mut s = format!("# Generated: a delete of the {coll} records a filter names.\n\ndef run(**args):\n");
    s.push_str("    query = {}\n");
    for (field, arg) in filters {
        let _ =
            writeln!(s, "    if args.get({a}) != None:\n        query[{f}] = args[{a}]", a = lit(arg), f = lit(field));
    }
    let _ = writeln!(s, "    keys = [key for key, record in db.scan({coll}, query)]");
    if let Some(ids) = ids {
        let _ = write!(
            s,
            "    if args.get({i}) != None:
        wanted = args[{i}]
        if type(wanted) == \"string\":
            wanted = [w.strip() for w in wanted.split(\",\")]
        wanted = [str(w) for w in wanted]
        keys = [k for k in keys if k in wanted]
",
            i = lit(ids)
        );
    }
    let _ = write!(
        s,
        "    if len(keys) == 0:
        fail(\"no \" + {coll} + \" record matches\")
    for k in keys:
        db.delete({coll}, k)
    return {{\"deleted\": keys}}
"
    );
    s
}

/// Moves the record under the key argument into `field = value`, refusing a missing record
/// (or one under other parents: `scope`) or one already there; records the action in
/// `last_action` and returns the record with its key.
#[must_use]
pub fn transition(
    tool: &str,
    c: &Collection,
    key_arg: &str,
    scope: &[(String, String)],
    field: &str,
    value: &Value,
) -> String {
    // Every name and value from a spec enters the source as a literal (JSON's string and
    // number syntax is Starlark's), never as code or inside a format string.
    let value_lit = value.to_string();
    let value_text = lit(value.as_str().map_or(value_lit.clone(), str::to_owned).as_str());
    let mut s = format!("# Generated: a state transition of one {} record.\n\ndef run(**args):\n", lit(&c.name));
    if scope.is_empty() {
        s.push_str(&key_line(key_arg));
        let _ = writeln!(
            s,
            "    record = db.get({coll}, key)\n    if record == None:\n        fail(\"no \" + {coll} + \" record with \" + {key_name} + \" \" + key)",
            coll = lit(&c.name),
            key_name = lit(&c.key)
        );
    } else {
        s.push_str(&lookup(c, key_arg, scope));
    }
    let _ = write!(
        s,
        "    if record.get({field}) == {value}:
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
