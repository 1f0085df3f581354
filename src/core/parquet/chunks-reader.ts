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
 *
 * A dataset (several files, dataset.ts) is read as one table: the files in order, rows numbered
 * across them. Each file passes every check above on its own, named in its errors; across files the
 * columns and types must be the first file's, the dimension the same, and no id in two files. One
 * DuckDB instance serves every file.
 */
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api';

import { BadInputError, UsageError } from '../errors.js';
import { MAX_DIM } from '../util/limits.js';
import { ChunkChecker, type Piece } from './chunk-check.js';
import { copyScaled } from './cosine.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { chunkViews } from './duckdb-chunk.js';
import {
  describeWith,
  openDuckDB,
  quoteIdent,
  reading,
  type ParquetColumn,
  type ParquetSource,
} from './duckdb-source.js';
import { assertParquetFile, checkColumns, checkIds, checkIdsAcrossFiles, checkNotEmpty } from './validate.js';

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
  /** What messages call a dataset of several files (default: the first file and the count). */
  label?: string;
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
  /**
   * Only these [start, end) dataset rows, ascending and disjoint (a shard's row groups): files with
   * none are not opened, and DuckDB skips the other row groups by their `file_row_number` range
   * instead of decoding them. Each batch then holds consecutive rows (rowOffset is exact); only the
   * selected rows are validated.
   */
  ranges?: readonly (readonly [number, number])[];
  /** Accumulates the pass's seconds: DuckDB decoding the rows, and the per-row checks (a build's stages). */
  timing?: PassTiming;
  /**
   * The fewest rows of a segment (whole row groups read by one query; see `pieces`); default a
   * stream buffer of floats. Tests make it small to read a small file as many segments.
   */
  segmentRows?: number;
}

/** Seconds of one pass spent in DuckDB's decode (result chunks to typed arrays) and in the row checks. */
export interface PassTiming {
  decode: number;
  validate: number;
}

/** One file of the input, where its rows and row groups start in the dataset's numbering. */
export interface ChunksInput {
  file: string;
  rows: number;
  rowGroups: number;
  firstRow: number;
  firstRowGroup: number;
}

export interface ChunksReader {
  /** For messages: the absolute path of a one-file input, else the dataset and its file count. */
  readonly file: string;
  /** Every file, in dataset order (one for a single file). */
  readonly inputs: readonly ChunksInput[];
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
  /** Rows of each row group, in dataset order (a shard build splits the input by row group). */
  rowGroupRows(): Promise<number[]>;
  /**
   * Where DuckDB spills from now on (a build points it into its staging directory, so a spill is
   * removed with it). Call between passes.
   */
  useTempDirectory(dir: string): Promise<void>;
  /**
   * Starts the next whole pass now: DuckDB decodes its first segments while the caller does other
   * work; the next `batches()` without ranges or segmentRows takes them over.
   */
  prefetch(): void;
  /** Ends a prefetched pass that no `batches()` took (call before close). */
  discardPrefetch(): Promise<void>;
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

/** Opens and validates a chunks file or dataset; see the module comment for what fails here. */
export async function openChunks(
  input: string | readonly string[],
  options: ChunksOptions = {},
): Promise<ChunksReader> {
  const files = typeof input === 'string' ? [input] : [...input];
  if (files.length === 0) throw new UsageError('openChunks needs at least one file');
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
  // Cheap checks on every file before DuckDB reads any: a FIFO in the set must not block the scan.
  for (const file of files) assertParquetFile(file);
  const instance = await openDuckDB(options.duckdb);
  try {
    const sources: ParquetSource[] = [];
    let dim = 0;
    for (const file of files) {
      const source = await describeWith(instance, file, options.duckdb);
      const fileDim = await checkFile(source, idColumn, embeddingColumn, options.dim);
      const first = sources[0];
      if (first) {
        checkSameColumns(first, source);
        if (fileDim !== dim) {
          throw new BadInputError(
            `${source.file}: column "${embeddingColumn}" has dimension ${fileDim} (first non-null row), ` +
              `but ${first.file} has ${dim}; every file of a dataset has one dimension`,
          );
        }
      } else {
        dim = fileDim;
      }
      sources.push(source);
    }
    const label =
      sources.length === 1
        ? sources[0]!.file
        : `${options.label ?? sources[0]!.file} (${sources.length} files)`;
    if (sources.length > 1) {
      const connection = await instance.connect();
      try {
        await reading(
          label,
          `checking column "${idColumn}" across files`,
          () => checkIdsAcrossFiles(connection, sources, idColumn, label),
          options.duckdb,
        );
      } finally {
        connection.closeSync();
      }
    }
    return new Reader(instance, sources, label, idColumn, embeddingColumn, dim, options.normalize ?? false);
  } catch (err) {
    instance.closeSync();
    throw err;
  }
}

/** One file's own checks (as for a single file); returns its dimension. */
async function checkFile(
  source: ParquetSource,
  idColumn: string,
  embeddingColumn: string,
  expectedDim: number | undefined,
): Promise<number> {
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
    if (expectedDim !== undefined && dim !== expectedDim) {
      throw new BadInputError(
        `${source.file}: column "${embeddingColumn}" has dimension ${dim} (first non-null row), expected ${expectedDim}`,
      );
    }
    return dim;
  } finally {
    connection.closeSync();
  }
}

