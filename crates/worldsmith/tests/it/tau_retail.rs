//! The tau-bench retail world, reproduced exactly: all 500 gold tasks (final records and
//! every call's result), and every tool and error rule of its description.
//!
//! The data is read from `WORLDSMITH_TAU_RETAIL_DATA`, else `../shared/taubench-retail`
//! beside the repository; without it these tests say so and pass without checking, except
//! under `CI=true`, where the data must be there.

use serde_json::{Value, json};
use std::path::PathBuf;
use worldsmith_core::canonical::{first_difference, json_eq};
use worldsmith_core::task::TaskLine;
use worldsmith_engine::{Session, World};

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WORLDSMITH_TAU_RETAIL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/taubench-retail"));
    if dir.join("users.json").is_file() {
        Some(dir)
    } else {
        let message = format!("the tau-bench retail data is not at {} (set WORLDSMITH_TAU_RETAIL_DATA)", dir.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("SKIPPED: {message}");
        None
    }
}

fn world() -> Option<World> {
    data_dir()?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../worlds/tau-retail");
    Some(World::load_dir(dir).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn all_500_gold_tasks_reproduce_states_and_results() {
    let (Some(dir), Some(world)) = (data_dir(), world()) else { return };
    let text = std::fs::read_to_string(dir.join("train.jsonl")).expect("train.jsonl");
    let mut tasks = 0;
    let mut calls = 0;
    for (line_no, line) in text.lines().enumerate() {
        let raw: Value = serde_json::from_str(line).expect("a JSON line");
        let task: TaskLine = serde_json::from_str(line).expect("a task line");
        let result = worldsmith_engine::replay(&world, &task);
        let id = &task.id;
        assert_eq!(
            result.passed,
            Some(true),
            "task {id} (line {}): {}",
            line_no + 1,
            result.mismatch.unwrap_or_default()
        );
        let expected = raw["tool_results"].as_array().expect("tool_results");
        assert_eq!(expected.len(), result.results.len(), "task {id}");
        for (i, (want, got)) in expected.iter().zip(&result.results).enumerate() {
            let want = want.as_str().expect("tau-bench results are strings");
            let call = &task.actions[i].name;
            if let Some(message) = want.strip_prefix("Error: ") {
                assert!(!got.ok, "task {id} call {i} ({call}) should fail with {want:?}, got {:?}", got.value);
                assert_eq!(got.value, json!(message), "task {id} call {i} ({call})");
            } else {
                assert!(got.ok, "task {id} call {i} ({call}) failed: {:?}", got.value);
                match serde_json::from_str::<Value>(want) {
                    Ok(w) if !w.is_string() => assert!(
                        json_eq(&w, &got.value),
                        "task {id} call {i} ({call}) differs at {:?}",
                        first_difference(&w, &got.value)
                    ),
                    _ => assert_eq!(got.value, json!(want), "task {id} call {i} ({call})"),
                }
            }
            calls += 1;
        }
        tasks += 1;
    }
    assert_eq!((tasks, calls), (500, 768));
}

/// `world replay` streams its tasks in blocks replayed in parallel (issue 17): the result
/// lines are the engine's, in input order, with the same bytes on one thread and on several.
#[test]
fn command_line_replay_is_byte_identical_on_any_thread_count() {
    let (Some(dir), Some(world)) = (data_dir(), world()) else { return };
    let text = std::fs::read_to_string(dir.join("train.jsonl")).expect("train.jsonl");
    // Twice over, so the input spans more than one block.
    let tasks = format!("{text}{text}");
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("tasks.jsonl");
    std::fs::write(&input, &tasks).unwrap();
    let mut expected = Vec::new();
    for line in tasks.lines() {
        let task: TaskLine = serde_json::from_str(line).expect("a task line");
        serde_json::to_writer(&mut expected, &worldsmith_engine::replay(&world, &task)).unwrap();
        expected.push(b'\n');
    }
    for threads in ["1", "2", "3"] {
        let out = tmp.path().join(format!("results-{threads}.jsonl"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_worldsmith"))
            .args(["world", "replay", "tau-retail", "--tasks"])
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .env("WORLDSMITH_TAU_RETAIL_DATA", &dir)
            .env("RAYON_NUM_THREADS", threads)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the binary runs");
        assert!(status.success(), "{threads} threads: {status}");
        assert!(std::fs::read(&out).unwrap() == expected, "{threads} threads: different result lines");
    }
}

fn ok(s: &mut Session, tool: &str, args: Value) -> Value {
    s.call(tool, &args).unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
}

fn err(s: &mut Session, tool: &str, args: Value) -> String {
    let before = s.digest();
    let e = s.call(tool, &args).expect_err(&format!("{tool} {args} should fail")).to_string();
    assert_eq!(s.digest(), before, "a failed {tool} changed the state");
    e
}

#[test]
fn read_tools_follow_the_description() {
    let Some(world) = world() else { return };
    let mut s = world.session();
    assert_eq!(
        ok(&mut s, "find_user_id_by_email", json!({"email": "NOAH.Brown7922@example.com"})),
        json!("noah_brown_6181")
    );
    assert_eq!(err(&mut s, "find_user_id_by_email", json!({"email": "nobody@example.com"})), "user not found");
    // Names case-insensitive, zip exact, first match in file order.
    assert_eq!(
        ok(&mut s, "find_user_id_by_name_zip", json!({"first_name": "yara", "last_name": "SANCHEZ", "zip": "43097"})),
        json!("yara_sanchez_9145")
    );
    assert_eq!(
        err(&mut s, "find_user_id_by_name_zip", json!({"first_name": "Yara", "last_name": "Sanchez", "zip": "4309"})),
        "user not found"
    );
    assert_eq!(
        ok(&mut s, "get_user_details", json!({"user_id": "noah_brown_6181"}))["email"],
        "noah.brown7922@example.com"
    );
    assert_eq!(err(&mut s, "get_user_details", json!({"user_id": "nobody"})), "user not found");
    assert_eq!(ok(&mut s, "get_order_details", json!({"order_id": "#W2611340"}))["user_id"], "james_li_5688");
    assert_eq!(err(&mut s, "get_order_details", json!({"order_id": "W2611340"})), "order not found");
    assert_eq!(ok(&mut s, "get_product_details", json!({"product_id": "9523456873"}))["name"], "T-Shirt");
    assert_eq!(err(&mut s, "get_product_details", json!({"product_id": "1"})), "product not found");
    let types = ok(&mut s, "list_all_product_types", json!({}));
    let names: Vec<&String> = types.as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 50);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    assert_eq!(types["T-Shirt"], "9523456873");
    assert_eq!(ok(&mut s, "think", json!({"thought": "hmm"})), json!(""));
    assert_eq!(ok(&mut s, "transfer_to_human_agents", json!({"summary": "help"})), json!("Transfer successful"));
    assert_eq!(s.digest(), world.initial_state().digest(), "read tools changed the state");
}

#[test]
fn calculate_matches_python() {
    let Some(world) = world() else { return };
    let mut s = world.session();
    // Expected values printed by CPython 3.11: str(round(float(eval(e)), 2)) or its error.
    let cases = [
        ("12.5", Ok("12.5")),
        ("3", Ok("3.0")),
        ("2 * (3 + 4)", Ok("14.0")),
        ("1/3", Ok("0.33")),
        ("(12.5 + 7.5) * 2 / 3", Ok("13.33")),
        ("-2**2", Ok("-4.0")),
        ("2**-1", Ok("0.5")),
        ("0.125 + 0", Ok("0.12")),
        ("2.675", Ok("2.67")),
        ("1234567 * 89101112", Ok("110001292538504.0")),
        ("00 + 1", Ok("1.0")),
        ("1e5", Err("invalid characters in expression")),
        ("3 + ", Err("invalid syntax (<string>, line 1)")),
        ("(1 + 2", Err("'(' was never closed (<string>, line 1)")),
        ("1 + 2)", Err("unmatched ')' (<string>, line 1)")),
        ("1 / 0", Err("division by zero")),
        ("1.0 / 0", Err("float division by zero")),
        ("4(5)", Err("'int' object is not callable")),
        ("1/0 +", Err("invalid syntax (<string>, line 1)")),
        (
            "007",
            Err(
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers (<string>, line 1)",
            ),
        ),
    ];
    for (expression, want) in cases {
        let got = s.call("calculate", &json!({ "expression": expression })).map_err(|e| e.to_string());
        match want {
            Ok(v) => assert_eq!(got, Ok(json!(v)), "{expression}"),
            Err(m) => assert_eq!(got, Err(m.to_owned()), "{expression}"),
        }
    }
}

#[test]
fn write_tools_enforce_every_rule() {
    let Some(world) = world() else { return };
    let s = &mut world.session();
    let pending = "#W6779827"; // ethan_lopez_6291, one payment of 4079.45 by gift_card_7219486
    let delivered = "#W4817420"; // ava_moore_2033, paid by gift_card_8168843
    let processed = "#W2611340";

    // cancel_pending_order
    assert_eq!(
        err(s, "cancel_pending_order", json!({"order_id": "#W0", "reason": "no longer needed"})),
        "order not found"
    );
    assert_eq!(
        err(s, "cancel_pending_order", json!({"order_id": processed, "reason": "no longer needed"})),
        "non-pending order cannot be cancelled"
    );
    assert_eq!(
        err(s, "cancel_pending_order", json!({"order_id": pending, "reason": "too expensive"})),
        "invalid reason"
    );

    // modify_pending_order_address
    let addr = json!({"order_id": processed, "address1": "1 A St", "address2": "", "city": "X", "state": "CA", "country": "USA", "zip": "00001"});
    assert_eq!(err(s, "modify_pending_order_address", addr), "non-pending order cannot be modified");
    let mut addr = json!({"user_id": "nobody", "address1": "1 A St", "address2": "", "city": "X", "state": "CA", "country": "USA", "zip": "00001"});
    assert_eq!(err(s, "modify_user_address", addr.clone()), "user not found");
    addr["user_id"] = json!("noah_brown_6181");
    let user = ok(s, "modify_user_address", addr);
    let keys: Vec<&String> = user["address"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["address1", "address2", "city", "state", "country", "zip"],
        "the address keeps the argument order"
    );

    // modify_pending_order_payment
    let pay = |order: &str, method: &str| json!({"order_id": order, "payment_method_id": method});
    assert_eq!(
        err(s, "modify_pending_order_payment", pay(processed, "gift_card_1725971")),
        "non-pending order cannot be modified"
    );
    assert_eq!(err(s, "modify_pending_order_payment", pay(pending, "credit_card_0")), "payment method not found");
    assert_eq!(
        err(s, "modify_pending_order_payment", pay(pending, "gift_card_7219486")),
        "the new payment method should be different from the current one"
    );
    let order = ok(s, "modify_pending_order_payment", pay(pending, "credit_card_9789590"));
    let history = order["payment_history"].as_array().unwrap();
    assert_eq!(
        history[1],
        json!({"transaction_type": "payment", "amount": 4079.45, "payment_method_id": "credit_card_9789590"})
    );
    assert_eq!(
        history[2],
        json!({"transaction_type": "refund", "amount": 4079.45, "payment_method_id": "gift_card_7219486"})
    );
    assert_eq!(
        err(s, "modify_pending_order_payment", pay(pending, "gift_card_7219486")),
        "there should be exactly one payment for a pending order"
    );

    // modify_pending_order_items, on a fresh session
    let s = &mut world.session();
    let items = |old: &[&str], new: &[&str], method: &str| json!({"order_id": pending, "item_ids": old, "new_item_ids": new, "payment_method_id": method});
    assert_eq!(err(s, "modify_pending_order_items", items(&["1"], &["2"], "gift_card_7219486")), "1 not found");
    assert_eq!(
        err(
            s,
            "modify_pending_order_items",
            items(&["7896397433", "7896397433"], &["2444431651", "2444431651"], "gift_card_7219486")
        ),
        "7896397433 not found"
    );
    assert_eq!(
        err(s, "modify_pending_order_items", items(&["7896397433"], &[], "gift_card_7219486")),
        "the number of items to be exchanged should match"
    );
    assert_eq!(
        err(s, "modify_pending_order_items", items(&["7896397433"], &["8140269513"], "gift_card_7219486")),
        "new item 8140269513 not found or available"
    );
    assert_eq!(
        err(s, "modify_pending_order_items", items(&["7896397433"], &["4579334072"], "gift_card_7219486")),
        "new item 4579334072 not found or available",
        "a variant of another product"
    );
    assert_eq!(
        err(s, "modify_pending_order_items", items(&["7896397433"], &["2444431651"], "paypal_0")),
        "payment method not found"
    );
    let order = ok(s, "modify_pending_order_items", items(&["7896397433"], &["2444431651"], "credit_card_9789590"));
    assert_eq!(order["status"], "pending (item modified)");
    assert_eq!(order["items"][0]["item_id"], "2444431651");
    assert_eq!(order["items"][0]["price"], json!(534.84));
    let last = order["payment_history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["transaction_type"], "payment");
    assert!((last["amount"].as_f64().unwrap() - (534.84 - 457.81)).abs() < 1e-9);
    assert_eq!(
        err(s, "modify_pending_order_items", items(&["2444431651"], &["7896397433"], "credit_card_9789590")),
        "non-pending order cannot be modified"
    );

    // exchange_delivered_order_items and return_delivered_order_items
    let s = &mut world.session();
    let ex = |order: &str, old: &[&str], new: &[&str], method: &str| json!({"order_id": order, "item_ids": old, "new_item_ids": new, "payment_method_id": method});
    assert_eq!(
        err(s, "exchange_delivered_order_items", ex(pending, &["7896397433"], &["2444431651"], "gift_card_7219486")),
        "non-delivered order cannot be exchanged"
    );
    assert_eq!(
        err(s, "exchange_delivered_order_items", ex(delivered, &["1"], &["4579334072"], "gift_card_8168843")),
        "1 not found"
    );
    assert_eq!(
        err(
            s,
            "exchange_delivered_order_items",
            ex(delivered, &["6777246137"], &["4579334072", "1"], "gift_card_8168843")
        ),
        "the number of items to be exchanged should match"
    );
    assert_eq!(
        err(s, "exchange_delivered_order_items", ex(delivered, &["6777246137"], &["1434748144"], "gift_card_8168843")),
        "new item 1434748144 not found or available"
    );
    assert_eq!(
        err(s, "exchange_delivered_order_items", ex(delivered, &["6777246137"], &["4579334072"], "credit_card_0")),
        "payment method not found"
    );
    let ret = |order: &str, old: &[&str], method: &str| json!({"order_id": order, "item_ids": old, "payment_method_id": method});
    assert_eq!(
        err(s, "return_delivered_order_items", ret(pending, &["7896397433"], "gift_card_7219486")),
        "non-delivered order cannot be returned"
    );
    assert_eq!(
        err(s, "return_delivered_order_items", ret(delivered, &["6777246137"], "credit_card_0")),
        "payment method not found"
    );
    assert_eq!(err(s, "return_delivered_order_items", ret(delivered, &["1"], "gift_card_8168843")), "1 not found");
    // #W7303089 was paid by credit_card_4387170; its user also has paypal_2568958.
    assert_eq!(
        err(s, "return_delivered_order_items", ret("#W7303089", &["2492465580"], "paypal_2568958")),
        "payment method should be either the original payment method or a gift card"
    );
    assert_eq!(
        ok(s, "return_delivered_order_items", ret("#W7303089", &["2492465580"], "credit_card_4387170"))["return_payment_method_id"],
        "credit_card_4387170"
    );
    let order = ok(s, "return_delivered_order_items", ret(delivered, &["6777246137"], "gift_card_8168843"));
    assert_eq!(order["status"], "return requested");
    assert_eq!(order["return_items"], json!(["6777246137"]));
}
