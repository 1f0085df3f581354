/**
 * Streams the `(id, embedding)` columns of a chunks Parquet file into typed arrays.
 *
 * DuckDB does the Parquet decoding: on the reference machine it measured 2.5-3x faster than
 * parquet-wasm for `List<Float32>` (bench/ingest.ts), and both layouts (`List<Float32>` and
 * `FixedSizeList<Float32>`) read the same way through it. Each 2048-row result chunk arrives as a few
 * typed arrays (duckdb-chunk.ts), is validated in tight loops, and is copied with one `set()` into
 * the caller's arrays; no per-value JS object is ever made. Memory is bounded by what the caller
 * keeps plus DuckDB's read-ahead (a few row groups), never by the file size.
 *
 * Validation happens in two places: everything knowable from the footer and the id column (not
 * Parquet, empty, missing column, wrong type, null/negative/duplicate ids, dimension) fails in
 * `openChunks`, before any vector is read; per-row faults in the embeddings (null, mixed dimension,
 * null values, NaN/Inf, and all-zero rows under `normalize`) are counted over the whole file during a
 * pass, which stops handing out data at the first one and throws when the file has been scanned.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

import { BadInputError, UsageError } from '../errors.js';
import { MAX_DIM } from '../util/limits.js';
import { ChunkChecker, type Piece } from './chunk-check.js';
import { copyScaled } from './cosine.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { chunkViews } from './duckdb-chunk.js';
import {
  describeParquet,
  quoteIdent,
  reading,
  type ParquetColumn,
  type ParquetSource,
} from './duckdb-source.js';
import { assertParquetFile, checkColumns, checkIds, checkNotEmpty } from './validate.js';

export interface ChunksOptions {
  /** Default `id`. */
  idColumn?: string;
  /** Default `embedding`. */
  embeddingColumn?: string;
  /** The expected dimension (`--dim`); a file with another one is refused. */
  dim?: number;
  /** L2-normalize every vector as it is copied (the cosine metric); all-zero rows are refused. */
  normalize?: boolean;
  /** DuckDB memory and thread limits (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
}

export interface ChunkBatch {
  /** Views into buffers the reader reuses: valid until the iteration continues. */
  ids: BigInt64Array;
  vectors: Float32Array;
  /** File row (0-based) of the batch's first row; equals the FAISS row when batches are added in order. */
  rowOffset: number;
  rows: number;
}

export interface BatchOptions {
  /** Rows per batch; default the largest row group, capped at 256 MiB of floats. */
  batchRows?: number;
}

export interface ChunksReader {
  /** Absolute path. */
  readonly file: string;
  readonly rows: number;
  readonly dim: number;
  readonly rowGroups: number;
  /** Every column of the file with DuckDB's name for its type, e.g. `id BIGINT`, `embedding FLOAT[]`. */
  readonly columns: readonly ParquetColumn[];
  readonly idColumn: string;
  readonly embeddingColumn: string;
  /** One pass over the file, in row order. Each call starts a new pass; passes may overlap. */
  batches(options?: BatchOptions): AsyncIterable<ChunkBatch>;
  /** One pass copying every row into `ids` (rows) and `vectors` (rows x dim). */
  readInto(ids: BigInt64Array, vectors: Float32Array): Promise<void>;
  /** Rows of each row group, in file order (a shard build splits the input by row group). */
  rowGroupRows(): Promise<number[]>;
  /**
   * Where DuckDB spills from now on (a build points it into its staging directory, so a spill is
   * removed with it). Call between passes.
   */
  useTempDirectory(dir: string): Promise<void>;
  /** Releases DuckDB. Passes in progress fail afterwards. */
  close(): void;
}

export interface AllChunks {
  file: string;
  rows: number;
  dim: number;
  columns: readonly ParquetColumn[];
  ids: BigInt64Array;
  vectors: Float32Array;
}

const MAX_BATCH_BYTES = 256 * 1024 * 1024;
/**
 * DuckDB's read-ahead for streamed results. Its default (about 1 MB) let the scan threads idle while
 * JS copied (3.1 s vs 4.2 s per million 384-d rows, measured); 32 MB to 512 MB all measured alike.
 */
const STREAM_BUFFER_BYTES = 32 * 1024 * 1024;