/**
 * The whole file in one `Float32Array` (rows x dim) and one `BigInt64Array`, each allocated once from
 * the row count in the footer and filled in place: the vectors are never held twice.
 */
export async function readAllChunks(
  file: string | readonly string[],
  options: ChunksOptions = {},
): Promise<AllChunks> {
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
  readonly inputs: readonly ChunksInput[];
  readonly rows: number;
  readonly rowGroups: number;
  readonly columns: readonly ParquetColumn[];
  private readonly maxRowGroupRows: number;
  private closed = false;
  private prefetched: Promise<Pass> | undefined;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly sources: readonly ParquetSource[],
    readonly file: string,
    readonly idColumn: string,
    readonly embeddingColumn: string,
    readonly dim: number,
    private readonly normalize: boolean,
  ) {
    let firstRow = 0;
    let firstRowGroup = 0;
    this.inputs = sources.map((s) => {
      const input = { file: s.file, rows: s.rows, rowGroups: s.rowGroups, firstRow, firstRowGroup };
      firstRow += s.rows;
      firstRowGroup += s.rowGroups;
      return input;
    });
    this.rows = firstRow;
    this.rowGroups = firstRowGroup;
    this.columns = sources[0]!.columns;
    this.maxRowGroupRows = Math.max(...sources.map((s) => s.maxRowGroupRows));
  }

  async *batches(options: BatchOptions = {}): AsyncGenerator<ChunkBatch> {
    const { dim } = this;
    const cap = options.batchRows ?? this.defaultBatchRows();
    if (!Number.isSafeInteger(cap) || cap <= 0)
      throw new UsageError(`batchRows must be a positive integer, got ${cap}`);
    const selected = options.ranges ? options.ranges.reduce((n, [a, b]) => n + (b - a), 0) : this.rows;
    const ids = new BigInt64Array(Math.max(1, Math.min(cap, selected)));
    const vectors = new Float32Array(ids.length * dim);
    let filled = 0;
    let start = 0;
    for await (const piece of this.pieces(options.ranges, options.timing, options.segmentRows)) {
      // A batch is a run of consecutive rows: a gap (rows not selected) ends it early.
      if (filled > 0 && piece.rowOffset !== start + filled) {
        yield {
          ids: ids.subarray(0, filled),
          vectors: vectors.subarray(0, filled * dim),
          rowOffset: start,
          rows: filled,
        };
        filled = 0;
      }
      if (filled === 0) start = piece.rowOffset;
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
    const connection = await this.instance.connect();
    try {
      const all: number[] = [];
      for (const source of this.sources) {
        const result = await connection.runAndReadAll(
          'SELECT row_group_id, max(row_group_num_rows) FROM parquet_metadata($1) GROUP BY row_group_id ORDER BY row_group_id',
          [source.pattern],
        );
        all.push(...result.getRows().map((row) => Number(row[1])));
      }
      return all;
    } finally {
      connection.closeSync();
    }
  }

  async useTempDirectory(dir: string): Promise<void> {
    const connection = await this.instance.connect();
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
    this.instance.closeSync();
  }

  private defaultBatchRows(): number {
    const byBytes = Math.max(1, Math.floor(MAX_BATCH_BYTES / (this.dim * 4)));
    return Math.min(Math.max(this.maxRowGroupRows, 1), byBytes);
  }

  /**
   * One pass: validated pieces in dataset order, file by file. After the first bad row nothing more
   * is handed out, but the file's scan goes on to its end so the error can give its whole count.
   *
   * The rows are read as segments (whole row groups, at least a stream buffer of floats each) over
   * two connections: while one segment is handed out, DuckDB decodes the next into the other
   * connection's buffer (`stream()` runs the query until its buffer is full); the first two start
   * together, so both cores decode from the first row on. One stream decoded
   * 300k x 128 in 0.41 s, two side by side in 0.28 s (DuckDB's own scan: 0.13 s).
   */
  private async *pieces(
    ranges?: readonly (readonly [number, number])[],
    timing?: PassTiming,
    segmentRows?: number,
  ): AsyncGenerator<Piece> {
    if (this.closed) throw new UsageError(`${this.file}: the chunks reader is closed`);
    const whole = ranges === undefined && segmentRows === undefined;
    const prefetched = whole ? this.prefetched : undefined;
    if (whole) this.prefetched = undefined;
    const pass = await (prefetched ?? this.openPass(ranges, segmentRows));
    const { segments, started } = pass;
    try {
      let checker: ChunkChecker | undefined;
      for (const [i, segment] of segments.entries()) {
        const { source, input, from, to } = segment;
        checker ??= new ChunkChecker(this.dim, this.normalize);
        const decoding = performance.now();
        const result = await started[i]!;
        if (timing) timing.decode += (performance.now() - decoding) / 1000;
        let rowOffset = from;
        for await (const v of this.drain(result, source, from, timing)) {
          const checking = performance.now();
          const piece = checker.check(v, input.firstRow + rowOffset);
          if (timing) timing.validate += (performance.now() - checking) / 1000;
          if (piece) yield piece;
          rowOffset += v.rows;
        }
        pass.start(i + 2);
        if (rowOffset !== to) {
          throw new BadInputError(
            from === 0 && to === input.rows
              ? `${source.file}: the footer says ${input.rows} rows but ${rowOffset} were read`
              : `${source.file}: rows ${from}..${to - 1} should be ${to - from} rows but ${rowOffset - from} were read`,
          );
        }
        // The file's last segment: its bad rows, counted over all of its segments, are reported.
        if (segments[i + 1]?.source !== source) {
          const error = checker.bad.error(source.file, this.embeddingColumn, this.dim);
          if (error) throw error;
          checker = undefined;
        }
      }
    } finally {
      await pass.close();
    }
  }

  /**
   * Starts the next whole pass's first two segments now (the build calls this before its factory
   * trial, so DuckDB decodes while the trial's child runs); the next `batches()` without ranges
   * takes them over. `discardPrefetch` ends them when no pass follows.
   */
  prefetch(): void {
    if (this.closed || this.prefetched) return;
    this.prefetched = this.openPass();
    this.prefetched.catch(() => undefined);
  }

  /** Waits for a prefetched pass that nobody took and closes its connections. */
  async discardPrefetch(): Promise<void> {
    const pass = this.prefetched;
    this.prefetched = undefined;
    await (await pass?.catch(() => undefined))?.close();
  }

  /**
   * The connections and segments of one pass. Segment i runs on connection i % 2: the first two
   * start at once, segment i + 2 once segment i is drained (a connection holds one result at a time).
   */
  private async openPass(
    ranges?: readonly (readonly [number, number])[],
    segmentRows?: number,
  ): Promise<Pass> {
    const connections: DuckDBConnection[] = [];
    const started: Promise<DuckDBResult>[] = [];
    const close = async () => {
      await Promise.allSettled(started);
      for (const c of connections) c.closeSync();
    };
    try {
      for (let k = 0; k < 2; k++) {
        const c = await this.instance.connect();
        connections.push(c);
        await c.run(`SET streaming_buffer_size = '${STREAM_BUFFER_BYTES}B'`);
      }
      const segments = this.segments(ranges, segmentRows);
      const start = (i: number) => {
        if (i >= segments.length || started[i]) return;
        const scan = this.startScan(connections[i % 2]!, segments[i]!);
        scan.catch(() => undefined);
        started[i] = scan;
      };
      start(0);
      start(1);
      return { segments, started, start, close };
    } catch (err) {
      await close();
      throw err;
    }
  }

  /**
   * The pass's rows as segments of whole row groups in dataset order: each selected range of each
   * file, cut at row-group boundaries into pieces of at least `segmentRows` rows (default: a stream
   * buffer of floats).
   */
  private segments(ranges?: readonly (readonly [number, number])[], segmentRows?: number): Segment[] {
    const minRows = Math.max(1, segmentRows ?? Math.floor(STREAM_BUFFER_BYTES / (this.dim * 4)));
    const out: Segment[] = [];
    for (const [k, source] of this.sources.entries()) {
      const input = this.inputs[k]!;
      const local = ranges ? localRanges(ranges, input.firstRow, input.rows) : [[0, input.rows] as const];
      for (const [from, to] of local) {
        let start = from;
        let groupEnd = 0;
        for (const size of source.rowGroupSizes) {
          groupEnd += size;
          if (groupEnd <= start) continue;
          if (groupEnd >= to) break;
          if (groupEnd - start >= minRows && to - groupEnd >= minRows) {
            out.push({ source, input, from: start, to: groupEnd });
            start = groupEnd;
          }
        }
        out.push({ source, input, from: start, to });
      }
    }
    return out;
  }

  /**
   * Runs the query of one segment (rows [from, to) of a file; DuckDB prunes row groups outside a
   * `file_row_number` range from the footer's row counts, docs/scaling.md) until its stream buffer
   * is full. A whole file is read without the filter.
   */
  private startScan(connection: DuckDBConnection, segment: Segment): Promise<DuckDBResult> {
    const { source, input, from, to } = segment;
    const columns = `CAST(${quoteIdent(this.idColumn)} AS BIGINT), ${quoteIdent(this.embeddingColumn)}`;
    const sql =
      from === 0 && to === input.rows
        ? `SELECT ${columns} FROM read_parquet($1)`
        : `SELECT ${columns} FROM read_parquet($1, file_row_number = true) WHERE file_row_number >= ${from} AND file_row_number < ${to}`;
    return reading(
      source.file,
      'starting the scan',
      () => connection.stream(sql, [source.pattern]),
      source.limits,
    );
  }

  /** A started segment's rows, one DuckDB result chunk at a time, in file order. */
  private async *drain(
    result: DuckDBResult,
    source: ParquetSource,
    from: number,
    timing?: PassTiming,
  ): AsyncGenerator<ReturnType<typeof chunkViews>> {
    let at = from;
    for (;;) {
      const decoding = performance.now();
      const chunk = await reading(
        source.file,
        `decoding from row ${at}`,
        () => result.fetchChunk(),
        source.limits,
      );
      if (chunk === null || chunk.rowCount === 0) break;
      const v = chunkViews(chunk);
      if (timing) timing.decode += (performance.now() - decoding) / 1000;
      at += v.rows;
      yield v;
    }
  }
}

