/**
 * The benchmark data files in $BENCH_DIR (default /tmp/indexctl-bench): chunks Parquet files made by
 * bench/ingest.ts's generator, and the same vectors and ids as raw .f32/.ids arrays for the Python
 * peers (Debian's python3 has no Parquet reader).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { readAllChunks } from '../src/core/parquet/chunks-reader.js';

export const D = 384;
export type BenchData = 'uniform' | 'lowrank';

const here = path.dirname(new URL(import.meta.url).pathname);

/** The file's shape beyond its row count: 384-d in 10 row groups unless said otherwise. */
export interface ChunksShape {
  dim?: number;
  rowGroups?: number;
}

/**
 * Where the chunks file of these parameters lives. The defaults keep the names the other benches
 * have always used, so their cached files stay valid.
 */
export function chunksPath(dir: string, rows: number, data: BenchData, shape: ChunksShape = {}): string {
  const dim = shape.dim ?? D;
  const groups = shape.rowGroups ?? 10;
  const kind = data === 'lowrank' ? 'lowrank-' : '';
  return path.join(dir, `chunks-${kind}${rows}x${dim}${groups === 10 ? '' : `-rg${groups}`}.parquet`);
}

/** The chunks file of `rows` vectors of the given kind and shape, made on first use. */
export function chunksFile(
  dir: string,
  rows: number,
  data: BenchData = 'uniform',
  shape: ChunksShape = {},
): string {
  const file = chunksPath(dir, rows, data, shape);
  if (!existsSync(file)) {
    const args = ['--rows', String(rows), '--data', data, '--mode', 'make'];
    if (shape.dim !== undefined) args.push('--dim', String(shape.dim));
    if (shape.rowGroups !== undefined) args.push('--row-groups', String(shape.rowGroups));
    const res = spawnSync(process.execPath, [path.join(here, 'ingest.js'), ...args], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_DIR: dir },
    });
    if (!existsSync(file)) throw new Error(`could not make ${file} (ingest.js exited ${res.status})`);
  }
  return file;
}

/** The chunks file's vectors and ids as raw little-endian arrays next to it, exported once. */
export async function rawFiles(chunks: string): Promise<{ vectors: string; ids: string }> {
  const vectors = chunks.replace(/\.parquet$/, '.f32');
  const ids = chunks.replace(/\.parquet$/, '.ids');
  if (!existsSync(vectors) || !existsSync(ids)) {
    const all = await readAllChunks(chunks);
    writeFileSync(
      vectors,
      new Uint8Array(all.vectors.buffer, all.vectors.byteOffset, all.vectors.byteLength),
    );
    writeFileSync(ids, new Uint8Array(all.ids.buffer, all.ids.byteOffset, all.ids.byteLength));
  }
  return { vectors, ids };
}

/**
 * Reads a file once through a small buffer: the page cache here forgets files unused for about a
 * minute, and reading it whole into one Buffer would inflate this process's RSS (which its children
 * would inherit in getrusage's maxRSS).
 */
export function warmPageCache(file: string): void {
  const fd = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(8 << 20);
  while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  closeSync(fd);
}
