/**
 * Creates `<versionDir>/catalog.duckdb`: views `chunks`, `idmap` and `v_faiss_join`, and with
 * `materialize` the table `faiss_idmap_mat` indexed on `external_id` (docs/format.md). The views store
 * no path; see location.ts for how they find their Parquet files after the root moves.
 *
 * The database is written under a temporary name, checkpointed (no WAL left behind), synced and
 * renamed into place, so a crash never leaves a half-made catalog under the real name.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

import type { DuckDBConnection } from '@duckdb/node-api';

import { storeEmbeddingHashes, type EmbeddingHashes } from './embedding-hash.js';
import { outOfMemory, type DuckDBLimits } from './duckdb-limits.js';
import { BadInputError, NotFoundError } from '../errors.js';
import { fsyncDir, fsyncFile, tempPathFor } from '../util/fsync.js';
import { connectCatalog, disconnect, message, type CatalogConnection } from './connect.js';
import { globLiteral } from '../parquet/duckdb-source.js';
import { CATALOG_FILE, CHUNKS_FILE, IDMAP_FILE, globLiteralDir, parquetSource } from './location.js';

/**
 * What search hydrates from: the chunk metadata and FAISS row of every chunk, stored in the catalog
 * sorted by id with an ART index on id, which DuckDB uses for the semi-join of a few ids. Over the
 * Parquet views a 10-id lookup at 1M rows decodes whole row groups of both files (35 ms); a scan of
 * this table with zone maps alone, 5 ms; through the index, about 1 ms (docs/PERFORMANCE.md). Table
 * and index cost ~15 MB and ~0.7 s per million chunks at build.
 */
export const HYDRATION_TABLE = 'chunk_meta';

/** The chunk columns hydration relies on, by their canonical names. */
export const CHUNK_COLUMNS = ['id', 'embedding', 'uri', 'lang', 'start_line', 'end_line'] as const;
export type ChunkColumn = (typeof CHUNK_COLUMNS)[number];

export interface CreateCatalogOptions {
  /** Also store `faiss_idmap_mat (faiss_row, external_id)` with an index on `external_id`. */
  materialize?: boolean;
  /**
   * Names of the canonical columns in chunks.parquet when they differ (build's column flags). The
   * `chunks` view renames them, so every query sees `id`, `embedding`, `uri`, ...
   */
  columns?: Partial<Record<ChunkColumn, string>>;
  /** DuckDB memory and thread limits (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
  /** Each chunk's embedding hash (build): stored as table chunk_embedding_hash (embedding-hash.ts). */
  embeddingHashes?: EmbeddingHashes;
  /**
   * Cancels the build of the catalog: the running statement is interrupted (DuckDB's
   * `interrupt()`, which stops a COPY or an index build between vectors), the temporary file is
   * removed, and the signal's reason is thrown.
   */
  signal?: AbortSignal | undefined;
}

export interface CreatedCatalog {
  path: string;
  materialized: boolean;
  chunksCount: number;
  idmapCount: number;
}

const IDMAP_COLUMNS = ['faiss_row', 'external_id'] as const;

/** Identifiers cannot be bound as parameters; double-quoting with `"` doubled is DuckDB's escaping. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function parquetColumns(
  connection: DuckDBConnection,
  versionDir: string,
  file: typeof CHUNKS_FILE | typeof IDMAP_FILE,
): Promise<string[]> {
  try {
    const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${parquetSource(file)}`);
    return reader.getRowObjectsJS().map((row) => String(row.column_name));
  } catch (err) {
    throw new BadInputError(`${path.join(versionDir, file)}: not readable as Parquet: ${message(err)}`, {
      cause: err,
    });
  }
}

function requireColumns(file: string, have: string[], needed: readonly string[]): void {
  const missing = needed.filter((name) => !have.includes(name));
  if (missing.length > 0) {
    throw new BadInputError(
      `${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (has: ${have.join(', ')})`,
    );
  }
}

/** `SELECT * RENAME (...)` for the mapped columns, refusing a mapping that would duplicate a name. */
function chunksProjection(
  file: string,
  have: string[],
  columns: Partial<Record<ChunkColumn, string>>,
): string {
  const renames: string[] = [];
  for (const canonical of CHUNK_COLUMNS) {
    const source = columns[canonical] ?? canonical;
    if (source === canonical) continue;
    if (have.includes(canonical)) {
      throw new BadInputError(
        `${file}: column ${canonical} already exists, so column ${source} cannot be used as ${canonical}`,
      );
    }
    renames.push(`${ident(source)} AS ${ident(canonical)}`);
  }
  return renames.length === 0 ? '*' : `* RENAME (${renames.join(', ')})`;
}