/** One pass's segments and their scans (ChunksReader.openPass). */
interface Pass {
  segments: Segment[];
  started: Promise<DuckDBResult>[];
  start(i: number): void;
  close(): Promise<void>;
}

/** Rows [from, to) of one input file, read by one query. */
interface Segment {
  source: ParquetSource;
  input: ChunksInput;
  from: number;
  to: number;
}

/** The part of the dataset ranges inside one file, in its own row numbers; adjacent ones joined. */
function localRanges(
  ranges: readonly (readonly [number, number])[],
  firstRow: number,
  rows: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    const from = Math.max(a, firstRow) - firstRow;
    const to = Math.min(b, firstRow + rows) - firstRow;
    if (from >= to) continue;
    const last = out[out.length - 1];
    if (last && last[1] === from) last[1] = to;
    else out.push([from, to]);
  }
  return out;
}

/**
 * Every file of a dataset has the first file's columns with the same types, in the same order (the
 * version's one chunks.parquet is their rows one after another).
 */
function checkSameColumns(first: ParquetSource, other: ParquetSource): void {
  const rule = 'every file of a dataset has the columns and types of the first';
  for (const col of first.columns) {
    const match = other.columns.find((c) => c.name === col.name);
    if (!match) {
      throw new BadInputError(
        `${other.file}: no column "${col.name}" (${col.type}), which ${first.file} has; ${rule}`,
      );
    }
    if (match.type !== col.type) {
      throw new BadInputError(
        `${other.file}: column "${col.name}" has type ${match.type}, but ${first.file} has ${col.type}; ${rule}`,
      );
    }
  }
  const extra = other.columns.find((c) => !first.columns.some((f) => f.name === c.name));
  if (extra) {
    throw new BadInputError(
      `${other.file}: column "${extra.name}" (${extra.type}) is not in ${first.file}; ${rule}`,
    );
  }
  const moved = other.columns.findIndex((c, i) => c.name !== first.columns[i]!.name);
  if (moved >= 0) {
    const name = first.columns[moved]!.name;
    const at = other.columns.findIndex((c) => c.name === name);
    throw new BadInputError(
      `${other.file}: column "${name}" is column ${at + 1}, but column ${moved + 1} in ${first.file}; ${rule}, in the same order`,
    );
  }
}
