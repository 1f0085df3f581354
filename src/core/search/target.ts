/**
 * Which version a reader opens: a root (CURRENT), a root and a version name, or a version directory
 * given as a path. CURRENT is resolved once, at open: a handle keeps reading the version it opened
 * even when CURRENT flips, because version directories are immutable and a reader must never see a
 * mix of two versions. Reopen to follow a publish.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

import { NotFoundError } from '../errors.js';
import { currentLink, requireCurrent, requireVersionDir, versionsDir } from '../layout.js';
import { manifestPath } from '../manifest/schema.js';

/** `{ root }` opens CURRENT; `{ root, version }` that version; a string is a version directory or a root. */
export type IndexTarget = string | { root: string; version?: string };

export interface ResolvedTarget {
  /** The version directory, with symlinks resolved (a path through CURRENT is pinned to its target). */
  dir: string;
  /** The version name when it came from a root; otherwise the directory's base name. */
  version: string;
  /** The root, when the target named one. */
  root?: string;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function resolveTarget(target: IndexTarget): ResolvedTarget {
  if (typeof target === 'object' && target !== null) {
    const root = path.resolve(target.root);
    const version = target.version ?? requireCurrent(root);
    return { dir: realpathSync(requireVersionDir(root, version)), version, root };
  }
  if (typeof target !== 'string' || target === '') {
    throw new TypeError('target must be a root or version directory path, or { root, version? }');
  }
  const given = path.resolve(target);
  if (existsSync(manifestPath(given))) {
    const dir = realpathSync(given);
    return { dir, version: path.basename(dir) };
  }
  if (isDir(versionsDir(given)) || existsSync(currentLink(given))) {
    const version = requireCurrent(given);
    return { dir: realpathSync(requireVersionDir(given, version)), version, root: given };
  }
  throw new NotFoundError(
    `${given}: neither a version directory (no manifest.json) nor an index root (no versions/ or CURRENT)`,
  );
}
