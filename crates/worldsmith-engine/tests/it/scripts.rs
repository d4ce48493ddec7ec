//! Starlark tools: the db API, write-back, rollback and limits.

use crate::fixtures::world;
use serde_json::json;
use worldsmith_engine::ToolError;

#[test]
fn transfer_writes_back_in_place_changes_and_inserts() {
    let w = world();
    let mut s = w.session();
    let out = s
        .call(
            "transfer",
            &json!({"from": "a1", "to": "a2", "amount": 0.5}),
        )
        .unwrap();
    assert_eq!(out, json!({"transfer_id": "T1", "balance": 100.0}));
    let changes = s.changes();
    assert_eq!(
        changes["accounts"]["a1"],
        Some(json!({"owner": "ada", "balance": 100.0, "status": "open"}))
    );
    assert_eq!(
        changes["accounts"]["a2"].as_ref().unwrap()["balance"],
        json!(20.5)
    );
    assert_eq!(
        changes["transfers"]["T1"],
        Some(json!({"from": "a1", "to": "a2", "amount": 0.5}))
    );
    assert_eq!(s.state().recompute_digest(), s.digest());
}

#[test]
fn refusals_leave_the_state_unchanged() {
    let w = world();
    let mut s = w.session();
    let before = s.digest();
    let e = s
        .call(
            "transfer",
            &json!({"from": "a2", "to": "a1", "amount": 1000}),
        )
        .unwrap_err();
    assert_eq!(e, ToolError::Failed("insufficient funds".into()));
    let e = s
        .call("transfer", &json!({"from": "a1", "to": "a3", "amount": 1}))
        .unwrap_err();
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
