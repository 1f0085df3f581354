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
# Search with the stored embedding of the first chunk of this README.
id=$(node --input-type=module -e "
  const { openCatalog } = await import('./dist/src/core/catalog/open.js');
  const c = await openCatalog('$root/versions/demo-hnsw');
  const [row] = await c.query(\"SELECT id FROM chunks WHERE uri = 'README.md' ORDER BY start_line LIMIT 1\");
  console.log(String(row.id)); c.close();")
run --root "$root" search --current --id "$id" --k 5
run --root "$root" publish demo-ivf --expect-current demo-hnsw --reason "demo: swap to IVF"
run --root "$root" rollback
run --root "$root" status