/** Opens and validates a chunks file; see the module comment for what fails here. */
export async function openChunks(file: string, options: ChunksOptions = {}): Promise<ChunksReader> {
  const idColumn = options.idColumn ?? 'id';
  const embeddingColumn = options.embeddingColumn ?? 'embedding';
  if (idColumn === embeddingColumn) {
    throw new UsageError(`the id and embedding columns must differ (both are "${idColumn}")`);
  }
  if (
    options.dim !== undefined &&
    (!Number.isSafeInteger(options.dim) || options.dim <= 0 || options.dim > MAX_DIM)
  ) {
    throw new UsageError(`dim must be an integer in [1, ${MAX_DIM}], got ${String(options.dim)}`);
  }
  assertParquetFile(file);
  const source = await describeParquet(file, options.duckdb);
  try {
    checkColumns(source, idColumn, embeddingColumn);
    checkNotEmpty(source);
    const connection = await source.instance.connect();
    try {
      await reading(
        source.file,
        `checking column "${idColumn}"`,
        () => checkIds(connection, source, idColumn),
        source.limits,
      );
      const dim = await reading(
        source.file,
        `reading column "${embeddingColumn}"`,
        () => probeDimension(connection, source, embeddingColumn),
        source.limits,
      );
      if (options.dim !== undefined && dim !== options.dim) {
        throw new BadInputError(
          `${source.file}: column "${embeddingColumn}" has dimension ${dim} (first non-null row), expected ${options.dim}`,
        );
      }
      return new Reader(source, idColumn, embeddingColumn, dim, options.normalize ?? false);
    } finally {
      connection.closeSync();
    }
  } catch (err) {
    source.instance.closeSync();
    throw err;
  }
}

/**
 * The whole file in one `Float32Array` (rows x dim) and one `BigInt64Array`, each allocated once from
 * the row count in the footer and filled in place: the vectors are never held twice.
 */
export async function readAllChunks(file: string, options: ChunksOptions = {}): Promise<AllChunks> {
  const reader = await openChunks(file, options);
  try {
    const ids = new BigInt64Array(reader.rows);
    const vectors = new Float32Array(reader.rows * reader.dim);
    await reader.readInto(ids, vectors);
    return { file: reader.file, rows: reader.rows, dim: reader.dim, columns: reader.columns, ids, vectors };
  } finally {
    reader.close();
  }
}

async function probeDimension(
  connection: DuckDBConnection,
  source: ParquetSource,
  column: string,
): Promise<number> {
  const emb = quoteIdent(column);
  const result = await connection.runAndReadAll(
    `SELECT len(${emb}) FROM read_parquet($1) WHERE ${emb} IS NOT NULL LIMIT 1`,
    [source.pattern],
  );
  const first = result.getRows()[0];
  if (!first)
    throw new BadInputError(
      `${source.file}: column "${column}": every embedding is null (${source.rows} rows)`,
    );
  const dim = Number(first[0]);
  if (dim === 0)
    throw new BadInputError(
      `${source.file}: column "${column}": zero dimension (the first non-null embedding is empty)`,
    );
  if (dim > MAX_DIM)
    throw new BadInputError(
      `${source.file}: column "${column}" has dimension ${dim} (first non-null row); ` +
        `indexctl supports at most ${MAX_DIM}`,
    );
  return dim;
}

class Reader implements ChunksReader {
  readonly file: string;
  readonly rows: number;
  readonly rowGroups: number;
  readonly columns: readonly ParquetColumn[];
  private closed = false;

  constructor(
    private readonly source: ParquetSource,
    readonly idColumn: string,
    readonly embeddingColumn: string,
    readonly dim: number,
    private readonly normalize: boolean,
  ) {
    this.file = source.file;
    this.rows = source.rows;
    this.rowGroups = source.rowGroups;
    this.columns = source.columns;
  }

