/**
 * `export-idmap`: re-derives idmap.parquet (faiss_row -> external_id, in row order) from faiss.index.
 * Writing into a version directory is only allowed before it is sealed by a manifest (adoption);
 * a sealed version is immutable, so the map goes elsewhere with `out`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { UsageError } from '../errors.js';
import { requireVersionDir, versionsDir } from '../layout.js';
import { acquireWriterLock } from '../lock.js';
import { manifestPath } from '../manifest/schema.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { readVersionIndex } from '../version/read-index.js';

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
