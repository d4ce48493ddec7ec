#!/usr/bin/env bash
# tau-retail: engine (release, one core) against the Python baseline, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${WORLDSMITH_TAU_RETAIL_DATA:-../shared/taubench-retail}"
taskset -c 0 cargo bench -q -p worldsmith-engine --bench tau_retail -- --noplot >/dev/null
taskset -c 0 python3 bench/tau_retail_baseline.py "$data" "${TASKS:-50}" > target/bench-tau-python.json
python3 - <<'PY'
import json, pathlib
est = lambda n: json.loads(pathlib.Path(f"target/criterion/tau_retail/{n}/new/estimates.json").read_text())["mean"]["point_estimate"]
py = json.loads(pathlib.Path("target/bench-tau-python.json").read_text())
load_ms = est("load_world_and_database") / 1e6
task_us = est("replay_verify_500_tasks") / 500 / 1e3
print("| step | engine | Python baseline | speed-up |")
print("|---|---:|---:|---:|")
print(f"| load the database (once) | {load_ms:.1f} ms | {py['load_ms']:.1f} ms | |")
print(f"| per task: replay + verify (episode) | {task_us:.1f} us | {py['episode_ms']:.1f} ms | {py['episode_ms'] * 1000 / task_us:,.0f}x |")
print(f"| per task: with the reward check | {task_us:.1f} us | {py['task_with_reward_ms']:.1f} ms | {py['task_with_reward_ms'] * 1000 / task_us:,.0f}x |")
print(f"\nPython {py['python']}, {py['tasks']} tasks; engine: mean over all 500 tasks.")
PY
