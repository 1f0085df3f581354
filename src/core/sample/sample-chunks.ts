/**
 * `sample`: a chunks Parquet file made from a source tree, so the demo and the tests run on real
 * code without an embedding service. Files are visited in path order and windows in line order, so
 * the output is sorted by (uri, start_line) and the same tree gives a byte-identical file.
 */
import path from 'node:path';

import { BadInputError, UsageError } from '../errors.js';
import { EMBEDDER, embedText } from './embed.js';
import { SAMPLE_METADATA_KEY } from './embedder-record.js';
import { chunkIdHasher, UniqueIds } from './ids.js';
import { langFromPath } from './lang.js';
import { readTextFile, walkSourceTree, type SkippedFiles, type SourceFile } from './walk.js';
import { cutWindows } from './windows.js';
import { writeChunkFile, type ChunkBatch } from './write.js';

export interface SampleOptions {
  /** Root of the source tree. */
  from: string;
  /** The Parquet file to write (replaced atomically if it exists). */
  out: string;
  /** Embedding dimension; default 384. */
  dim?: number;
  /** Lines per window; default 40. */
  window?: number;
  /** Lines shared by consecutive windows; default 10. */
  overlap?: number;
  /** Rows per Parquet row group; default 10,000. */
  rowGroupSize?: number;
}

export interface SampleResult {
  /** Text files that produced at least one chunk. */
  files: number;
  chunks: number;
  dim: number;
  /** Size of the written file. */
  bytes: number;
  /** Absolute path of the written file. */
  out: string;
  skipped: SkippedFiles & {
    /** Binary (a NUL in the first 8 KiB) or not UTF-8. */
    binary: number;
    /** Text files without a single token. */
    empty: number;
  };
}

export const SAMPLE_DEFAULTS = { dim: 384, window: 40, overlap: 10, rowGroupSize: 10_000 } as const;
const MAX_DIM = 65_536;

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

interface Settings {
  dim: number;
  window: number;
  overlap: number;
  rowGroupSize: number;
}

function settings(options: SampleOptions): Settings {
  const dim = checkInt('dim', options.dim ?? SAMPLE_DEFAULTS.dim, 1, MAX_DIM);
  const window = checkInt('window', options.window ?? SAMPLE_DEFAULTS.window, 1, 1_000_000);
  const overlap = checkInt('overlap', options.overlap ?? SAMPLE_DEFAULTS.overlap, 0, window - 1);
  const rowGroupSize = checkInt(
    'rowGroupSize',
    options.rowGroupSize ?? SAMPLE_DEFAULTS.rowGroupSize,
    1,
    1 << 24,
  );
  return { dim, window, overlap, rowGroupSize };
}

class BatchBuilder {
  private rows = 0;
  private ids: BigInt64Array;
  private uris: string[] = [];
  private langs: string[] = [];
  private startLines: Int32Array;
  private endLines: Int32Array;
  private texts: string[] = [];
  private embeddings: Float32Array;

  constructor(
    private readonly capacity: number,
    private readonly dim: number,
  ) {
    this.ids = new BigInt64Array(capacity);
    this.startLines = new Int32Array(capacity);
    this.endLines = new Int32Array(capacity);
    this.embeddings = new Float32Array(capacity * dim);
  }

  get full(): boolean {
    return this.rows === this.capacity;
  }

  get size(): number {
    return this.rows;
  }

  /** Embeds `text` into the next row; false (and no row) when it has nothing to embed. */
  tryAdd(
    uri: string,
    lang: string,
    startLine: number,
    endLine: number,
    text: string,
    id: () => bigint,
  ): boolean {
    if (!embedText(text, this.dim, this.embeddings, this.rows * this.dim)) return false;
    this.ids[this.rows] = id();
    this.uris.push(uri);
    this.langs.push(lang);
    this.startLines[this.rows] = startLine;
    this.endLines[this.rows] = endLine;
    this.texts.push(text);
    this.rows++;
    return true;
  }

  take(): ChunkBatch {
    const n = this.rows;
    const batch: ChunkBatch = {
      ids: this.ids.subarray(0, n),
      uris: this.uris,
      langs: this.langs,
      startLines: this.startLines.subarray(0, n),
      endLines: this.endLines.subarray(0, n),
      texts: this.texts,
      embeddings: this.embeddings.subarray(0, n * this.dim),
    };
    this.rows = 0;
    this.ids = new BigInt64Array(this.capacity);
    this.uris = [];
    this.langs = [];
    this.startLines = new Int32Array(this.capacity);
    this.endLines = new Int32Array(this.capacity);
    this.texts = [];
    this.embeddings = new Float32Array(this.capacity * this.dim);
    return batch;
  }
}

interface Tally {
  files: number;
  chunks: number;
  binary: number;
  empty: number;
}

async function* chunkBatches(
  files: SourceFile[],
  config: Settings,
  tally: Tally,
): AsyncGenerator<ChunkBatch> {
  const hashId = await chunkIdHasher();
  const unique = new UniqueIds();
  const builder = new BatchBuilder(config.rowGroupSize, config.dim);
  for (const file of files) {
    const text = await readTextFile(file);
    if (text === null) {
      tally.binary++;
      continue;
    }
    const lang = langFromPath(file.rel);
    let added = 0;
    for (const window of cutWindows(text, config.window, config.overlap)) {
      const id = () => unique.claim(hashId(file.rel, window.startLine), file.rel, window.startLine);
      if (builder.tryAdd(file.rel, lang, window.startLine, window.endLine, window.text, id)) added++;
      if (builder.full) yield builder.take();
    }
    if (added > 0) tally.files++;
    else tally.empty++;
    tally.chunks += added;
  }
  if (builder.size > 0) yield builder.take();
}

export async function sampleChunks(options: SampleOptions): Promise<SampleResult> {
  const config = settings(options);
  const from = path.resolve(options.from);
  const out = path.resolve(options.out);
  // The previous output may sit inside the tree; the new one is written only after the walk.
  const tree = await walkSourceTree(from, new Set([out]));
  const tally: Tally = { files: 0, chunks: 0, binary: 0, empty: 0 };
  const batches = chunkBatches(tree.files, config, tally);
  // Look at the first batch before creating any file: an empty sample is an error, not an empty file.
  const first = await batches.next();
  if (first.done) {
    throw new BadInputError(
      `${from}: no text to sample (${tree.files.length} candidate files, ${tally.binary} binary)`,
    );
  }
  const firstBatch = first.value;
  async function* all(): AsyncGenerator<ChunkBatch> {
    yield firstBatch;
    yield* batches;
  }
  const bytes = await writeChunkFile(out, all(), {
    dim: config.dim,
    rowGroupSize: config.rowGroupSize,
    metadata: {
      [SAMPLE_METADATA_KEY]: JSON.stringify({
        embedder: EMBEDDER,
        dim: config.dim,
        window: config.window,
        overlap: config.overlap,
      }),
    },
  });
  return {
    files: tally.files,
    chunks: tally.chunks,
    dim: config.dim,
    bytes,
    out,
    skipped: { ...tree.skipped, binary: tally.binary, empty: tally.empty },
  };
}
