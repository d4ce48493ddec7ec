//! Property tests of the state invariants: fork isolation, transactional rollback, the
//! incremental digest, and the independence of digests (and diffs) from insertion order.

use crate::fixtures::world;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use worldsmith_core::canonical::json_eq;
use worldsmith_engine::{Digest, Session, State, ToolError};

/// The collections of the states built here ("empty" is never written).
const COLLECTIONS: [&str; 3] = ["orders", "users", "empty"];
/// Written collections, plus one the state does not have.
const WRITE_TARGETS: [&str; 3] = ["orders", "users", "nope"];

fn config() -> ProptestConfig {
    ProptestConfig { cases: 64, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------
// Generators.

/// Numbers spelled in several ways, some equal by value (`3`, `3.0`, `3e0`, `30e-1`).
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1000i64..1000).prop_map(Value::from),
        (-1.0e6f64..1.0e6).prop_map(Value::from),
        prop::sample::select(vec![
            "3",
            "3.0",
            "3e0",
            "30e-1",
            "0.1",
            "1e30",
            "-0.0",
            "0",
            "12.50",
            "9007199254740993",
            "18446744073709551615"
        ])
        .prop_map(|s| serde_json::from_str::<Value>(s).unwrap()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        "[a-zé~/\"\\\\ ]{0,6}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-d]", inner), 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A record: an object of a few fields.
fn record() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(vec!["a", "b", "n", "s", "tags", "é"]), value()), 0..5)
        .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// Keys from a small pool, so that writes collide.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["k0", "k1", "k2", "k3", "k4", "K1", "k10", ""]).prop_map(str::to_owned)
}