async function defineViews(
  connection: DuckDBConnection,
  versionDir: string,
  columns: Partial<Record<ChunkColumn, string>>,
): Promise<void> {
  const chunksFile = path.join(versionDir, CHUNKS_FILE);
  const chunkColumns = await parquetColumns(connection, versionDir, CHUNKS_FILE);
  requireColumns(
    chunksFile,
    chunkColumns,
    CHUNK_COLUMNS.map((name) => columns[name] ?? name),
  );
  if (chunkColumns.includes('faiss_row')) {
    throw new BadInputError(`${chunksFile}: a column named faiss_row would clash with v_faiss_join's`);
  }
  const idmapColumns = await parquetColumns(connection, versionDir, IDMAP_FILE);
  requireColumns(path.join(versionDir, IDMAP_FILE), idmapColumns, IDMAP_COLUMNS);

  const projection = chunksProjection(chunksFile, chunkColumns, columns);
  await connection.run(`CREATE VIEW chunks AS SELECT ${projection} FROM ${parquetSource(CHUNKS_FILE)}`);
  await connection.run(`CREATE VIEW idmap AS SELECT * FROM ${parquetSource(IDMAP_FILE)}`);
  await connection.run(
    `CREATE VIEW v_faiss_join AS SELECT c.*, i.faiss_row FROM chunks c LEFT JOIN idmap i ON i.external_id = c.id`,
  );
}

