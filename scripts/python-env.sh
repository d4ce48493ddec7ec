#!/usr/bin/env bash
# Prints the path of a Python interpreter whose virtual environment holds exactly the pinned
# packages of python/requirements.lock, creating it on first use.
#
# The environment lives in the machine-level cache, keyed by the lock file's hash and the
# Python version, so every clone of the repository (CI's fresh one included) reuses it:
#   ${WORLDSMITH_CACHE:-~/.cache/worldsmith}/venvs/<python version>-<hash>/
# It is built under a lock and marked complete at the end, so an interrupted build is redone
# rather than used.
#
# Usage: scripts/python-env.sh            print the interpreter (create the venv if needed)
#        scripts/python-env.sh --relock   re-resolve requirements.txt into requirements.lock
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WORLDSMITH_CACHE:-$HOME/.cache/worldsmith}"
python3="${WORLDSMITH_PYTHON:-python3}"
command -v "$python3" >/dev/null || { echo "error: $python3 is not installed" >&2; exit 2; }

if [[ "${1:-}" == "--relock" ]]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$python3" -m venv "$tmp/venv"
    "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/python/requirements.txt"
    {
        echo "# Resolved from requirements.txt by scripts/python-env.sh --relock; do not edit."
        "$tmp/venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel
    } >"$root/python/requirements.lock"
    echo "wrote python/requirements.lock" >&2
    exit 0
fi

lock="$root/python/requirements.lock"
version="$("$python3" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
hash="$(sha256sum "$lock" | cut -c1-16)"
venv="$cache/venvs/$version-$hash"
if [[ ! -f "$venv/.complete" ]]; then
    mkdir -p "$cache/venvs"
    # venvs are not relocatable: build at the final path under a lock, marking it complete.
    exec 9>"$venv.lock"
    flock 9
    if [[ ! -f "$venv/.complete" ]]; then
        rm -rf "$venv"
        echo "creating the Python test environment in $venv (once per lock file)" >&2
        "$python3" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$lock"
        touch "$venv/.complete"
    fi
fi
[[ -f "$venv/.complete" ]] || { echo "error: $venv is incomplete" >&2; exit 2; }
echo "$venv/bin/python"
