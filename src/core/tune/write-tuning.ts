/**
 * `tune --write`: stores the chosen setting as the manifest's `tuning`, under the writer lock, by an
 * atomic rewrite of manifest.json. This is the one change a sealed version allows: manifest.json is
 * not among the checksummed `files`, and the index file itself is never modified (the parameters
 * are applied when the index is opened). The manifest is re-read under the lock, so a concurrent
 * writer's other changes are kept, and refused if the index it describes changed since measuring.
 */
import { InvariantViolationError } from '../errors.js';
import { acquireWriterLock } from '../lock.js';
import { readManifest, writeManifestAtomic, type ManifestTuning } from '../manifest/schema.js';

export interface WriteTuningOptions {
  root: string;
  version: string;
  dir: string;
  /** The index checksum the measurement was made against. */
  indexChecksum: string;
  tuning: ManifestTuning;
  waitSeconds?: number;
}

export async function writeTuning(options: WriteTuningOptions): Promise<void> {
  const lock = await acquireWriterLock(options.root, {
    command: `tune --write ${options.version}`,
    ...(options.waitSeconds !== undefined ? { waitSeconds: options.waitSeconds } : {}),
  });
  try {
    const manifest = await readManifest(options.dir);
    if (manifest.index_checksum !== options.indexChecksum) {
      throw new InvariantViolationError(
        `${options.dir}: index_checksum changed while tuning (${options.indexChecksum} -> ${manifest.index_checksum}); not writing`,
      );
    }
    await writeManifestAtomic(options.dir, { ...manifest, tuning: options.tuning });
  } finally {
    lock.release();
  }
}
