/**
 * What status, gc and diff need to know about one version directory without loading FAISS or
 * DuckDB: its size on disk, its manifest, and its age. A version whose manifest cannot be read is
 * described with a `problem`, not an exception, so one damaged directory never hides the others.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { adoptCommand, readAnyManifest, type LegacyManifest, type Manifest } from '../manifest/schema.js';
import { versionDir } from '../layout.js';

export interface VersionInfo {
  name: string;
  dir: string;
  /** Bytes of the regular files under the directory. */
  bytes: number;
  manifest?: Manifest;
  /** A valid legacy (Python) manifest: the version is listed, not usable until adopted. */
  legacy?: LegacyManifest;
  /**
   * `bad`: the manifest is missing, unreadable or invalid; `problem` says why. `legacy`: a valid
   * manifest of the Python pipeline, to be adopted with write-manifest (`problem` says so).
   */
  state: 'ok' | 'bad' | 'legacy';
  /** Why the manifest could not be used. */
  problem?: string;
  /** Creation time: the manifest's created_ts, else the directory's mtime. */
  createdMs: number;
}

/** Sum of regular file sizes below `dir`; symlinks are not followed. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Never throws for the version's own content: a manifest that is missing, unreadable or invalid
 * (the schema bounds created_ts, so every date made from it is valid) makes the version `bad`.
 */
export async function describeVersion(root: string, name: string): Promise<VersionInfo> {
  const dir = versionDir(root, name);
  const bytes = await treeBytes(dir).catch(() => 0);
  try {
    const parsed = await readAnyManifest(dir);
    if (parsed.kind === 'legacy') {
      const { legacy } = parsed;
      const problem = `legacy manifest (Python VersionManifest): adopt with \`${adoptCommand(name)}\``;
      return { name, dir, bytes, legacy, state: 'legacy', problem, createdMs: legacy.created_ts * 1000 };
    }
    const manifest = parsed.manifest;
    return { name, dir, bytes, manifest, state: 'ok', createdMs: manifest.created_ts * 1000 };
  } catch (err) {
    const mtimeMs = await stat(dir).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    const problem = err instanceof Error ? err.message : String(err);
    return { name, dir, bytes, state: 'bad', problem, createdMs: mtimeMs };
  }
}
