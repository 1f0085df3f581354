/**
 * The read-only catalog handle every query path uses (search, verify, the library's openIndex).
 * DuckDB opens catalog.duckdb with access_mode READ_ONLY, so nothing done through a Catalog can
 * change a published version.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import type { DuckDBValue } from '@duckdb/node-api';

import type { DuckDBLimits } from './duckdb-limits.js';
import { IndexCorruptionError, NotFoundError, UsageError } from '../errors.js';
import { catalogCoverage, type CatalogCoverage } from './coverage.js';
import { connectCatalog, disconnect, message, type CatalogConnection } from './connect.js';
import { asCatalogCorruption, readingCatalog } from './corruption.js';
import {
  embeddingsForIds,
  hydrateIds,
  type EmbeddingsResult,
  type HydrateOptions,
  type HydrateResult,
} from './hydrate.js';
import { HYDRATION_TABLE } from './create.js';
import { CATALOG_FILE, CHUNKS_FILE, IDMAP_FILE, globLiteralDir } from './location.js';

export interface CatalogStructure {
  views: string[];
  tables: string[];
  indexes: { name: string; table: string }[];
}

const VIEWS = ['chunks', 'idmap', 'v_faiss_join'] as const;
const DEFAULT_COVERAGE_LIMIT = 10;

export class Catalog {
  /** Absolute path of catalog.duckdb. */
  readonly path: string;
  readonly versionDir: string;
  /** Columns of the `chunks` view, in order. */
  readonly chunkColumns: readonly string[];
  private handle: CatalogConnection | undefined;

  /** `chunk_meta` when the catalog has it (hydration reads it), else undefined (the views). */
  readonly hydrationTable: string | undefined;

  /** Use openCatalog(). */
  constructor(
    handle: CatalogConnection,
    versionDir: string,
    chunkColumns: string[],
    hydrationTable: string | undefined,
  ) {
    this.handle = handle;
    this.hydrationTable = hydrationTable;
    this.versionDir = versionDir;
    this.path = path.join(versionDir, CATALOG_FILE);
    this.chunkColumns = chunkColumns;
  }

  private get connection() {
    if (!this.handle) throw new UsageError(`${this.path}: catalog is closed`);
    return this.handle.connection;
  }

  /**
   * Every query goes through here: DuckDB reads (and checksums) a block only when a query first
   * needs it, so a damaged catalog that opened fine fails later, in whichever query touches the
   * block, and that failure must be corruption (4) wherever it happens, not an internal error.
   */
  private read<T>(run: (connection: CatalogConnection['connection']) => Promise<T>): Promise<T> {
    const connection = this.connection;
    return readingCatalog(this.path, () => run(connection));
  }

  /** Chunk metadata for `ids`, in the caller's order, plus the ids that have no chunk. */
  async hydrate(
    ids: BigInt64Array | readonly bigint[],
    options: HydrateOptions = {},
  ): Promise<HydrateResult> {
    return this.read((connection) =>
      hydrateIds(connection, ids, {
        ...options,
        hasText: this.chunkColumns.includes('text'),
        table: this.hydrationTable,
      }),
    );
  }

  /** Stored embeddings for `ids` as one contiguous Float32Array (found.length x dim). */
  async embeddingsByIds(ids: BigInt64Array | readonly bigint[]): Promise<EmbeddingsResult> {
    return this.read((connection) => embeddingsForIds(connection, ids));
  }

  async chunksCount(): Promise<number> {
    return this.scalarCount('chunks');
  }

  async idmapCount(): Promise<number> {
    return this.scalarCount('idmap');
  }

  /** Idmap ids that are not chunks, and embedded chunks that are not in the idmap. */
  async coverage(options: { limit?: number } = {}): Promise<CatalogCoverage> {
    const limit = options.limit ?? DEFAULT_COVERAGE_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new UsageError(`coverage limit must be a positive integer, got ${String(limit)}`);
    }
    return this.read((connection) => catalogCoverage(connection, limit));
  }

  /** The views, tables and indexes the catalog holds (verify's structure check). */
  async structure(): Promise<CatalogStructure> {
    const names = async (sql: string) =>
      (await this.read((connection) => connection.runAndReadAll(sql)))
        .getRowsJS()
        .map((row) => row.map(String));
    return {
      views: (
        await names(
          'SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database() ORDER BY 1',
        )
      ).map(([name]) => name!),
      tables: (
        await names(
          'SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1',
        )
      ).map(([name]) => name!),
      indexes: (
        await names(
          'SELECT index_name, table_name FROM duckdb_indexes() WHERE database_name = current_database() ORDER BY 1',
        )
      ).map(([name, table]) => ({ name: name!, table: table! })),
    };
  }

  /** A cheap round trip through the open read-only database. */
  async ping(): Promise<{ duckdbVersion: string }> {
    const reader = await this.read((connection) => connection.runAndReadAll('SELECT version()'));
    return { duckdbVersion: String(reader.getRowsJS()[0]![0]) };
  }

  /**
   * Any read-only SQL over the catalog (other chunk columns stay queryable), values bound as
   * parameters. Writes fail: the database is opened READ_ONLY.
   */
  async query(sql: string, params?: Record<string, DuckDBValue>): Promise<Record<string, unknown>[]> {
    const reader = await this.read((connection) => connection.runAndReadAll(sql, params));
    return reader.getRowObjectsJS();
  }

  /** Releases the DuckDB instance; safe to call twice. */
  close(): void {
    if (this.handle) disconnect(this.handle);
    this.handle = undefined;
  }

  private async scalarCount(relation: (typeof VIEWS)[number]): Promise<number> {
    const reader = await this.read((connection) =>
      connection.runAndReadAll(`SELECT count(*) FROM ${relation}`),
    );
    return Number(reader.getRowsJS()[0]![0]);
  }
}

/**
 * Opens `<versionDir>/catalog.duckdb` read-only and checks that its three views resolve against
 * this directory's Parquet files, so a Catalog that opens is one that answers.
 */
export async function openCatalog(
  versionDir: string,
  options: { duckdb?: DuckDBLimits } = {},
): Promise<Catalog> {
  const dir = path.resolve(versionDir);
  globLiteralDir(dir);
  for (const file of [CATALOG_FILE, CHUNKS_FILE, IDMAP_FILE]) {
    if (!existsSync(path.join(dir, file))) throw new NotFoundError(`${path.join(dir, file)}: not found`);
  }
  const file = path.join(dir, CATALOG_FILE);
  const handle = await connectCatalog(file, dir, 'read-only', {}, options.duckdb);
  try {
    let chunkColumns: string[] = [];
    for (const view of VIEWS) {
      try {
        const reader = await handle.connection.runAndReadAll(`DESCRIBE ${view}`);
        if (view === 'chunks') chunkColumns = reader.getRowObjectsJS().map((row) => String(row.column_name));
      } catch (err) {
        const damaged = asCatalogCorruption(file, err, `view ${view} does not resolve`);
        if (damaged !== err) throw damaged;
        throw new IndexCorruptionError(`${file}: view ${view} does not resolve: ${message(err)}`, {
          cause: err,
        });
      }
    }
    const tables = await readingCatalog(file, () =>
      handle.connection.runAndReadAll(
        'SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND table_name = $name',
        { name: HYDRATION_TABLE },
      ),
    );
    const hydrationTable = tables.getRowsJS().length > 0 ? HYDRATION_TABLE : undefined;
    return new Catalog(handle, dir, chunkColumns, hydrationTable);
  } catch (err) {
    disconnect(handle);
    throw err;
  }
}
