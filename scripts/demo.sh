#!/usr/bin/env bash
# The main job on the built-in sample: installs what is missing, then runs the whole lifecycle on a
# chunks file made from this repository's own sources (a deterministic feature-hashing embedder, no
# model download): sample -> build (HNSW and IVF) -> verify -> tune --write -> publish -> search ->
# a second publish with compare-and-swap -> rollback -> status. Root: ./demo-index, fresh each run.
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
run --root "$root" build --chunks "$root/chunks.parquet" --factory IVF16,Flat --metric cosine --version demo-ivf
run --root "$root" verify demo-hnsw --level 3
run --root "$root" tune demo-hnsw --target-recall 0.95 --write
run --root "$root" tune demo-ivf --target-recall 0.95 --write
run --root "$root" publish demo-hnsw --expect-current none --reason "demo: first publish"
# Search by words (the version was built from `sample` chunks, so its manifest records the embedder),
# then find a chunk's id with `chunks` and search with its stored embedding.
run --root "$root" search --text "publish a version and flip CURRENT" --k 5
run --root "$root" chunks --uri 'README.md' --limit 3
id=$(node bin/indexctl.js --root "$root" chunks --uri 'README.md' --limit 1 --json |
  node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).chunks[0].id))")
run --root "$root" search --current --id "$id" --k 5
run --root "$root" publish demo-ivf --expect-current demo-hnsw --reason "demo: swap to IVF"
run --root "$root" rollback
run --root "$root" status
