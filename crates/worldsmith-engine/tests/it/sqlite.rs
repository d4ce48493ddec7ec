//! A differential test of the declarative operations, with SQLite as the oracle.
//!
//! One collection, `items`, with string, integer, number and enum fields, and declarative
//! tools over it: get, list (where), search (eq, in, lt, ge, contains, prefix; sorted or
//! not; limited or not), create (key from an argument), update and delete. Random sequences
//! of calls run both on a worldsmith [`Session`] and on an SQLite table that mirrors the
//! engine's semantics:
//!
//! - records come back in insertion order (a `seq` column; an update keeps it), and a sort is
//!   stable (`ORDER BY field, seq`);
//! - results carry the key under the collection's key name (`sku`);
//! - `contains` and `prefix` are case-insensitive (ASCII data, `lower()`);
//! - get/update/delete of a missing key and create of an existing key are refused;
//! - the schema (required fields, `minimum`, the enum) is the table's `NOT NULL` and
//!   `CHECK` constraints, so a write that breaks it fails and changes nothing.
//!
//! After every step the results (success or failure, the records returned) and the whole
//! table (in key order and in insertion order) must agree, and the session's digest must be
//! the digest of the SQLite rows.

use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, ErrorCode, params_from_iter};
use serde_json::{Map, Value, json};
use worldsmith_core::canonical::json_eq;
use worldsmith_engine::{Digest, MemFiles, Session, ToolError, World};

const FILTER_PARAMS: &str = r#"{"type": "object", "properties": {
    "kind": {"type": "string"}, "kinds": {"type": "array", "items": {"type": "string"}},
    "max_qty": {"type": "number"}, "min_price": {"type": "number"},
    "name_has": {"type": "string"}, "name_prefix": {"type": "string"}}}"#;

const FILTERS: &str = r#"[
    {"field": "kind", "arg": "kind"},
    {"field": "kind", "op": "in", "arg": "kinds"},
    {"field": "qty", "op": "lt", "arg": "max_qty"},
    {"field": "price", "op": "ge", "arg": "min_price"},
    {"field": "name", "op": "contains", "arg": "name_has"},
    {"field": "name", "op": "prefix", "arg": "name_prefix"}]"#;

const RECORD_PARAMS: &str = r#"{"type": "object", "properties": {
    "sku": {"type": "string"}, "name": {"type": "string"}, "qty": {"type": "integer"},
    "price": {"type": "number"}, "kind": {"type": "string"}}, "required": ["sku"]}"#;

const KEY_PARAMS: &str = r#"{"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}"#;

/// The search tools: name, `sort_by`, `descending`, `limit`, and the SQL ORDER BY and LIMIT
/// that mirror them.
const SEARCHES: [(&str, Option<&str>, bool, Option<usize>); 4] = [
    ("search_items", None, false, None),
    ("cheapest_items", Some("price"), false, Some(4)),
    ("top_items", Some("price"), true, Some(3)),
    ("items_by_qty", Some("qty"), true, None),
];

const LIST_LIMIT: usize = 6;

