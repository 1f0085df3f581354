/** The catalog.* checks: catalog.duckdb opens read-only and describes the same vectors as the index. */
import { EMBEDDING_HASH_TABLE } from '../catalog/embedding-hash.js';
import { openCatalog, type Catalog } from '../catalog/open.js';
import { readCatalogStorage, type CatalogStorage } from '../catalog/storage.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { IndexctlError } from '../errors.js';
import type { Manifest } from '../manifest/schema.js';
import { SHOW } from './idmap-checks.js';
import { Check, firstOf, type CheckResult } from './types.js';

/**
 * DuckDB failing on files whose checksums passed (a version adopted with bad files) is damage to
 * those files; our own errors keep their codes; a TypeError or RangeError is a bug and is rethrown.
 */
function failure(check: Check, err: unknown): CheckResult {
  if (
    err instanceof IndexctlError ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    !(err instanceof Error)
  ) {
    return check.failWith(err);
  }
  return check.fail(`catalog: ${err.message.split('\n')[0]}`, 4);
}

export interface CatalogOpen {
  result: CheckResult;
  catalog?: Catalog;
}

/** `catalog.open`: openCatalog (read-only; its three views resolve) and one round trip. */
export async function checkOpen(dir: string, duckdb?: DuckDBLimits): Promise<CatalogOpen> {
  const check = new Check('catalog.open');
  let catalog: Catalog | undefined;
  try {
    catalog = await openCatalog(dir, duckdb ? { duckdb } : {});
    const { duckdbVersion } = await catalog.ping();
    return {
      catalog,
      result: check.pass(`read-only, views chunks, idmap, v_faiss_join resolve (DuckDB ${duckdbVersion})`),
    };
  } catch (err) {
    catalog?.close();
    const result = failure(check, err);
    // files.present has already named a missing file; here it is one more unreadable version file.
    return { result: result.exitCode === 6 ? { ...result, exitCode: 4 } : result };
  }
}

function storageDetail(s: CatalogStorage): string {
  const tables = s.tables.map((t) => `${t.name} ${t.rows} rows x ${t.columns} columns`).join(', ');
  const indexes = s.indexes.map((i) =>
    i.keys !== undefined ? `${i.name} (${i.keys} keys)` : `${i.name} (on an expression: not traversed)`,
  );
  return (
    `read in full: ${s.tables.length === 0 ? 'no tables' : tables}` +
    `${indexes.length > 0 ? `; through index ${indexes.join(', ')}` : ''}` +
    `; ${s.usedBlocks} of ${s.totalBlocks} blocks of ${s.blockSize / 1024} KiB in use`
  );
}

/**
 * `catalog.storage`: every table of catalog.duckdb read in full and every index traversed, so that
 * DuckDB checks the checksum of each block in use (catalog/storage.ts). A damaged block is
 * corruption (4) even when the manifest's checksum was recomputed over it.
 */
export async function checkStorage(dir: string, duckdb?: DuckDBLimits): Promise<CheckResult> {
  const check = new Check('catalog.storage');
  try {
    return check.pass(storageDetail(await readCatalogStorage(dir, duckdb)));
  } catch (err) {
    return failure(check, err);
  }
}

/**
 * `catalog.chunks_count`: at least one chunk per vector, and chunk ids unique (hydration by id must
 * find one row). Which chunks are embedded and indexed is catalog.coverage's question; counting
 * embeddings here would decode the whole embedding column (seconds at 1M x 384) for nothing more.
 */
