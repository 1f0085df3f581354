/** How the version gets its one chunks.parquet from the build's input (a copy, a link, or a dataset written as one). */
import { constants } from 'node:fs';
import { copyFile, link, rm } from 'node:fs/promises';

import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { loadNative, type NativeFileDigest } from '../faiss/native.js';
import { writeDatasetFile } from '../parquet/dataset.js';

/**
 * The version gets its own copy of the chunks (a reflink where the filesystem can, else a real copy):
 * a pipeline that rewrites its chunks file in place (pyarrow, DuckDB COPY and most writers truncate
 * and rewrite the same inode) would otherwise change a sealed version under its checksums. With
 * `linkChunks` (an operator whose pipeline always writes a new file) it is a hard link, instant,
 * falling back to a copy across filesystems.
 *
 * The copy is made by the addon when it can (native/hashed_io.cc): one read of the input, each block
 * hashed between the read and the write, the file flushed; the digest it returns is the version
 * file's manifest entry, so the copy is never read back. Undefined: the file is still to be hashed.
 */
export async function placeChunks(
  from: string,
  to: string,
  linkChunks: boolean,
  signal?: AbortSignal,
): Promise<NativeFileDigest | undefined> {
  signal?.throwIfAborted();
  if (linkChunks) {
    try {
      await link(from, to);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  const copy = loadNative().copyFileHashedAsync;
  if (copy) return await cancellableCopy(copy, from, to, signal);
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  return undefined;
}

/**
 * The addon's copy, stopped between two blocks when `signal` aborts (a 1.5 GB copy takes seconds on
 * a busy machine, longer than a cancellation may wait): the part written is removed and the signal's
 * reason thrown.
 */
async function cancellableCopy(
  copy: NonNullable<ReturnType<typeof loadNative>['copyFileHashedAsync']>,
  from: string,
  to: string,
  signal: AbortSignal | undefined,
): Promise<NativeFileDigest> {
  const control = new BigInt64Array(2);
  const stop = (): void => {
    control[0] = 1n;
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    return await copy(from, to, control);
  } catch (err) {
    if (!signal?.aborted) throw err;
    await rm(to, { force: true });
    throw signal.reason;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * The version's one `chunks.parquet`: a one-file input is placed as above; several files are written
 * into one Parquet in dataset order (dataset.ts), whatever `linkChunks` says, since no link can join
 * files.
 */
export async function placeDataset(
  files: readonly string[],
  to: string,
  options: {
    linkChunks: boolean;
    limits?: DuckDBLimits;
    spillDirectory?: string;
    label?: string;
    /** Stops the copy or the dataset's COPY (DuckDB's interrupt) and throws the signal's reason. */
    signal?: AbortSignal | undefined;
  },
): Promise<NativeFileDigest | undefined> {
  if (files.length === 1) return placeChunks(files[0]!, to, options.linkChunks, options.signal);
  await writeDatasetFile(files, to, {
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.spillDirectory ? { spillDirectory: options.spillDirectory } : {}),
    ...(options.label ? { label: options.label } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return undefined;
}