fn manifest() -> String {
    let mut tools = vec![
        format!(
            r#"{{"name": "get_item", "description": "One item.", "effect": "read", "parameters": {KEY_PARAMS},
            "op": {{"kind": "get", "collection": "items"}}}}"#
        ),
        format!(
            r#"{{"name": "list_items", "description": "Items of a kind and quantity.", "effect": "read",
            "parameters": {{"type": "object", "properties": {{"kind": {{"type": "string"}}, "qty": {{"type": "integer"}}}}}},
            "op": {{"kind": "list", "collection": "items", "where": {{"kind": "kind", "qty": "qty"}}, "limit": {LIST_LIMIT}}}}}"#
        ),
        format!(
            r#"{{"name": "create_item", "description": "Add an item.", "effect": "write", "parameters": {RECORD_PARAMS},
            "op": {{"kind": "create", "collection": "items", "key": "sku"}}}}"#
        ),
        format!(
            r#"{{"name": "update_item", "description": "Change an item.", "effect": "write", "parameters": {RECORD_PARAMS},
            "op": {{"kind": "update", "collection": "items"}}}}"#
        ),
        format!(
            r#"{{"name": "delete_item", "description": "Remove an item.", "effect": "write", "parameters": {KEY_PARAMS},
            "op": {{"kind": "delete", "collection": "items"}}}}"#
        ),
    ];
    for (name, sort_by, descending, limit) in SEARCHES {
        let mut op = json!({"kind": "search", "collection": "items", "filters": serde_json::from_str::<Value>(FILTERS).unwrap()});
        if let Some(field) = sort_by {
            op["sort_by"] = json!(field);
            op["descending"] = json!(descending);
        }
        if let Some(limit) = limit {
            op["limit"] = json!(limit);
        }
        tools.push(format!(r#"{{"name": "{name}", "description": "Search items.", "effect": "read", "parameters": {FILTER_PARAMS}, "op": {op}}}"#));
    }
    format!(
        r#"{{"format": 1, "name": "shop",
        "collections": {{"items": {{"key": "sku",
            "fields": {{"name": {{"type": "string"}}, "qty": {{"type": "integer", "minimum": 0}},
                       "price": {{"type": "number", "minimum": 0}}, "kind": {{"enum": ["tool", "toy", "food"]}}}},
            "required": ["name", "qty", "price", "kind"], "additional_fields": false,
            "indexes": ["kind", "qty"]}}}},
        "data": {{"dir": "data"}},
        "tools": [{}]}}"#,
        tools.join(",\n")
    )
}

/// The initial records, in file order.
const INITIAL: &str = r#"{
  "h": {"name": "Hammer", "qty": 3, "price": 12.5, "kind": "tool"},
  "b": {"name": "toy boat", "qty": 0, "price": 7, "kind": "toy"},
  "B": {"name": "APPLE pie", "qty": 10, "price": 2.5, "kind": "food"},
  "e": {"name": "Saw-horse", "qty": 3, "price": 7.0, "kind": "tool"}
}"#;

pub(crate) fn shop() -> World {
    let files = MemFiles::new("shop").with("world.json", manifest()).with("data/items.json", INITIAL);
    World::load(&files).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------
// The oracle.

struct Oracle {
    db: Connection,
    next_seq: i64,
}

/// What the oracle expects of a call.
#[derive(Debug)]
enum Expected {
    Ok(Value),
    /// `ToolError::Failed` with this message.
    Refused(String),
    /// `ToolError::InvalidWrite` for this record.
    InvalidWrite(String),
}

const COLUMNS: &str = "sku, name, qty, price, kind";

fn row_json(row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(json!({
        "sku": row.get::<_, String>(0)?,
        "name": row.get::<_, String>(1)?,
        "qty": row.get::<_, i64>(2)?,
        "price": row.get::<_, f64>(3)?,
        "kind": row.get::<_, String>(4)?,
    }))
}

fn sql_value(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::String(s) => Sql::Text(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap()),
        },
        other => Sql::Text(other.to_string()),
    }
}

