/**
 * `export-idmap`: re-derives idmap.parquet (faiss_row -> external_id, in row order) from faiss.index.
 * Writing into a version directory is only allowed before it is sealed by a manifest (adoption);
 * a sealed version is immutable, so the map goes elsewhere with `out`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { InvariantViolationError, NotFoundError, UsageError } from './errors.js';
import { checkIndexFile } from './faiss/file-header.js';
import { FaissIndex } from './faiss/index.js';
import { requireVersionDir, versionsDir } from './layout.js';
import { acquireWriterLock } from './lock.js';
import { manifestPath } from './manifest.js';
import { writeIdMap } from './parquet/idmap-writer.js';

export interface ExportIdMapOptions {
  root: string;
  version: string;
  out?: string;
  waitSeconds?: number;
}

export interface ExportIdMapReport {
  version: string;
  out: string;
  rows: number;
  className: string;
}

/**
 * Reads a version's faiss.index (IVF lists mmapped) and checks it is an IDMap2 whose rows carry ids.
 * FAISS reads it in this process, so its counts are first checked against its size
 * (checkIndexFile: IndexCorruptionError): a resealed header claiming 2^63-1 vectors crashes
 * read_index (SIGSEGV) or makes it allocate without end.
 */
export async function readVersionIndex(versionDir: string): Promise<FaissIndex> {
  const file = path.join(versionDir, 'faiss.index');
  if (!existsSync(file)) throw new NotFoundError(`${file}: missing`);
  await checkIndexFile(file);
  const index = await FaissIndex.readAsync(file, { mmap: true, readOnly: true });
  if (!index.className.startsWith('IndexIDMap2<')) {
    const className = index.className;
    index.dispose();
    throw new InvariantViolationError(
      `${file}: is ${className}, not an IndexIDMap2: its rows carry no external ids (wrap it with faiss.IndexIDMap2)`,
    );
  }
  return index;
}

export async function exportIdMap(options: ExportIdMapOptions): Promise<ExportIdMapReport> {
  const dir = requireVersionDir(options.root, options.version);
  const inside = options.out === undefined;
  const out = path.resolve(options.out ?? path.join(dir, 'idmap.parquet'));
  const underVersions = path.relative(versionsDir(options.root), out);
  if (!inside && !underVersions.startsWith('..') && !path.isAbsolute(underVersions)) {
    throw new UsageError(
      `--out ${out} is inside versions/, whose directories are immutable: write the id map outside the root's versions/`,
    );
  }
  if (inside && existsSync(manifestPath(dir))) {
    throw new UsageError(
      `version ${options.version} is sealed (it has a manifest.json) and immutable: write the id map elsewhere with --out FILE`,
    );
  }
  const lock = inside
    ? await acquireWriterLock(options.root, {
        command: `export-idmap ${options.version}`,
        ...(options.waitSeconds !== undefined ? { waitSeconds: options.waitSeconds } : {}),
      })
    : undefined;
  try {
    const index = await readVersionIndex(dir);
    try {
      const ids = index.idMap();
      await writeIdMap(out, ids);
      return { version: options.version, out, rows: ids.length, className: index.className };
    } finally {
      index.dispose();
    }
  } finally {
    lock?.release();
  }
}
