#!/usr/bin/env bash
# tau-retail command-line replay, end to end: `worldsmith world replay tau-retail` timed as a
# process (load the world, read and parse the task lines, fork + replay, verify, write the
# result lines) over the 500 gold tasks repeated to several thousand, against the Python
# baseline (bench/tau_retail_baseline.py) in the same run.
#
# Usage: bash bench/tau_retail_cli.sh            (REPEAT=10 RUNS=7 TASKS=50 by default)
# Env:   REPEAT   copies of the 500 train tasks in the task file (10: 5,000 episodes)
#        RUNS     timed runs of the binary (min and median reported)
#        TASKS    tasks the Python baseline replays (its mean per task is used)
#        BIN      a prebuilt binary to time instead of building this checkout
#        WORLDSMITH_TAU_RETAIL_DATA   the data directory (default ../shared/taubench-retail)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${WORLDSMITH_TAU_RETAIL_DATA:-../shared/taubench-retail}"
export WORLDSMITH_TAU_RETAIL_DATA="$data"
target="${CARGO_TARGET_DIR:-target}"
if [[ -z "${BIN:-}" ]]; then
  cargo build -q --release -p worldsmith </dev/null
  BIN="$target/release/worldsmith"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for _ in $(seq "${REPEAT:-10}"); do cat "$data/train.jsonl"; done > "$tmp/tasks.jsonl"

python3 - "$BIN" "$tmp" "${RUNS:-7}" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
bin_, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
tasks = f"{tmp}/tasks.jsonl"
n = sum(1 for line in open(tasks) if line.strip())

cpu = []

def run(out, env=None, extra=(), check=True):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([bin_, "world", "replay", "tau-retail", "--tasks", tasks, "--out", out, *extra],
                       env={**os.environ, **(env or {})}, capture_output=True, text=True)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if p.returncode != 0 and check:
        sys.exit(f"replay failed ({p.returncode}): {p.stderr}")
    return dt, p.stderr

run(f"{tmp}/warm.jsonl")  # page cache, first-run costs
cpu.clear()
times = [run(f"{tmp}/out.jsonl")[0] for _ in range(runs)]
cpu_min = min(cpu)
one = [run(f"{tmp}/out1.jsonl", {"RAYON_NUM_THREADS": "1"})[0] for _ in range(max(3, runs // 2))]
empty = f"{tmp}/empty.jsonl"
open(empty, "w").close()
t = time.perf_counter()
for _ in range(5):
    subprocess.run([bin_, "world", "replay", "tau-retail", "--tasks", empty, "--out", f"{tmp}/e.jsonl"],
                   capture_output=True, check=True)
fixed = (time.perf_counter() - t) / 5
same = open(f"{tmp}/out.jsonl", "rb").read() == open(f"{tmp}/out1.jsonl", "rb").read()
_, timings = run(f"{tmp}/timed.jsonl", extra=("--timings",), check=False)
if "unexpected argument" in timings:
    timings = "(this binary has no --timings)"
timings = "\n".join(l for l in timings.splitlines() if not l.startswith("replayed "))
size = os.path.getsize(f"{tmp}/out.jsonl")
json.dump({"episodes": n, "min": min(times), "median": statistics.median(times), "one_thread_min": min(one),
           "one_thread_median": statistics.median(one), "fixed": fixed, "same_bytes_1_vs_n_threads": same,
           "out_bytes": size, "timings": timings, "cpu_min": cpu_min}, open(f"{tmp}/cli.json", "w"))
PY

python3 bench/tau_retail_baseline.py "$data" "${TASKS:-50}" > "$tmp/python.json"

python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
c = json.load(open(f"{tmp}/cli.json"))
py = json.load(open(f"{tmp}/python.json"))
n = c["episodes"]
per = lambda s: s * 1000 / n
print(f"worldsmith world replay tau-retail: {n:,} episodes ({c['out_bytes'] / 1e6:.1f} MB of result lines)")
print("| measure | per episode | whole run |")
print("|---|---:|---:|")
print(f"| end to end, all cores (min of runs) | {per(c['min']):.4f} ms | {c['min'] * 1000:.0f} ms |")
print(f"| end to end, all cores (median) | {per(c['median']):.4f} ms | {c['median'] * 1000:.0f} ms |")
print(f"| end to end, one thread (min) | {per(c['one_thread_min']):.4f} ms | {c['one_thread_min'] * 1000:.0f} ms |")
print(f"| end to end, one thread (median) | {per(c['one_thread_median']):.4f} ms | {c['one_thread_median'] * 1000:.0f} ms |")
print(f"| CPU time (user + sys), all cores (min of runs) | {per(c['cpu_min']):.4f} ms | {c['cpu_min'] * 1000:.0f} ms |")
print(f"| fixed cost (start, load the world, no task) | | {c['fixed'] * 1000:.0f} ms |")
print()
print(f"Output identical on one thread and on all: {c['same_bytes_1_vs_n_threads']}")
print()
print("Split (--timings, one run; CPU time summed over threads):")
print(c["timings"].rstrip())
print()
ep = py["episode_ms"]
print(f"Python baseline (same run, {py['tasks']} tasks, Python {py['python']}): load + replay + hash {ep:.1f} ms per task")
print(f"ratio, all cores (min): {ep / per(c['min']):,.0f}x; median: {ep / per(c['median']):,.0f}x")
print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
print(f"ratio, one thread (min): {ep / per(c['one_thread_min']):,.0f}x; median: {ep / per(c['one_thread_median']):,.0f}x")
PY