impl Oracle {
    fn new() -> Oracle {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE items (
                sku TEXT PRIMARY KEY,
                seq INTEGER NOT NULL UNIQUE,
                name TEXT NOT NULL,
                qty INTEGER NOT NULL CHECK (qty >= 0),
                price REAL NOT NULL CHECK (price >= 0),
                kind TEXT NOT NULL CHECK (kind IN ('tool', 'toy', 'food'))
            ) STRICT;",
        )
        .unwrap();
        let mut oracle = Oracle { db, next_seq: 0 };
        let initial: Map<String, Value> = serde_json::from_str(INITIAL).unwrap();
        for (sku, record) in initial {
            let mut args = record.as_object().unwrap().clone();
            args.insert("sku".into(), json!(sku));
            assert!(matches!(oracle.create(&args), Expected::Ok(_)));
        }
        oracle
    }

    fn query(&self, sql: &str, params: Vec<Sql>) -> Vec<Value> {
        let mut stmt = self.db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        stmt.query_map(params_from_iter(params), row_json).unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    fn row(&self, sku: &str) -> Option<Value> {
        self.query(&format!("SELECT {COLUMNS} FROM items WHERE sku = ?"), vec![Sql::Text(sku.into())]).pop()
    }

    /// The whole table, in key order (byte order: the primary key's BINARY collation).
    fn by_key(&self) -> Vec<Value> {
        self.query(&format!("SELECT {COLUMNS} FROM items ORDER BY sku"), vec![])
    }

    /// The whole table, in insertion order.
    fn by_seq(&self) -> Vec<Value> {
        self.query(&format!("SELECT {COLUMNS} FROM items ORDER BY seq"), vec![])
    }

    /// Runs a write statement: a constraint violation is an invalid write (the statement
    /// changes nothing); anything else is a bug in the test.
    fn write(&self, sql: &str, params: Vec<Sql>, sku: &str) -> Result<(), Expected> {
        match self.db.execute(sql, params_from_iter(params)) {
            Ok(n) => {
                assert_eq!(n, 1, "{sql}");
                Ok(())
            }
            Err(rusqlite::Error::SqliteFailure(e, m)) if e.code == ErrorCode::ConstraintViolation => {
                // The key was checked first, as the engine does: only the schema is left.
                assert_ne!(e.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY, "{m:?}");
                Err(Expected::InvalidWrite(sku.to_owned()))
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    fn get(&self, sku: &str) -> Expected {
        match self.row(sku) {
            Some(r) => Expected::Ok(r),
            None => Expected::Refused(format!("items `{sku}` not found")),
        }
    }

    fn list(&self, args: &Map<String, Value>) -> Expected {
        let mut sql = format!("SELECT {COLUMNS} FROM items WHERE 1");
        let mut params = Vec::new();
        for field in ["kind", "qty"] {
            if let Some(v) = args.get(field) {
                sql.push_str(&format!(" AND {field} = ?"));
                params.push(sql_value(v));
            }
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT {LIST_LIMIT}"));
        Expected::Ok(Value::Array(self.query(&sql, params)))
    }

    fn search(
        &self,
        args: &Map<String, Value>,
        sort_by: Option<&str>,
        descending: bool,
        limit: Option<usize>,
    ) -> Expected {
        let mut sql = format!("SELECT {COLUMNS} FROM items WHERE 1");
        let mut params = Vec::new();
        let mut filter = |arg: &str, condition: &str, times: usize| {
            if let Some(v) = args.get(arg) {
                sql.push_str(" AND ");
                sql.push_str(condition);
                params.extend(std::iter::repeat_n(sql_value(v), times));
            }
        };
        filter("kind", "kind = ?", 1);
        filter("kinds", "kind IN (SELECT value FROM json_each(?))", 1);
        filter("max_qty", "qty < ?", 1);
        filter("min_price", "price >= ?", 1);
        filter("name_has", "instr(lower(name), lower(?)) > 0", 1);
        filter("name_prefix", "substr(lower(name), 1, length(?)) = lower(?)", 2);
        match sort_by {
            Some(field) => sql.push_str(&format!(" ORDER BY {field} {}, seq", if descending { "DESC" } else { "ASC" })),
            None => sql.push_str(" ORDER BY seq"),
        }
        sql.push_str(&format!(" LIMIT {}", limit.map_or(-1, |l| l as i64)));
        Expected::Ok(Value::Array(self.query(&sql, params)))
    }

    fn create(&mut self, args: &Map<String, Value>) -> Expected {
        let sku = args["sku"].as_str().unwrap();
        if self.row(sku).is_some() {
            return Expected::Refused(format!("items `{sku}` already exists"));
        }
        let mut params = vec![Sql::Text(sku.into()), Sql::Integer(self.next_seq)];
        params.extend(["name", "qty", "price", "kind"].map(|f| args.get(f).map_or(Sql::Null, sql_value)));
        if let Err(e) =
            self.write("INSERT INTO items (sku, seq, name, qty, price, kind) VALUES (?, ?, ?, ?, ?, ?)", params, sku)
        {
            return e;
        }
        self.next_seq += 1;
        Expected::Ok(self.row(sku).unwrap())
    }

    fn update(&self, args: &Map<String, Value>) -> Expected {
        let sku = args["sku"].as_str().unwrap();
        if self.row(sku).is_none() {
            return Expected::Refused(format!("items `{sku}` not found"));
        }
        let fields: Vec<&str> =
            ["name", "qty", "price", "kind"].into_iter().filter(|f| args.contains_key(*f)).collect();
        if !fields.is_empty() {
            let set: Vec<String> = fields.iter().map(|f| format!("{f} = ?")).collect();
            let mut params: Vec<Sql> = fields.iter().map(|f| sql_value(&args[*f])).collect();
            params.push(Sql::Text(sku.into()));
            if let Err(e) = self.write(&format!("UPDATE items SET {} WHERE sku = ?", set.join(", ")), params, sku) {
                return e;
            }
        }
        Expected::Ok(self.row(sku).unwrap())
    }

    fn delete(&self, sku: &str) -> Expected {
        if self.row(sku).is_none() {
            return Expected::Refused(format!("items `{sku}` not found"));
        }
        self.write("DELETE FROM items WHERE sku = ?", vec![Sql::Text(sku.into())], sku).unwrap();
        Expected::Ok(json!({ "deleted": sku }))
    }

    fn call(&mut self, tool: &str, args: &Map<String, Value>) -> Expected {
        match tool {
            "get_item" => self.get(args["sku"].as_str().unwrap()),
            "list_items" => self.list(args),
            "create_item" => self.create(args),
            "update_item" => self.update(args),
            "delete_item" => self.delete(args["sku"].as_str().unwrap()),
            _ => {
                let (_, sort_by, descending, limit) = SEARCHES.iter().find(|s| s.0 == tool).unwrap();
                self.search(args, *sort_by, *descending, *limit)
            }
        }
    }

    /// The digest of the table, computed from its rows as the engine hashes records (the
    /// record without its key, numbers by value: REAL 7.0 hashes as the engine's 7).
    fn digest(&self) -> Digest {
        self.by_key().into_iter().fold(Digest::default(), |acc, mut row| {
            let sku = row.as_object_mut().unwrap().shift_remove("sku").unwrap();
            acc + Digest::of_record("items", sku.as_str().unwrap(), &row)
        })
    }
}

// ---------------------------------------------------------------------------------------
// Generated calls.

fn pick<T: Clone + std::fmt::Debug + 'static>(options: &[T]) -> impl Strategy<Value = T> + use<T> {
    prop::sample::select(options.to_vec())
}

/// Keys from a small pool (with an upper-case one, which sorts first), so calls collide.
fn sku() -> impl Strategy<Value = Value> {
    pick(&["a", "b", "c", "d", "e", "h", "B", "aa", "a b"]).prop_map(Value::from)
}

/// ASCII names, with `%` and `_` (which a LIKE-based oracle would get wrong).
fn name() -> impl Strategy<Value = Value> {
    pick(&[
        "Hammer",
        "hammer drill",
        "Toy Car",
        "toy boat",
        "Apple",
        "APPLE pie",
        "saw",
        "Saw-horse",
        "",
        "100% juice",
        "snake_case",
    ])
    .prop_map(Value::from)
}

fn qty() -> impl Strategy<Value = Value> {
    (-1i64..12).prop_map(Value::from)
}

/// Prices, as floats or as integers, with ties, and a negative one (breaks `minimum`).
fn price() -> impl Strategy<Value = Value> {
    prop_oneof![
        pick(&[0.0, 0.5, 2.5, 7.0, 9.99, 12.5, 100.0, -1.5]).prop_map(Value::from),
        pick(&[0i64, 2, 7, 100]).prop_map(Value::from),
    ]
}

/// Kinds, and one the enum does not allow.
fn kind() -> impl Strategy<Value = Value> {
    pick(&["tool", "toy", "food", "junk"]).prop_map(Value::from)
}

/// An object of the present arguments.
fn object(fields: Vec<(&'static str, Option<Value>)>) -> Map<String, Value> {
    fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))).collect()
}

fn call() -> impl Strategy<Value = (String, Map<String, Value>)> {
    let key_only = |tool: &'static str| sku().prop_map(move |k| (tool.to_owned(), object(vec![("sku", Some(k))])));
    let usually = |s: BoxedStrategy<Value>| prop::option::weighted(0.92, s);
    let sometimes = |s: BoxedStrategy<Value>| prop::option::weighted(0.4, s);
    let filters = (
        sometimes(kind().boxed()),
        prop::option::weighted(0.25, prop::collection::vec(kind(), 0..3).prop_map(Value::from).boxed()),
        sometimes(prop_oneof![qty(), pick(&[2.5, 0.5, 10.5]).prop_map(Value::from)].boxed()),
        sometimes(price().boxed()),
        sometimes(pick(&["am", "AM", "oy", "e", "", "zz", "%", "_", "PIE", "boat"]).prop_map(Value::from).boxed()),
        sometimes(
            pick(&["ha", "H", "toy ", "", "apple p", "S", "1", "x", "hammer drill!"]).prop_map(Value::from).boxed(),
        ),
    );
    let search = (pick(&SEARCHES.map(|s| s.0)), filters).prop_map(|(tool, (k, ks, q, p, has, prefix))| {
        (
            tool.to_owned(),
            object(vec![
                ("kind", k),
                ("kinds", ks),
                ("max_qty", q),
                ("min_price", p),
                ("name_has", has),
                ("name_prefix", prefix),
            ]),
        )
    });
    let list = (sometimes(kind().boxed()), sometimes(qty().boxed()))
        .prop_map(|(k, q)| ("list_items".to_owned(), object(vec![("kind", k), ("qty", q)])));
    let create =
        (sku(), usually(name().boxed()), usually(qty().boxed()), usually(price().boxed()), usually(kind().boxed()))
            .prop_map(|(k, n, q, p, t)| {
                (
                    "create_item".to_owned(),
                    object(vec![("sku", Some(k)), ("name", n), ("qty", q), ("price", p), ("kind", t)]),
                )
            });
    let update = (
        sku(),
        sometimes(name().boxed()),
        sometimes(qty().boxed()),
        sometimes(price().boxed()),
        sometimes(kind().boxed()),
    )
        .prop_map(|(k, n, q, p, t)| {
            (
                "update_item".to_owned(),
                object(vec![("sku", Some(k)), ("name", n), ("qty", q), ("price", p), ("kind", t)]),
            )
        });
    prop_oneof![
        2 => key_only("get_item"),
        2 => list,
        5 => search,
        5 => create,
        3 => update,
        2 => key_only("delete_item"),
    ]
}

// ---------------------------------------------------------------------------------------
// The comparison.

fn same_rows(engine: &[Value], oracle: &[Value]) -> bool {
    engine.len() == oracle.len() && engine.iter().zip(oracle).all(|(a, b)| json_eq(a, b))
}

/// The session's records as the tools return them (key included), in key order and in
/// insertion order.
fn engine_tables(s: &Session) -> (Vec<Value>, Vec<Value>) {
    let state = s.state();
    let with_key = |k: &str, r: &Value| {
        let mut m = Map::new();
        m.insert("sku".into(), json!(k));
        m.extend(r.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())));
        Value::Object(m)
    };
    let by_key = state.keys("items").map(|k| with_key(k, state.get("items", k).unwrap())).collect();
    let by_seq = state.scan("items").map(|(k, r)| with_key(k, r)).collect();
    (by_key, by_seq)
}

