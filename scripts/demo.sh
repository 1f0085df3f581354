#!/usr/bin/env bash
# The main job on the built-in sample: installs what is missing, then makes a chunks file from this
# repository's own sources (a deterministic feature-hashing embedder, no model download), builds an
# immutable version from it (HNSW and IVF) and shows what was built. Root: ./demo-index, fresh each run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
root=${INDEXCTL_DEMO_ROOT:-demo-index}
rm -rf "$root"
mkdir -p "$root"
run() {
  printf '\n$ indexctl %s\n' "$*" >&2
  node bin/indexctl.js "$@"
}
run --version
run doctor
run sample --from . --out "$root/chunks.parquet"
run --root "$root" build --chunks "$root/chunks.parquet" --factory auto --metric cosine --dry-run
run --root "$root" build --chunks "$root/chunks.parquet" --factory HNSW32 --metric cosine --version demo-hnsw
run --root "$root" build --chunks "$root/chunks.parquet" --factory IVF8,Flat --metric cosine --version demo-ivf
printf '\nnot yet: verify, publish, tune, search (later issues); the versions are in %s/versions\n' "$root" >&2
