#!/usr/bin/env bash
# Builds a second copy of the addon linked against Debian's generic libfaiss (no AVX2), for the
# generic-vs-optimized comparison in bench/faiss.ts. Output: ~/.cache/indexctl/addon-generic/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/native" "$repo/binding.gyp" "$repo/package.json" "$repo/scripts" "$work/"
rm -rf "$work/native/generated"
ln -s "$repo/node_modules" "$work/node_modules"
(cd "$work" && INDEXCTL_FAISS=system node scripts/build-native.js)
out="${INDEXCTL_CACHE:-$HOME/.cache/indexctl}/addon-generic"
mkdir -p "$out"
cp "$work/build/Release/indexctl_faiss.node" "$out/"
echo "generic addon: $out/indexctl_faiss.node"