fn check_step(
    step: usize,
    session: &mut Session,
    oracle: &mut Oracle,
    tool: &str,
    args: &Map<String, Value>,
) -> Result<(), TestCaseError> {
    let before = session.digest();
    let got = session.call(tool, &Value::Object(args.clone()));
    let expected = oracle.call(tool, args);
    let context = || format!("step {step}: {tool} {}", Value::Object(args.clone()));
    match (&got, &expected) {
        (Ok(g), Expected::Ok(e)) => prop_assert!(json_eq(g, e), "{}\n engine: {}\n sqlite: {}", context(), g, e),
        (Err(ToolError::Failed(g)), Expected::Refused(e)) => prop_assert_eq!(g, e, "{}", context()),
        (Err(ToolError::InvalidWrite { tool: t, message }), Expected::InvalidWrite(sku)) => {
            prop_assert_eq!(t, tool);
            let prefix = format!("items[{sku:?}]/");
            prop_assert!(message.starts_with(&prefix), "{}: {}", context(), message);
        }
        _ => prop_assert!(false, "{}\n engine: {:?}\n sqlite: {:?}", context(), got, expected),
    }
    if got.is_err() {
        prop_assert_eq!(session.digest(), before, "{}: a failed call changed the state", context());
    }
    let (by_key, by_seq) = engine_tables(session);
    let (sql_by_key, sql_by_seq) = (oracle.by_key(), oracle.by_seq());
    prop_assert!(same_rows(&by_key, &sql_by_key), "{}\n engine: {:?}\n sqlite: {:?}", context(), by_key, sql_by_key);
    prop_assert!(same_rows(&by_seq, &sql_by_seq), "{}\n engine: {:?}\n sqlite: {:?}", context(), by_seq, sql_by_seq);
    prop_assert_eq!(session.digest(), oracle.digest(), "{}", context());
    prop_assert_eq!(session.state().recompute_digest(), session.digest());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn declarative_ops_agree_with_sqlite(calls in prop::collection::vec(call(), 1..40)) {
        let world = shop();
        let mut session = world.session();
        let mut oracle = Oracle::new();
        prop_assert_eq!(session.digest(), oracle.digest());
        for (step, (tool, args)) in calls.iter().enumerate() {
            check_step(step, &mut session, &mut oracle, tool, args)?;
        }
    }
}

