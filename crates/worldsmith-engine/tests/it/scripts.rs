//! Starlark tools: the db API, write-back, rollback and limits.

use crate::fixtures::world;
use serde_json::json;
use worldsmith_engine::ToolError;

#[test]
fn transfer_writes_back_in_place_changes_and_inserts() {
    let w = world();
    let mut s = w.session();
    let out = s.call("transfer", &json!({"from": "a1", "to": "a2", "amount": 0.5})).unwrap();
    assert_eq!(out, json!({"transfer_id": "T1", "balance": 100.0}));
    let changes = s.changes();
    assert_eq!(changes["accounts"]["a1"], Some(json!({"owner": "ada", "balance": 100.0, "status": "open"})));
    assert_eq!(changes["accounts"]["a2"].as_ref().unwrap()["balance"], json!(20.5));
    assert_eq!(changes["transfers"]["T1"], Some(json!({"from": "a1", "to": "a2", "amount": 0.5})));
    assert_eq!(s.state().recompute_digest(), s.digest());
}

#[test]
fn refusals_leave_the_state_unchanged() {
    let w = world();
    let mut s = w.session();
    let before = s.digest();
    let e = s.call("transfer", &json!({"from": "a2", "to": "a1", "amount": 1000})).unwrap_err();
    assert_eq!(e, ToolError::Failed("insufficient funds".into()));
    let e = s.call("transfer", &json!({"from": "a1", "to": "a3", "amount": 1})).unwrap_err();
    assert_eq!(e.to_string(), "both accounts must be open");
    assert_eq!(s.digest(), before);
}

#[test]
fn misbehaving_scripts_fail_cleanly() {
    let w = world();
    let cases = [
        ("loop", "tick limit"),
        ("alloc", "repetition would create"),
        ("alloc_str", "repetition would create"),
        ("range", "range of 2000000000 elements"),
        ("grow", "limit"),
        ("recurse", "limit"),
        ("raise", "script error"),
        ("fail", "refused on purpose"),
        ("invalid", "invalid record"),
        ("dangling", "is not a key of `accounts`"),
        ("not_json", "not JSON"),
    ];
    for (what, expected) in cases {
        let mut s = w.session();
        let before = s.digest();
        let t = std::time::Instant::now();
        let e = s.call("run_script", &json!({ "what": what })).unwrap_err();
        eprintln!("{what}: {:?} {e}", t.elapsed());
        assert!(e.to_string().contains(expected), "{what}: {e}");
        assert_eq!(s.digest(), before, "{what} changed the state");
        assert_eq!(s.state().recompute_digest(), before);
    }
}

#[test]
fn read_tools_cannot_write() {
    let w = world();
    let mut s = w.session();
    let e = s.call("peek", &json!({})).unwrap_err();
    assert!(e.to_string().contains("declared `read`"), "{e}");
}

#[test]
fn scripts_share_code_through_load_and_cycles_are_reported() {
    let files = crate::fixtures::files()
        .with("lib/money.star", "load('lib/fmt.star', 'cents')\ndef half(x):\n    return round(x / 2, 2)\nLABEL = cents(150)\n")
        .with("lib/fmt.star", "def cents(n):\n    return '%d.%02d' % (n // 100, n % 100) if False else str(n // 100) + '.' + str(n % 100)\n")
        .with("peek.star", "load('lib/money.star', 'half', 'LABEL')\ndef peek():\n    return [half(5.01), LABEL]\n");
    let w = worldsmith_engine::World::load(&files).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.session().call("peek", &json!({})).unwrap(), json!([2.5, "1.50"]));

    let cyclic = crate::fixtures::files()
        .with("lib/a.star", "load('lib/b.star', 'b')\na = 1\n")
        .with("lib/b.star", "load('lib/a.star', 'a')\nb = 2\n")
        .with("peek.star", "load('lib/a.star', 'a')\ndef peek():\n    return a\n");
    let e = worldsmith_engine::World::load(&cyclic).unwrap_err().to_string();
    assert!(e.contains("load cycle: peek.star -> lib/a.star -> lib/b.star -> lib/a.star"), "{e}");
}

#[test]
fn deleting_a_referenced_record_is_refused() {
    let manifest = crate::fixtures::MANIFEST.replace(
        r#"    {"name": "peek","#,
        r#"    {"name": "close_account", "description": "Delete an account.", "effect": "write",
     "parameters": {"type": "object", "properties": {"account_id": {"type": "string"}}, "required": ["account_id"]},
     "op": {"kind": "delete", "collection": "accounts"}},
    {"name": "peek","#,
    );
    let w = worldsmith_engine::World::load(&crate::fixtures::files().with("world.json", manifest))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut s = w.session();
    s.call("transfer", &json!({"from": "a1", "to": "a2", "amount": 1})).unwrap();
    let before = s.digest();
    let e = s.call("close_account", &json!({"account_id": "a2"})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`close_account` tried to write an invalid record: cannot delete accounts[\"a2\"]: transfers[\"T1\"]/to still refers to it"
    );
    assert_eq!(s.digest(), before);
    // An account nothing refers to can go.
    assert_eq!(s.call("close_account", &json!({"account_id": "a3"})).unwrap(), json!({"deleted": "a3"}));
}

#[test]
fn a_record_referred_to_by_number_cannot_be_deleted_either() {
    let manifest = r#"{
      "format": 1, "name": "numbers",
      "collections": {
        "owners": {"key": "owner_id", "fields": {"name": {"type": "string"}}},
        "pets": {"key": "pet_id", "fields": {"owner_id": {"type": "integer"}}, "foreign_keys": {"owner_id": "owners"}}
      },
      "data": {"dir": "data"},
      "tools": [
        {"name": "delete_owner", "description": "Delete an owner.", "effect": "write",
         "parameters": {"type": "object", "properties": {"owner_id": {"type": "integer"}}, "required": ["owner_id"]},
         "op": {"kind": "delete", "collection": "owners"}}
      ]
    }"#;
    let files = worldsmith_engine::MemFiles::new("numbers")
        .with("world.json", manifest)
        .with("data/owners.json", r#"{"1": {"name": "Ada"}, "2": {"name": "Bo"}}"#)
        .with("data/pets.json", r#"{"p1": {"owner_id": 1}}"#);
    let w = worldsmith_engine::World::load(&files).unwrap_or_else(|e| panic!("{e}"));
    let mut s = w.session();
    let e = s.call("delete_owner", &json!({"owner_id": 1})).unwrap_err().to_string();
    assert!(e.ends_with("cannot delete owners[\"1\"]: pets[\"p1\"]/owner_id still refers to it"), "{e}");
    s.call("delete_owner", &json!({"owner_id": 2})).unwrap();
}
