"""The Python baseline for the engine benchmark: the same 5-call task on the same 3,200
records, done the way Python tool benchmarks do it (tau-bench style): load the JSON database,
mutate dicts, hash the sorted JSON, compare with the expected hash.

Usage: python3 bench/python_baseline.py DATA_DIR TASK_JSONL  (DATA_DIR from `worldsmith world dump`)
Prints one JSON object with median milliseconds per step.
"""

import copy
import hashlib
import json
import statistics
import sys
import time

COLLECTIONS = ("customers", "products", "orders")


class ToolError(Exception):
    pass


def load(data_dir):
    db = {}
    for c in COLLECTIONS:
        with open(f"{data_dir}/{c}.json") as f:
            db[c] = json.load(f)
    return db


def get_customer(db, customer_id):
    if customer_id not in db["customers"]:
        raise ToolError("customers not found")
    return {"customer_id": customer_id, **db["customers"][customer_id]}


def list_orders(db, customer_id):
    return [{"order_id": k, **o} for k, o in db["orders"].items() if o["customer_id"] == customer_id][:100]


def get_order(db, order_id):
    if order_id not in db["orders"]:
        raise ToolError("orders not found")
    return {"order_id": order_id, **db["orders"][order_id]}


def set_email(db, customer_id, email):
    if customer_id not in db["customers"]:
        raise ToolError("customers not found")
    db["customers"][customer_id]["email"] = email
    return db["customers"][customer_id]


def cancel_order(db, order_id):
    order = db["orders"].get(order_id)
    if order is None:
        raise ToolError("order not found")
    if order["status"] != "pending":
        raise ToolError("only pending orders can be cancelled")
    for item in order["items"]:
        db["products"][item["product_id"]]["stock"] += item["quantity"]
    customer = db["customers"][order["customer_id"]]
    customer["credit"] = round(customer["credit"] + order["total"], 2)
    order["status"] = "cancelled"
    return order


TOOLS = {f.__name__: f for f in (get_customer, list_orders, get_order, set_email, cancel_order)}


def replay(db, actions):
    results = []
    for a in actions:
        try:
            results.append(json.dumps(TOOLS[a["name"]](db, **a["arguments"])))
        except ToolError as e:
            results.append(f"Error: {e}")
    return results


def data_hash(db):
    return hashlib.sha256(json.dumps(db, sort_keys=True).encode()).hexdigest()


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    data_dir, task_path = sys.argv[1], sys.argv[2]
    with open(task_path) as f:
        task = json.loads(f.readline())
    # The expected final state: the initial data with the task's changed records applied.
    expected_db = load(data_dir)
    for c, records in task["changed_records"].items():
        for k, v in records.items():
            if v is None:
                expected_db[c].pop(k, None)
            else:
                expected_db[c][k] = v
    expected = data_hash(expected_db)

    def episode():  # what tau-bench does per episode: load, replay, hash, compare
        db = load(data_dir)
        replay(db, task["actions"])
        assert data_hash(db) == expected, "the Python replay disagrees with the engine"

    preloaded = load(data_dir)

    def replay_from_copy():  # the same without the JSON load: deep copy, replay, hash, compare
        db = copy.deepcopy(preloaded)
        replay(db, task["actions"])
        assert data_hash(db) == expected

    episode()
    print(json.dumps({
        "load_ms": median_ms(lambda: load(data_dir), 20),
        "episode_ms": median_ms(episode, 20),
        "copy_replay_hash_ms": median_ms(replay_from_copy, 20),
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