#[derive(Debug, Clone)]
enum Write {
    Put(&'static str, String, Value),
    Delete(&'static str, String),
}

fn write() -> impl Strategy<Value = Write> {
    let collection = prop::sample::select(WRITE_TARGETS.to_vec());
    prop_oneof![
        3 => (collection.clone(), key(), record()).prop_map(|(c, k, v)| Write::Put(c, k, v)),
        1 => (collection, key()).prop_map(|(c, k)| Write::Delete(c, k)),
    ]
}

fn writes(max: usize) -> impl Strategy<Value = Vec<Write>> {
    prop::collection::vec(write(), 0..max)
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// Applies one write and checks its immediate effect on the digest and the record.
fn apply_one(state: &mut State, w: &Write) -> Result<(), TestCaseError> {
    let before = state.digest();
    match w {
        Write::Put(c, k, v) => {
            let previous = state.get(c, k).cloned();
            match state.put(c, k, v.clone()) {
                Ok(old) => {
                    prop_assert_eq!(&old, &previous);
                    prop_assert_eq!(state.get(c, k).map(|r| &**r), Some(v));
                    let mut expected = before + Digest::of_record(c, k, v);
                    if let Some(old) = &old {
                        expected -= Digest::of_record(c, k, old);
                    }
                    prop_assert_eq!(state.digest(), expected);
                }
                Err(e) => {
                    prop_assert_eq!(*c, "nope");
                    prop_assert_eq!(e.0.as_str(), "nope");
                    prop_assert_eq!(state.digest(), before);
                }
            }
        }
        Write::Delete(c, k) => {
            let previous = state.get(c, k).cloned();
            let old = state.delete(c, k);
            prop_assert_eq!(&old, &previous);
            prop_assert!(!state.contains(c, k));
            let expected = old.map_or(before, |old| before - Digest::of_record(c, k, &old));
            prop_assert_eq!(state.digest(), expected);
        }
    }
    Ok(())
}

fn apply(state: &mut State, ws: &[Write]) -> Result<(), TestCaseError> {
    for w in ws {
        apply_one(state, w)?;
    }
    Ok(())
}

/// Every record of a state in scan (insertion) order, per collection.
fn snapshot(state: &State) -> Vec<(String, Vec<(String, Value)>)> {
    state
        .collections()
        .map(|c| (c.to_owned(), state.scan(c).map(|(k, r)| (k.to_owned(), (**r).clone())).collect()))
        .collect()
}

/// The state as a map (collection, key) -> record, for comparisons that ignore order.
fn by_key(state: &State) -> Vec<((String, String), Value)> {
    let mut out = Vec::new();
    for c in state.collections() {
        for k in state.keys(c) {
            out.push(((c.to_owned(), k.to_owned()), (**state.get(c, k).unwrap()).clone()));
        }
    }
    out
}

fn same_records(a: &State, b: &State) -> bool {
    let (x, y) = (by_key(a), by_key(b));
    x.len() == y.len() && x.iter().zip(&y).all(|((kx, vx), (ky, vy))| kx == ky && json_eq(vx, vy))
}

/// The same record with its fields in reverse order (recursively) and its numbers respelled
/// as floats where that keeps their value: equal by value, different as text.
fn respell(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().rev().map(|(k, v)| (k.clone(), respell(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(respell).collect()),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() < 1 << 50 => serde_json::from_str(&format!("{i}.0")).unwrap(),
            _ => v.clone(),
        },
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Fork isolation.

proptest! {
    #![proptest_config(config())]

    /// After `b = a.clone()`, writes to either leave the other's digest and records as
    /// they were.
    #[test]
    fn state_forks_are_isolated(setup in writes(30), to_b in writes(30), to_a in writes(30)) {
        let mut a = State::new(&COLLECTIONS);
        apply(&mut a, &setup)?;
        let mut b = a.clone();
        prop_assert_eq!(b.digest(), a.digest());
        prop_assert_eq!(snapshot(&b), snapshot(&a));

        let (a_digest, a_records) = (a.digest(), snapshot(&a));
        apply(&mut b, &to_b)?;
        prop_assert_eq!(a.digest(), a_digest);
        prop_assert_eq!(snapshot(&a), a_records.clone());
        prop_assert_eq!(a.recompute_digest(), a_digest);

        // A fork of the fork, then writes to the original: both forks are untouched.
        let c = b.clone();
        let (b_digest, b_records) = (b.digest(), snapshot(&b));
        apply(&mut a, &to_a)?;
        prop_assert_eq!(b.digest(), b_digest);
        prop_assert_eq!(snapshot(&b), b_records.clone());
        prop_assert_eq!(c.digest(), b_digest);
        prop_assert_eq!(snapshot(&c), b_records);
        prop_assert_eq!(a.recompute_digest(), a.digest());
        prop_assert_eq!(b.recompute_digest(), b.digest());
    }
}

/// Calls that mostly succeed and write (transfers, and the misbehaviour script's `unknown`
/// case, which zeroes a1's balance), with some that are refused.
fn transfer_call() -> impl Strategy<Value = (String, Value)> {
    let account = prop::sample::select(vec!["a1", "a2", "a3", "a4"]);
    let amount = prop::sample::select(vec![0.25, 0.5, 1.0, 3.0, 19.75, 150.0]);
    prop_oneof![
        6 => (account.clone(), account, amount).prop_map(|(f, t, a)| ("transfer".to_owned(), json!({"from": f, "to": t, "amount": a}))),
        1 => Just(("run_script".to_owned(), json!({"what": "unknown"}))),
        1 => Just(("get_account".to_owned(), json!({"account_id": "a2"}))),
    ]
}

fn run_calls(s: &mut Session, calls: &[(String, Value)]) -> usize {
    calls.iter().filter(|(tool, args)| s.call(tool, args).is_ok()).count()
}

proptest! {
    #![proptest_config(config())]

    /// `Session::fork`: calls on the fork leave the parent (and the world's initial state)
    /// unchanged, and the other way round.
    #[test]
    fn session_forks_are_isolated(
        setup in prop::collection::vec(transfer_call(), 0..6),
        on_fork in prop::collection::vec(transfer_call(), 1..10),
        on_parent in prop::collection::vec(transfer_call(), 1..10),
    ) {
        let w = world();
        let initial = w.initial_state().digest();
        let mut parent = w.session();
        run_calls(&mut parent, &setup);
        let mut fork = parent.fork();
        prop_assert!(fork.log().is_empty());
        prop_assert_eq!(fork.digest(), parent.digest());

        let (p_digest, p_records, p_log) = (parent.digest(), snapshot(parent.state()), parent.log().len());
        run_calls(&mut fork, &on_fork);
        prop_assert_eq!(parent.digest(), p_digest);
        prop_assert_eq!(snapshot(parent.state()), p_records);
        prop_assert_eq!(parent.log().len(), p_log);
        prop_assert_eq!(fork.log().len(), on_fork.len());

        let (f_digest, f_records) = (fork.digest(), snapshot(fork.state()));
        run_calls(&mut parent, &on_parent);
        prop_assert_eq!(fork.digest(), f_digest);
        prop_assert_eq!(snapshot(fork.state()), f_records);
        prop_assert_eq!(w.initial_state().digest(), initial);
        prop_assert_eq!(w.session().digest(), initial);
        // The diff between the two sessions is exactly what turns one into the other.
        let merged = parent.state().with_changes(&parent.diff(&fork)).unwrap();
        prop_assert_eq!(merged.digest(), fork.digest());
    }
}

// ---------------------------------------------------------------------------------------
// Rollback.

/// An argument value: mostly plausible, sometimes of the wrong type.
fn arg_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec!["a1", "a2", "a3", "zz", "", "A1"]).prop_map(Value::from),
        3 => prop::sample::select(vec![-5.0, 0.0, 0.5, 1.0, 20.0, 100.5, 1000.0]).prop_map(Value::from),
        1 => prop::sample::select(vec!["raise", "fail", "invalid", "dangling", "not_json", "recurse", "range", "alloc", "unknown"]).prop_map(Value::from),
        1 => leaf(),
    ]
}

fn any_arguments() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec!["account_id", "owner", "from", "to", "amount", "what", "extra"]);
    prop_oneof![
        8 => prop::collection::vec((name, arg_value()), 0..4)
            .prop_map(|args| Value::Object(args.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())),
        1 => leaf(),
        1 => prop::collection::vec(leaf(), 0..3).prop_map(Value::Array),
    ]
}

