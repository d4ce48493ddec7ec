#!/usr/bin/env bash
# The whole test suite: the Rust workspace's tests, then the Python tests (pytest, in the
# pinned environment of scripts/python-env.sh) against the binary the Rust tests built.
# Arguments go to `cargo test` (for example --locked).
#
# Outside CI, the Python part is skipped with a message when Python or PyPI is unavailable;
# under CI=true that is an error, as is a Python run that collects no tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo test --workspace "$@"
cargo build -q -p worldsmith ${CI:+--locked}
if ! python="$(bash scripts/python-env.sh)"; then
    if [[ -n "${CI:-}" ]]; then
        echo "error: CI needs the Python test environment (see the message above)" >&2
        exit 1
    fi
    echo "skipping the Python tests: no Python test environment (see the message above)" >&2
    exit 0
fi
target="$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# pytest exits with 5 when it collects nothing: that fails this script too.
WORLDSMITH_BIN="$target/debug/worldsmith" "$python" -m pytest python/tests -q -p no:cacheprovider
