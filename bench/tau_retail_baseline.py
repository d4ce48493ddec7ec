"""Python baseline for the tau-retail benchmark: what a tau-bench episode costs in Python.

Per task, as tau-bench does it: load the JSON database, replay the gold calls with Python
tools that mutate dicts, and hash the sorted JSON of the final state (an "episode"); the
reward check does it twice (the agent's run and the gold replay), so a task with its reward
check costs two episodes. The tools are our own Python port of the six write tools the train
tasks use, written from the description in ../shared/taubench-retail/README.md.

Usage: python3 bench/tau_retail_baseline.py DATA_DIR [N_TASKS]
Prints one JSON object with mean milliseconds.
"""

import hashlib
import json
import sys
import time


class ToolError(Exception):
    pass


def load(data_dir):
    db = {}
    for c in ("users", "orders", "products"):
        with open(f"{data_dir}/{c}.json") as f:
            db[c] = json.load(f)
    return db


def _order(db, order_id):
    if order_id not in db["orders"]:
        raise ToolError("order not found")
    return db["orders"][order_id]


def _method(db, order, pm_id):
    methods = db["users"][order["user_id"]]["payment_methods"]
    if pm_id not in methods:
        raise ToolError("payment method not found")
    return methods[pm_id]


def _check_items(order, item_ids):
    all_ids = [i["item_id"] for i in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > all_ids.count(item_id):
            raise ToolError(f"{item_id} not found")


def _diff(db, order, item_ids, new_item_ids):
    if len(item_ids) != len(new_item_ids):
        raise ToolError("the number of items to be exchanged should match")
    diff = 0
    for old, new in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == old][0]
        variants = db["products"][item["product_id"]]["variants"]
        if new not in variants or not variants[new]["available"]:
            raise ToolError(f"new item {new} not found or available")
        diff += variants[new]["price"] - item["price"]
    return diff


def cancel_pending_order(db, order_id, reason):
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be cancelled")
    if reason not in ("no longer needed", "ordered by mistake"):
        raise ToolError("invalid reason")
    refunds = []
    for p in order["payment_history"]:
        refunds.append({"transaction_type": "refund", "amount": p["amount"], "payment_method_id": p["payment_method_id"]})
        if "gift_card" in p["payment_method_id"]:
            m = db["users"][order["user_id"]]["payment_methods"][p["payment_method_id"]]
            m["balance"] = round(m["balance"] + p["amount"], 2)
    order["payment_history"].extend(refunds)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    return json.dumps(order)


def modify_pending_order_address(db, order_id, address1, address2, city, state, country, zip):
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    order["address"] = {"address1": address1, "address2": address2, "city": city, "state": state, "country": country, "zip": zip}
    return json.dumps(order)


def modify_pending_order_payment(db, order_id, payment_method_id):
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    new = _method(db, order, payment_method_id)
    h = order["payment_history"]
    if len(h) != 1 or h[0]["transaction_type"] != "payment":
        raise ToolError("there should be exactly one payment for a pending order")
    old_id, amount = h[0]["payment_method_id"], h[0]["amount"]
    if old_id == payment_method_id:
        raise ToolError("the new payment method should be different from the current one")
    if "gift_card" in payment_method_id and new["balance"] < amount:
        raise ToolError("insufficient gift card balance to pay for the order")
    h.append({"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id})
    h.append({"transaction_type": "refund", "amount": amount, "payment_method_id": old_id})
    if "gift_card" in payment_method_id:
        new["balance"] = round(new["balance"] - amount, 2)
    if "gift_card" in old_id:
        old = db["users"][order["user_id"]]["payment_methods"][old_id]
        old["balance"] = round(old["balance"] + amount, 2)
    return json.dumps(order)


def modify_pending_order_items(db, order_id, item_ids, new_item_ids, payment_method_id):
    order = _order(db, order_id)
    if order["status"] != "pending":
        raise ToolError("non-pending order cannot be modified")
    _check_items(order, item_ids)
    diff = _diff(db, order, item_ids, new_item_ids)
    m = _method(db, order, payment_method_id)
    if "gift_card" in payment_method_id and m["balance"] < diff:
        raise ToolError("insufficient gift card balance to pay for the new item")
    order["payment_history"].append({"transaction_type": "payment" if diff > 0 else "refund", "amount": abs(diff), "payment_method_id": payment_method_id})
    if "gift_card" in payment_method_id:
        m["balance"] = round(m["balance"] - diff, 2)
    for old, new in zip(item_ids, new_item_ids):
        item = [i for i in order["items"] if i["item_id"] == old][0]
        v = db["products"][item["product_id"]]["variants"][new]
        item["item_id"], item["price"], item["options"] = new, v["price"], v["options"]
    order["status"] = "pending (item modified)"
    return json.dumps(order)


def exchange_delivered_order_items(db, order_id, item_ids, new_item_ids, payment_method_id):
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("non-delivered order cannot be exchanged")
    _check_items(order, item_ids)
    diff = round(_diff(db, order, item_ids, new_item_ids), 2)
    m = _method(db, order, payment_method_id)
    if "gift_card" in payment_method_id and m["balance"] < diff:
        raise ToolError("insufficient gift card balance to pay for the price difference")
    order["status"] = "exchange requested"
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = payment_method_id
    order["exchange_price_difference"] = diff
    return json.dumps(order)


def return_delivered_order_items(db, order_id, item_ids, payment_method_id):
    order = _order(db, order_id)
    if order["status"] != "delivered":
        raise ToolError("non-delivered order cannot be returned")
    _method(db, order, payment_method_id)
    if "gift_card" not in payment_method_id and payment_method_id != order["payment_history"][0]["payment_method_id"]:
        raise ToolError("payment method should be either the original payment method or a gift card")
    _check_items(order, item_ids)
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    return json.dumps(order)


TOOLS = {f.__name__: f for f in (cancel_pending_order, modify_pending_order_address, modify_pending_order_payment,
                                  modify_pending_order_items, exchange_delivered_order_items, return_delivered_order_items)}


def episode(data_dir, actions):
    db = load(data_dir)
    results = []
    for a in actions:
        try:
            results.append(TOOLS[a["name"]](db, **a["arguments"]))
        except ToolError as e:
            results.append(f"Error: {e}")
    return hashlib.sha256(json.dumps(db, sort_keys=True, default=str).encode()).hexdigest(), results


def main():
    data_dir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with open(f"{data_dir}/train.jsonl") as f:
        tasks = [json.loads(line) for line in f][:n]
    t = time.perf_counter()
    for _ in range(5):
        load(data_dir)
    load_ms = (time.perf_counter() - t) * 1000 / 5
    t = time.perf_counter()
    for task in tasks:
        _, results = episode(data_dir, task["actions"])
        assert results == task["tool_results"] or all(
            (r.startswith("Error") == e.startswith("Error")) for r, e in zip(results, task["tool_results"])
        ), task["id"]
    episode_ms = (time.perf_counter() - t) * 1000 / len(tasks)
    t = time.perf_counter()
    for task in tasks:
        h1, _ = episode(data_dir, task["actions"])  # the agent's run
        h2, _ = episode(data_dir, task["actions"])  # the gold replay for the reward
        assert h1 == h2
    reward_ms = (time.perf_counter() - t) * 1000 / len(tasks)
    print(json.dumps({"tasks": len(tasks), "load_ms": load_ms, "episode_ms": episode_ms, "task_with_reward_ms": reward_ms, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
