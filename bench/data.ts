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

/** The chunks file of `rows` x 384 vectors of the given kind, made on first use. */
export function chunksFile(dir: string, rows: number, data: BenchData = 'uniform'): string {
  const file = path.join(dir, `chunks-${data === 'lowrank' ? 'lowrank-' : ''}${rows}x${D}.parquet`);
  if (!existsSync(file)) {
    const res = spawnSync(
      process.execPath,
      [path.join(here, 'ingest.js'), '--rows', String(rows), '--data', data, '--mode', 'make'],
      { stdio: 'inherit', env: { ...process.env, BENCH_DIR: dir } },
    );
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
