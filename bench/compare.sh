#!/usr/bin/env bash
# Runs the engine benchmarks (release, one core) and the Python baseline in the same run,
# and prints the table that goes into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p worldsmith
./target/release/worldsmith world dump bench/world --out target/bench-data 2>/dev/null
taskset -c 0 cargo bench -q -p worldsmith-engine --bench engine -- --noplot >/dev/null
taskset -c 0 python3 bench/python_baseline.py target/bench-data bench/world/task.jsonl > target/bench-python.json
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
def mean_ns(name):
    return json.loads((root / name.replace("/", "_") / "new" / "estimates.json").read_text())["mean"]["point_estimate"]
py = json.loads(pathlib.Path("target/bench-python.json").read_text())
def fmt(ns):
    return f"{ns:,.0f} ns" if ns < 10_000 else f"{ns / 1000:,.1f} us"
rows = [
    ("fork a world (3,200 records)", "fork", "under 1 us"),
    ("digest comparison", "digest_compare", ""),
    ("declarative read call (`get_customer`)", "call/declarative_read", "under 5 us"),
    ("declarative write call (`set_email`)", "call/declarative_write", "under 5 us"),
    ("Starlark write call (`cancel_order`, 5 records)", "call/starlark_write", "under 50 us"),
    ("replay + verify the 5-call task", "replay_verify_5_calls", "under 0.3 ms"),
]
print("| operation | time (mean) | target |")
print("|---|---:|---|")
for label, name, target in rows:
    print(f"| {label} | {fmt(mean_ns(name))} | {target} |")
ours_ms = mean_ns("replay_verify_5_calls") / 1e6
print()
print(f"Python {py['python']} baseline, same task and data, same run (median):")
print()
print("| Python step | time | engine speed-up |")
print("|---|---:|---:|")
print(f"| load the JSON database (once) | {py['load_ms']:.2f} ms | |")
print(f"| episode: load + replay + hash sorted JSON + compare | {py['episode_ms']:.2f} ms | {py['episode_ms'] / ours_ms:,.0f}x |")
print(f"| deep copy + replay + hash + compare (no load) | {py['copy_replay_hash_ms']:.2f} ms | {py['copy_replay_hash_ms'] / ours_ms:,.0f}x |")
PY
