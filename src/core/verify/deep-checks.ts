/**
 * verify's level 2 and 3 checks, loaded by verify.ts only for those levels: they bring DuckDB (the
 * catalog checks), parquet-wasm (the id map) and the FAISS probe's checks, whose start-up was most
 * of a level-1 run's cost (docs/PERFORMANCE.md "verify start-up"). Level 1 hashes files and needs
 * none of them.
 */
import type { Catalog } from '../catalog/open.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { VERSION_FILES } from '../layout.js';
import type { Manifest } from '../manifest/schema.js';
import type { IdMap } from '../parquet/idmap-reader.js';
import { checkChunksCount, checkCoverage, checkOpen, checkStorage } from './catalog-checks.js';
import { checkMatchesIndex, checkOrder, checkRows, checkUnique } from './idmap-checks.js';
import type { IndexFacts } from './probe-protocol.js';
import { Check, skipAll, type CheckResult } from './types.js';

export { readIdMap } from '../parquet/idmap-reader.js';
export {
  checkConsistency,
  checkCount,
  checkDim,
  checkIdMap2,
  checkMetric,
  checkStructure,
  loadResult,
} from './index-checks.js';
export { checkHeader } from './header-check.js';
export { verifyLegacy } from './legacy-checks.js';
export { checkParams } from './params-check.js';
export { checkSmoke } from './smoke.js';

export function idmapChecks(
  read: { value?: IdMap; error?: unknown; ms: number } | undefined,
  facts: IndexFacts | undefined,
  manifest: Manifest,
): CheckResult[] {
  const names = ['idmap.rows', 'idmap.order', 'idmap.unique', 'idmap.matches_index'];
  if (!read) return skipAll(names, `${VERSION_FILES.idmap} did not pass files.checksum: not read`);
  if (!read.value) {
    return [
      new Check('idmap.rows', undefined, read.ms).failWith(read.error),
      ...skipAll(names.slice(1), 'idmap.parquet could not be read (see idmap.rows)'),
    ];
  }
  const idmap = read.value;
  const rows = facts
    ? checkRows(idmap, facts.ntotal, 'faiss.index ntotal', read.ms)
    : checkRows(idmap, manifest.vectors_count, 'manifest vectors_count (the index was not loaded)', read.ms);
  const matches = !facts
    ? new Check('idmap.matches_index').skip('faiss.index was not loaded (see index.load)')
    : facts.idMap
      ? checkMatchesIndex(idmap, facts.idMap)
      : new Check('idmap.matches_index').skip(`faiss.index has no id map: ${facts.idMapError ?? ''}`);
  return [rows, checkOrder(idmap), checkUnique(idmap), matches];
}

export async function runCatalogChecks(
  dir: string,
  manifest: Manifest,
  passed: (name: string) => boolean,
  duckdb: DuckDBLimits | undefined,
): Promise<{ results: CheckResult[]; catalog?: Catalog }> {
  const names = ['catalog.open', 'catalog.storage', 'catalog.chunks_count', 'catalog.coverage'];
  const inputs = [VERSION_FILES.catalog, VERSION_FILES.chunks, VERSION_FILES.idmap].filter((n) => !passed(n));
  // A catalog.duckdb the manifest does not list has no checksum; its views are checked all the same.
  const unlisted = inputs.filter((n) => n === VERSION_FILES.catalog && !manifest.files[n]);
  const blocking = inputs.filter((n) => !unlisted.includes(n));
  if (blocking.length > 0)
    return { results: skipAll(names, `${blocking.join(', ')} did not pass files.checksum`) };
  const open = await checkOpen(dir, duckdb);
  if (!open.catalog)
    return {
      results: [open.result, ...skipAll(names.slice(1), 'the catalog did not open (see catalog.open)')],
    };
  try {
    const storage = await checkStorage(dir, duckdb);
    // chunks_count reads chunk_meta, which a damaged block makes unreadable; coverage reads the
    // Parquet files through the views and still has something to say.
    const counts =
      storage.outcome === 'fail'
        ? new Check('catalog.chunks_count').skip('catalog.duckdb did not pass catalog.storage')
        : await checkChunksCount(open.catalog, manifest);
    return {
      catalog: open.catalog,
      results: [open.result, storage, counts, await checkCoverage(open.catalog)],
    };
  } catch (err) {
    // A check that throws (a bug, not a finding) must not leave the database open behind it.
    open.catalog.close();
    throw err;
  }
}
