#!/usr/bin/env bash
# `verify --level 1` of two checkouts against `xxhsum -H1` and `node -e 0`, interleaved, medians in
# ms: an A/B of a change to level 1's start-up or hashing on a noisy machine. The version is the one
# bench/verify-startup.ts builds (`node dist/bench/verify-startup.js --rows 100000 --runs 1` once).
#   OLD=/path/to/older/checkout bash bench/verify-ab.sh [runs]
# The older checkout needs its own dist/ and build/ (git worktree add DIR REV; ln -s node_modules;
# cp -r build; npm run build:ts).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
old=${OLD:?set OLD to an older checkout}
root=${ROOT:-${BENCH_DIR:-/tmp/indexctl-bench}/verify-root-100000}
version=${VERSION:-flat-100000}
runs=${1:-15}
dir=$root/versions/$version
files=("$dir/chunks.parquet" "$dir/faiss.index" "$dir/idmap.parquet" "$dir/catalog.duckdb")
cat "${files[@]}" > /dev/null
declare -A ms
for _ in $(seq "$runs"); do
  for c in xxhsum old new node; do
    s=$(date +%s%N)
    case $c in
      xxhsum) xxhsum -H1 "${files[@]}" > /dev/null ;;
      old) node "$old/bin/indexctl.js" --root "$root" verify "$version" --level 1 --json > /dev/null ;;
      new) node "$here/bin/indexctl.js" --root "$root" verify "$version" --level 1 --json > /dev/null ;;
      node) node -e 0 ;;
    esac
    ms[$c]+="$((($(date +%s%N) - s) / 1000000)) "
  done
done
for c in xxhsum old new node; do
  printf '%s %s\n' "$c" "$(tr ' ' '\n' <<< "${ms[$c]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
done