  async *batches(options: BatchOptions = {}): AsyncGenerator<ChunkBatch> {
    const { dim } = this;
    const cap = options.batchRows ?? this.defaultBatchRows();
    if (!Number.isSafeInteger(cap) || cap <= 0)
      throw new UsageError(`batchRows must be a positive integer, got ${cap}`);
    const ids = new BigInt64Array(Math.min(cap, this.rows));
    const vectors = new Float32Array(ids.length * dim);
    let filled = 0;
    let start = 0;
    for await (const piece of this.pieces()) {
      for (let k = 0; k < piece.rows;) {
        const take = Math.min(ids.length - filled, piece.rows - k);
        ids.set(piece.ids.subarray(k, k + take), filled);
        const src = piece.vectors.subarray(k * dim, (k + take) * dim);
        if (piece.scales) copyScaled(src, piece.scales.subarray(k, k + take), dim, vectors, filled * dim);
        else vectors.set(src, filled * dim);
        filled += take;
        k += take;
        if (filled === ids.length) {
          yield { ids, vectors, rowOffset: start, rows: filled };
          start += filled;
          filled = 0;
        }
      }
    }
    if (filled > 0) {
      yield {
        ids: ids.subarray(0, filled),
        vectors: vectors.subarray(0, filled * dim),
        rowOffset: start,
        rows: filled,
      };
    }
  }

  async readInto(ids: BigInt64Array, vectors: Float32Array): Promise<void> {
    const { dim, rows } = this;
    if (ids.length !== rows || vectors.length !== rows * dim) {
      throw new UsageError(
        `readInto needs ${rows} ids and ${rows * dim} floats (${rows} x ${dim}), got ${ids.length} and ${vectors.length}`,
      );
    }
    for await (const piece of this.pieces()) {
      ids.set(piece.ids, piece.rowOffset);
      if (piece.scales) copyScaled(piece.vectors, piece.scales, dim, vectors, piece.rowOffset * dim);
      else vectors.set(piece.vectors, piece.rowOffset * dim);
    }
  }

  async rowGroupRows(): Promise<number[]> {
    const connection = await this.source.instance.connect();
    try {
      const result = await connection.runAndReadAll(
        'SELECT row_group_id, max(row_group_num_rows) FROM parquet_metadata($1) GROUP BY row_group_id ORDER BY row_group_id',
        [this.source.pattern],
      );
      return result.getRows().map((row) => Number(row[1]));
    } finally {
      connection.closeSync();
    }
  }

  async useTempDirectory(dir: string): Promise<void> {
    const connection = await this.source.instance.connect();
    try {
      // SET takes no parameters: the path is a quoted literal.
      await connection.run(`SET temp_directory = '${dir.replaceAll("'", "''")}'`);
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.instance.closeSync();
  }

  private defaultBatchRows(): number {
    const byBytes = Math.max(1, Math.floor(MAX_BATCH_BYTES / (this.dim * 4)));
    return Math.min(Math.max(this.source.maxRowGroupRows, 1), byBytes);
  }

  /**
   * One pass: validated pieces in row order. After the first bad row nothing more is handed out, but
   * the scan goes on to the end so the error can give the whole file's count.
   */
  private async *pieces(): AsyncGenerator<Piece> {
    if (this.closed) throw new UsageError(`${this.file}: the chunks reader is closed`);
    const { dim, source } = this;
    const connection = await source.instance.connect();
    try {
      await connection.run(`SET streaming_buffer_size = '${STREAM_BUFFER_BYTES}B'`);
      const sql = `SELECT CAST(${quoteIdent(this.idColumn)} AS BIGINT), ${quoteIdent(this.embeddingColumn)} FROM read_parquet($1)`;
      const result = await reading(
        this.file,
        'starting the scan',
        () => connection.stream(sql, [source.pattern]),
        source.limits,
      );
      const checker = new ChunkChecker(dim, this.normalize);
      let rowOffset = 0;
      for (;;) {
        const chunk = await reading(
          this.file,
          `decoding from row ${rowOffset}`,
          () => result.fetchChunk(),
          source.limits,
        );
        if (chunk === null || chunk.rowCount === 0) break;
        const v = chunkViews(chunk);
        const piece = checker.check(v, rowOffset);
        if (piece) yield piece;
        rowOffset += v.rows;
      }
      const error = checker.bad.error(this.file, this.embeddingColumn, dim);
      if (error) throw error;
      if (rowOffset !== this.rows) {
        throw new BadInputError(`${this.file}: the footer says ${this.rows} rows but ${rowOffset} were read`);
      }
    } finally {
      connection.closeSync();
    }
  }
}