async function count(connection: DuckDBConnection, relation: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${relation}`);
  return Number(reader.getRowsJS()[0]![0]);
}

export async function createCatalog(
  versionDir: string,
  options: CreateCatalogOptions = {},
): Promise<CreatedCatalog> {
  const catalog = await CatalogBuild.open(versionDir, options);
  return catalog.finish(options);
}

/**
 * Not UNIQUE: duplicate chunk ids are verify's to report (catalog.chunks_count), not a reason for the
 * catalog of an adopted version to fail to build.
 */
async function createHydrationIndex(connection: DuckDBConnection): Promise<void> {
  await connection.run(`CREATE INDEX ${HYDRATION_TABLE}_id ON ${HYDRATION_TABLE} (id)`);
}

/** One input file of a build and the dataset row its first row is (chunks-reader's inputs). */
export interface CatalogInput {
  file: string;
  firstRow: number;
}

/**
 * A catalog made in two steps, so that the expensive one can run while FAISS adds: `fillFromInput`
 * (optional) stores chunk_meta from the build's input files, `finish` does the rest (or all of it:
 * createCatalog) over the version's own files. The database is a temporary file until `finish`
 * renames it into place; `abort` removes it.
 */
export class CatalogBuild {
  private filled: Promise<void> | undefined;
  private done = false;

  private constructor(
    private readonly dir: string,
    private readonly temporary: string,
    private readonly spill: string,
    private readonly handle: CatalogConnection,
    private readonly signal: AbortSignal | undefined,
    private readonly limits: DuckDBLimits | undefined,
  ) {
    // A cancellation must not wait for a statement that runs for seconds on a busy machine.
    signal?.addEventListener('abort', this.interrupt, { once: true });
  }

  static async open(
    versionDir: string,
    options: Pick<CreateCatalogOptions, 'duckdb' | 'signal'> = {},
  ): Promise<CatalogBuild> {
    const dir = path.resolve(versionDir);
    globLiteralDir(dir);
    options.signal?.throwIfAborted();
    const temporary = tempPathFor(path.join(dir, CATALOG_FILE));
    // Spills (the sort and index build of chunk_meta) go next to the catalog, inside the staging
    // directory during a build, and are removed whatever happens.
    const spill = `${temporary}.spill`;
    const handle = await connectCatalog(temporary, dir, 'read-write', {}, options.duckdb, spill);
    return new CatalogBuild(dir, temporary, spill, handle, options.signal, options.duckdb);
  }

  /**
   * chunk_meta read straight from the input files, which the version's chunks.parquet is a copy of
   * (build checks them unchanged before the seal): faiss_row is the dataset row number, since a full
   * build adds every row in file order. Runs in the background; `finish` awaits it.
   */
  fillFromInput(
    inputs: readonly CatalogInput[],
    columns: Partial<Record<ChunkColumn, string>> = {},
    onDone?: () => void,
  ): void {
    const col = (name: ChunkColumn) => ident(columns[name] ?? name);
    const selects = inputs.map(
      ({ firstRow }, k) =>
        `SELECT ${col('id')}::BIGINT AS id, ${col('uri')}::VARCHAR AS uri, ${col('lang')}::VARCHAR AS lang,
                ${col('start_line')}::BIGINT AS start_line, ${col('end_line')}::BIGINT AS end_line,
                (file_row_number + ${firstRow})::BIGINT AS faiss_row
           FROM read_parquet($${k + 1}, file_row_number = true)`,
    );
    const { connection } = this.handle;
    this.filled = (async () => {
      await connection.run(
        `CREATE TABLE ${HYDRATION_TABLE} AS SELECT * FROM (${selects.join(' UNION ALL ')}) ORDER BY id`,
        inputs.map((i) => globLiteral(i.file)),
      );
      await createHydrationIndex(connection);
      // Written out now, beside the add: finish's checkpoint then writes only the hash table.
      await connection.run('CHECKPOINT');
      onDone?.();
    })();
    this.filled.catch(() => undefined);
  }

  async finish(options: CreateCatalogOptions = {}): Promise<CreatedCatalog> {
    const { dir, temporary, handle, signal } = this;
    const target = path.join(dir, CATALOG_FILE);
    let created: CreatedCatalog;
    try {
      for (const file of [CHUNKS_FILE, IDMAP_FILE]) {
        if (!existsSync(path.join(dir, file))) {
          throw new NotFoundError(`${path.join(dir, file)}: not found; the catalog is built over it`);
        }
      }
      const { connection } = handle;
      await this.filled;
      await defineViews(connection, dir, options.columns ?? {});
      if (!this.filled) {
        await connection.run(
          `CREATE TABLE ${HYDRATION_TABLE} AS SELECT c.id::BIGINT AS id, c.uri::VARCHAR AS uri, c.lang::VARCHAR AS lang,
                  c.start_line::BIGINT AS start_line, c.end_line::BIGINT AS end_line, i.faiss_row::BIGINT AS faiss_row
             FROM chunks c LEFT JOIN idmap i ON i.external_id = c.id ORDER BY c.id`,
        );
        await createHydrationIndex(connection);
      }
      if (options.embeddingHashes) await storeEmbeddingHashes(connection, options.embeddingHashes);
      const materialized = options.materialize === true;
      if (materialized) {
        await connection.run(
          'CREATE TABLE faiss_idmap_mat AS SELECT faiss_row, external_id FROM idmap ORDER BY faiss_row',
        );
        await connection.run('CREATE INDEX faiss_idmap_mat_external_id ON faiss_idmap_mat (external_id)');
      }
      created = {
        path: target,
        materialized,
        chunksCount: await count(connection, 'chunks'),
        idmapCount: await count(connection, 'idmap'),
      };
      signal?.throwIfAborted();
      await connection.run('CHECKPOINT');
    } catch (err) {
      await this.abort();
      if (signal?.aborted) throw signal.reason as Error;
      throw outOfMemory(err, this.limits, `building ${target}`) ?? err;
    }
    this.close();
    await rm(this.spill, { recursive: true, force: true });
    try {
      await fsyncFile(temporary);
      await rename(temporary, target);
    } catch (err) {
      await this.removeTemporary();
      throw err;
    }
    await fsyncDir(dir);
    return created;
  }

  /** Stops and removes what was made (a failed or cancelled build). */
  async abort(): Promise<void> {
    if (!this.done) {
      this.interrupt();
      await this.filled?.catch(() => undefined);
    }
    this.close();
    await this.removeTemporary();
    await rm(this.spill, { recursive: true, force: true });
  }

  private readonly interrupt = (): void => {
    if (!this.done) this.handle.connection.interrupt();
  };

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.signal?.removeEventListener('abort', this.interrupt);
    disconnect(this.handle);
  }

  private async removeTemporary(): Promise<void> {
    await rm(this.temporary, { force: true });
    await rm(`${this.temporary}.wal`, { force: true });
  }
}
