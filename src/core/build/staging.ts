/**
 * A build's staging directory and the work that starts in it before FAISS does: the chunks copy
 * (or link), the per-file hashing and flushing (StagedFiles) and the catalog, whose chunk_meta is
 * read from the input at once when `fillCatalog`. `abortStaging` stops all of it and removes the
 * directory: whatever fails after `beginStaging` leaves nothing behind.
 */
import type { Stats } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { CatalogBuild } from '../catalog/create.js';
import { UsageError } from '../errors.js';
import {
  ensureRoot,
  makeStagingDir,
  removeStagingDir,
  staleStagingDirs,
  versionExists,
  VERSION_FILES,
} from '../layout.js';
import type { ChunksReader } from '../parquet/chunks-reader.js';
import type { Dataset } from '../parquet/dataset.js';
import type { BuildOptions } from './build.js';
import { placeDataset } from './place.js';
import { StagedFiles } from './staged-files.js';
import type { StageClock } from './stages.js';

/** DuckDB's spills while reading the input and while writing a dataset's one chunks file. */
export const SPILL_DIR = '.duckdb-spill';
export const COPY_SPILL_DIR = '.duckdb-copy-spill';

/** The input as opened: the dataset, its reader, and each file's stat from before it was read. */
export interface Input {
  dataset: Dataset;
  chunks: ChunksReader;
  stats: (Stats | undefined)[];
}

export interface Staging {
  dir: string;
  files: StagedFiles;
  /** The chunks copy (kernel-side, on a libuv thread); its failure is reported where it is awaited. */
  placing: Promise<void>;
  catalog: CatalogBuild;
}

export async function beginStaging(
  options: BuildOptions,
  version: string,
  { dataset, chunks }: Input,
  clock: StageClock,
  fillCatalog: boolean,
): Promise<Staging> {
  await ensureRoot(options.root);
  // Checked again at the seal, under the lock: another build of this name may seal first.
  if (versionExists(options.root, version)) {
    throw new UsageError(
      `version ${version} already exists; versions are immutable (choose another --version)`,
    );
  }
  // Only directories whose builder is gone (layout.scanStaging): a live build's is never touched.
  for (const stale of staleStagingDirs(options.root)) await rm(stale.path, { recursive: true, force: true });
  const dir = await makeStagingDir(options.root, version);
  const files = new StagedFiles(dir, clock, options.signal);
  let placing: Promise<void> = Promise.resolve();
  try {
    // DuckDB's spills go into staging/, removed with it on failure and before the commit on success.
    await chunks.useTempDirectory(path.join(dir, SPILL_DIR));
    const copyStart = performance.now();
    placing = placeDataset(dataset.files, path.join(dir, VERSION_FILES.chunks), {
      linkChunks: options.linkChunks ?? false,
      ...(options.duckdb ? { limits: options.duckdb } : {}),
      spillDirectory: path.join(dir, COPY_SPILL_DIR),
      label: chunks.file,
      signal: options.signal,
    }).then((written) => {
      clock.since('copy_chunks', copyStart);
      files.finished(VERSION_FILES.chunks, written);
    });
    // A copy that fails while the add runs (ENOSPC, EIO) is reported when awaited; until then a
    // handler must exist, or Node ends the process on an unhandled rejection.
    placing.catch(() => undefined);
    const catalog = await CatalogBuild.open(dir, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.duckdb ? { duckdb: options.duckdb } : {}),
    });
    if (fillCatalog) {
      const started = performance.now();
      const columns = { ...options.metadataColumns, id: chunks.idColumn, embedding: chunks.embeddingColumn };
      catalog.fillFromInput(chunks.inputs, columns, () => clock.since('catalog_meta', started));
    }
    return { dir, files, placing, catalog };
  } catch (err) {
    await files.settle();
    await placing.catch(() => undefined);
    await removeStagingDir(dir);
    throw err;
  }
}

/** Stops what runs in staging (the catalog's statement, hashing, the copy) and removes it. */
export async function abortStaging({ dir, files, placing, catalog }: Staging): Promise<void> {
  await catalog.abort();
  await files.settle();
  // The copy may still be writing into staging/.
  await placing.catch(() => undefined);
  await removeStagingDir(dir);
}