/// Any call to the fixture world: every tool, misspelled tools, random arguments, and
/// the misbehaviour script with each of its failures.
fn any_call() -> impl Strategy<Value = (String, Value)> {
    let tool = prop::sample::select(vec![
        "get_account",
        "find_accounts",
        "transfer",
        "run_script",
        "peek",
        "get_acount",
        "nope",
    ]);
    let what = prop::sample::select(vec![
        "raise",
        "fail",
        "invalid",
        "dangling",
        "not_json",
        "recurse",
        "range",
        "alloc",
        "alloc_str",
        "unknown",
    ]);
    prop_oneof![
        5 => (tool, any_arguments()).prop_map(|(t, a)| (t.to_owned(), a)),
        3 => what.prop_map(|w| ("run_script".to_owned(), json!({ "what": w }))),
        3 => transfer_call(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A failing call (unknown tool, invalid arguments, refusal, script error, limit,
    /// invalid write, a read tool writing) leaves the digest and every record exactly as they
    /// were; a successful one keeps the incremental digest right.
    #[test]
    fn failing_calls_roll_back(calls in prop::collection::vec(any_call(), 1..16)) {
        let w = world();
        let mut s = w.session();
        let mut failures = 0;
        for (tool, args) in &calls {
            let (before, records) = (s.digest(), snapshot(s.state()));
            let result = s.call(tool, args);
            let logged = s.log().last().unwrap();
            prop_assert_eq!(&logged.tool, tool);
            prop_assert_eq!(&logged.result, &result);
            prop_assert_eq!(logged.digest, s.digest());
            prop_assert_eq!(s.state().recompute_digest(), s.digest());
            if let Err(e) = result {
                failures += 1;
                prop_assert_eq!(s.digest(), before, "{} {} failed with {} but changed the digest", tool, args, e);
                prop_assert_eq!(snapshot(s.state()), records, "{} {} failed with {} but changed records", tool, args, e);
                if matches!(e, ToolError::UnknownTool { .. } | ToolError::InvalidArguments { .. }) {
                    prop_assert!(!e.is_defect());
                }
            }
        }
        // Every generated sequence is replayable: a fresh session reaches the same state.
        let mut again = w.session();
        let failed_again = calls.iter().filter(|(t, a)| again.call(t, a).is_err()).count();
        prop_assert_eq!(failed_again, failures);
        prop_assert_eq!(again.digest(), s.digest());
    }
}

/// Each kind of failure the rollback property relies on, after a successful write (so the
/// state differs from the initial one), with the exact digest before and after.
#[test]
fn each_failure_kind_rolls_back() {
    type Case = (&'static str, Value, fn(&ToolError) -> bool);
    let w = world();
    let mut s = w.session();
    s.call("transfer", &json!({"from": "a1", "to": "a2", "amount": 0.5})).unwrap();
    let before = s.digest();
    assert_ne!(before, w.initial_state().digest());
    let cases: Vec<Case> = vec![
        ("nope", json!({}), |e| matches!(e, ToolError::UnknownTool { .. })),
        ("transfer", json!("a1"), |e| matches!(e, ToolError::InvalidArguments { .. })),
        ("transfer", json!({"from": "a1", "to": "a2", "amount": -1}), |e| {
            matches!(e, ToolError::InvalidArguments { .. })
        }),
        ("transfer", json!({"from": "a2", "to": "a1", "amount": 1000}), |e| matches!(e, ToolError::Failed(_))),
        ("run_script", json!({"what": "fail"}), |e| matches!(e, ToolError::Failed(_))),
        ("run_script", json!({"what": "raise"}), |e| matches!(e, ToolError::Script { .. })),
        ("run_script", json!({"what": "recurse"}), |e| matches!(e, ToolError::LimitExceeded { .. })),
        ("run_script", json!({"what": "invalid"}), |e| matches!(e, ToolError::InvalidWrite { .. })),
        ("run_script", json!({"what": "dangling"}), |e| matches!(e, ToolError::InvalidWrite { .. })),
        ("peek", json!({}), |e| matches!(e, ToolError::Script { .. } | ToolError::InvalidWrite { .. })),
    ];
    for (tool, args, kind) in cases {
        let e = s.call(tool, &args).unwrap_err();
        assert!(kind(&e), "{tool} {args}: unexpected {e:?}");
        assert_eq!(s.digest(), before, "{tool} {args}: {e}");
        assert_eq!(s.state().recompute_digest(), before);
    }
    assert!(s.changes()["transfers"].contains_key("T1"));
}

// ---------------------------------------------------------------------------------------
// The incremental digest.

proptest! {
    #![proptest_config(config())]

    /// After every put and delete the incremental digest equals the recomputed one, the
    /// collection digests add up to it, and the records (in insertion order: an overwrite
    /// keeps its place, a re-insert goes last) match a simple model.
    #[test]
    fn incremental_digest_matches_recomputed(ws in writes(60)) {
        let mut s = State::new(&COLLECTIONS);
        prop_assert_eq!(s.digest(), Digest::default());
        let mut model: Vec<(&str, String, Value)> = Vec::new();
        for w in &ws {
            apply_one(&mut s, w)?;
            match w {
                Write::Put(c, k, v) if *c != "nope" => match model.iter_mut().find(|(mc, mk, _)| mc == c && mk == k) {
                    Some(slot) => slot.2 = v.clone(),
                    None => model.push((c, k.clone(), v.clone())),
                },
                Write::Delete(c, k) => model.retain(|(mc, mk, _)| !(mc == c && mk == k)),
                Write::Put(..) => {}
            }
            prop_assert_eq!(s.digest(), s.recompute_digest());
            let sum = COLLECTIONS.iter().fold(Digest::default(), |acc, c| acc + s.collection_digest(c).unwrap());
            prop_assert_eq!(sum, s.digest());
        }
        prop_assert_eq!(s.collection_digest("empty"), Some(Digest::default()));
        prop_assert_eq!(s.collection_digest("nope"), None);
        prop_assert_eq!(s.total_len(), model.len());
        for c in COLLECTIONS {
            let expected: Vec<(String, Value)> = model.iter().filter(|(mc, ..)| *mc == c).map(|(_, k, v)| (k.clone(), v.clone())).collect();
            let got: Vec<(String, Value)> = s.scan(c).map(|(k, r)| (k.to_owned(), (**r).clone())).collect();
            prop_assert_eq!(got, expected);
            let mut sorted: Vec<&str> = s.keys(c).collect();
            let keys = sorted.clone();
            sorted.sort_unstable();
            prop_assert_eq!(keys, sorted);
        }
        // Deleting everything returns the digest to the empty one.
        for (c, k, _) in &model {
            s.delete(c, k);
        }
        prop_assert!(s.is_empty());
        prop_assert_eq!(s.digest(), Digest::default());
    }
}

// ---------------------------------------------------------------------------------------
// Order independence, diff and with_changes.

/// A set of distinct (collection, key) -> record, in some order.
fn record_set() -> impl Strategy<Value = Vec<(&'static str, String, Value)>> {
    prop::collection::btree_map((prop::sample::select(vec!["orders", "users"]), key()), record(), 0..14)
        .prop_map(|m| m.into_iter().map(|((c, k), v)| (c, k, v)).collect())
}

proptest! {
    #![proptest_config(config())]

    /// The same records inserted in two random orders (the second time with fields in
    /// reverse order and integral numbers respelled as `n.0`, and after a detour through
    /// other values) give the same digest.
    #[test]
    fn digest_ignores_insertion_order(
        (first, second) in record_set().prop_flat_map(|v| (Just(v.clone()).prop_shuffle(), Just(v).prop_shuffle())),
        detour in prop::collection::vec(record(), 0..4),
    ) {
        let mut a = State::new(&COLLECTIONS);
        for (c, k, v) in &first {
            a.put(c, k, v.clone()).unwrap();
        }
        let mut b = State::new(&COLLECTIONS);
        for ((c, k, _), other) in second.iter().zip(&detour) {
            b.put(c, k, other.clone()).unwrap();
            if other.as_object().is_some_and(|m| m.len() % 2 == 1) {
                b.delete(c, k);
            }
        }
        for (c, k, v) in &second {
            b.put(c, k, respell(v)).unwrap();
        }
        prop_assert_eq!(a.digest(), b.digest());
        prop_assert_eq!(a.digest(), a.recompute_digest());
        prop_assert_eq!(b.digest(), b.recompute_digest());
        prop_assert!(a.diff(&b).is_empty(), "{:?}", a.diff(&b));
        prop_assert!(same_records(&a, &b));
    }

    /// `a.with_changes(&a.diff(&b))` has b's digest and records, for b derived from a and
    /// for an unrelated b; the diff lists exactly the records that differ.
    #[test]
    fn with_changes_of_diff_reaches_the_other_state(setup in writes(30), more in writes(20), unrelated in writes(30)) {
        let mut a = State::new(&COLLECTIONS);
        apply(&mut a, &setup)?;
        let mut derived = a.clone();
        apply(&mut derived, &more)?;
        let mut fresh = State::new(&COLLECTIONS);
        apply(&mut fresh, &unrelated)?;
        for b in [&derived, &fresh, &a] {
            let diff = a.diff(b);
            let c = a.with_changes(&diff).unwrap();
            prop_assert_eq!(c.digest(), b.digest());
            prop_assert_eq!(c.recompute_digest(), b.digest());
            prop_assert!(same_records(&c, b));
            prop_assert!(c.diff(b).is_empty());
            prop_assert_eq!(diff.is_empty(), a.digest() == b.digest());
            for (collection, changes) in &diff {
                for (k, v) in changes {
                    match v {
                        Some(v) => prop_assert!(a.get(collection, k).is_none_or(|old| !json_eq(old, v))),
                        None => prop_assert!(a.contains(collection, k) && !b.contains(collection, k)),
                    }
                }
            }
            // The reverse diff undoes it.
            let back = c.with_changes(&b.diff(&a)).unwrap();
            prop_assert_eq!(back.digest(), a.digest());
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// A secondary index always answers like a filtered scan: same records, same order,
    /// through puts, in-place updates, deletes and forks.
    #[test]
    fn indexes_agree_with_scans(setup in writes(40), more in writes(20), probe in value()) {
        let mut state = State::new(&COLLECTIONS);
        for c in COLLECTIONS {
            state.add_index(c, worldsmith_engine::schema::FieldPath::parse("a").unwrap()).unwrap();
            state.add_index(c, worldsmith_engine::schema::FieldPath::parse("n").unwrap()).unwrap();
        }
        apply(&mut state, &setup)?;
        let fork = state.clone();
        apply(&mut state, &more)?;
        for s in [&state, &fork] {
            for c in COLLECTIONS {
                for field in ["a", "n"] {
                    let mut wanted: Vec<Value> = s.scan(c).filter_map(|(_, r)| r.get(field).cloned()).collect();
                    wanted.push(probe.clone());
                    for want in &wanted {
                        let indexed: Vec<&str> = s.find_eq(c, field, want).unwrap().into_iter().map(|(k, _)| k).collect();
                        let scanned: Vec<&str> = s
                            .scan(c)
                            .filter(|(_, r)| r.get(field).is_some_and(|v| worldsmith_core::canonical::json_eq(v, want)))
                            .map(|(k, _)| k)
                            .collect();
                        prop_assert_eq!(indexed, scanned);
                    }
                }
            }
        }
    }
}