export async function checkChunksCount(catalog: Catalog, manifest: Manifest): Promise<CheckResult> {
  const check = new Check('catalog.chunks_count');
  try {
    const [row] = await catalog.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM chunks');
    const n = Number(row!.n);
    const ids = Number(row!.ids);
    const problems: string[] = [];
    if (n < manifest.vectors_count) {
      problems.push(`${n} chunks for ${manifest.vectors_count} vectors (manifest vectors_count)`);
    }
    if (ids !== n) {
      const dups = await catalog.query(
        `SELECT id FROM chunks GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT ${SHOW}`,
      );
      problems.push(
        `chunk ids repeat (${n - ids} extra rows): ${firstOf(
          dups.map((r) => r.id as bigint),
          n - ids,
        )}`,
      );
    }
    if (problems.length === 0 && catalog.hydrationTable !== undefined) {
      // What search hydrates from must be these chunks, each with its FAISS row (a chunks.parquet
      // swapped under a catalog made for another is caught here).
      const [meta] = await catalog.query(
        `SELECT count(*) AS n, count(faiss_row) AS indexed FROM ${catalog.hydrationTable}`,
      );
      const rows = Number(meta!.n);
      const indexed = Number(meta!.indexed);
      if (rows !== n) problems.push(`${catalog.hydrationTable} has ${rows} rows for ${n} chunks`);
      if (indexed !== manifest.vectors_count) {
        problems.push(
          `${catalog.hydrationTable} has ${indexed} rows with a faiss_row for ${manifest.vectors_count} vectors`,
        );
      }
    }
    if (problems.length === 0) problems.push(...(await embeddingHashProblems(catalog, manifest)));
    if (problems.length > 0) return check.fail(`chunks: ${problems.join('; ')}`, 3);
    const extra = n - manifest.vectors_count;
    return check.pass(
      `${n} chunks, ids unique, ${extra === 0 ? '= vectors_count' : `${extra} more than vectors_count (not indexed)`}`,
    );
  } catch (err) {
    return failure(check, err);
  }
}

/**
 * chunk_embedding_hash (what `build --base` diffs against), when the catalog has it: one row per
 * vector, each an id of the idmap. Two counts over 16 bytes a row: cheap beside the other checks.
 */
async function embeddingHashProblems(catalog: Catalog, manifest: Manifest): Promise<string[]> {
  const [table] = await catalog.query(
    'SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() AND table_name = $name',
    { name: EMBEDDING_HASH_TABLE },
  );
  if (Number(table!.n) === 0) return [];
  // An anti join, not a LEFT JOIN's count: an id the idmap holds twice must not count its hash twice.
  const [row] = await catalog.query(
    `SELECT (SELECT count(*) FROM ${EMBEDDING_HASH_TABLE}) AS n,
            (SELECT count(*) FROM ${EMBEDDING_HASH_TABLE} h ANTI JOIN idmap i ON i.external_id = h.id) AS stray`,
  );
  const problems: string[] = [];
  const n = Number(row!.n);
  const stray = Number(row!.stray);
  if (n !== manifest.vectors_count) {
    problems.push(`${EMBEDDING_HASH_TABLE} has ${n} rows for ${manifest.vectors_count} vectors`);
  }
  if (stray > 0) problems.push(`${EMBEDDING_HASH_TABLE} has ${stray} ids that are not in the idmap`);
  return problems;
}

/** `catalog.coverage`: every idmap id is a chunk, and every embedded chunk is in the idmap. */
export async function checkCoverage(catalog: Catalog): Promise<CheckResult> {
  const check = new Check('catalog.coverage');
  try {
    const { idmapNotInChunks: a, chunksNotInIdmap: b } = await catalog.coverage({ limit: SHOW });
    if (a.count === 0 && b.count === 0) {
      return check.pass('every idmap id is a chunk and every embedded chunk is in the idmap');
    }
    const parts = [
      ...(a.count > 0
        ? [`${a.count} idmap id${a.count === 1 ? ' is' : 's are'} not chunks: ${firstOf(a.first, a.count)}`]
        : []),
      ...(b.count > 0
        ? [
            `${b.count} embedded chunk${b.count === 1 ? ' is' : 's are'} not in the idmap: ${firstOf(b.first, b.count)}`,
          ]
        : []),
    ];
    return check.fail(parts.join('; '), 3);
  } catch (err) {
    return failure(check, err);
  }
}