/// Fixed cases of each semantic the random test relies on, so that a failure of the oracle
/// itself shows up plainly.
#[test]
fn oracle_and_engine_agree_on_fixed_cases() {
    let world = shop();
    let mut session = world.session();
    let mut oracle = Oracle::new();
    let steps: Vec<(&str, Value)> = vec![
        // Insertion order, and the key first under its name.
        ("search_items", json!({})),
        ("get_item", json!({"sku": "B"})),
        ("get_item", json!({"sku": "zz"})),
        // Case-insensitive contains and prefix; `%` and `_` are plain characters.
        ("search_items", json!({"name_has": "AP"})),
        ("search_items", json!({"name_prefix": "s"})),
        ("create_item", json!({"sku": "a", "name": "100% juice", "qty": 1, "price": 3, "kind": "food"})),
        ("search_items", json!({"name_has": "%"})),
        ("search_items", json!({"name_has": "_"})),
        // Stable sorts: h and e tie on qty 3, b and e on price 7.
        ("items_by_qty", json!({})),
        ("top_items", json!({})),
        ("cheapest_items", json!({"kinds": ["tool", "toy"]})),
        // Numbers compare by value: 7 (integer) equals 7.0.
        ("search_items", json!({"min_price": 7, "max_qty": 3.5})),
        // An update keeps the record's place; a delete and re-create moves it last.
        ("update_item", json!({"sku": "h", "qty": 0})),
        ("delete_item", json!({"sku": "b"})),
        ("create_item", json!({"sku": "b", "name": "toy car", "qty": 2, "price": 7, "kind": "toy"})),
        ("list_items", json!({"kind": "toy"})),
        ("list_items", json!({})),
        // Refusals and invalid writes.
        ("create_item", json!({"sku": "h", "name": "x", "qty": 1, "price": 1, "kind": "tool"})),
        ("create_item", json!({"sku": "n", "name": "x", "qty": 1, "price": 1, "kind": "junk"})),
        ("create_item", json!({"sku": "n", "name": "x", "qty": 1, "price": 1})),
        ("update_item", json!({"sku": "h", "qty": -1})),
        ("update_item", json!({"sku": "zz", "qty": 1})),
        ("delete_item", json!({"sku": "zz"})),
    ];
    for (i, (tool, args)) in steps.iter().enumerate() {
        let args = args.as_object().unwrap();
        check_step(i, &mut session, &mut oracle, tool, args).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(skus(&mut session, "search_items"), ["h", "B", "e", "a", "b"]);
    assert_eq!(skus(&mut session, "items_by_qty"), ["B", "e", "b", "a", "h"]);
    assert_eq!(
        session.call("get_item", &json!({"sku": "B"})).unwrap(),
        json!({"sku": "B", "name": "APPLE pie", "qty": 10, "price": 2.5, "kind": "food"})
    );
}

/// The keys a listing tool returns, in order.
fn skus(session: &mut Session, tool: &str) -> Vec<String> {
    let out = session.call(tool, &json!({})).unwrap();
    out.as_array().unwrap().iter().map(|r| r["sku"].as_str().unwrap().to_owned()).collect()
}
