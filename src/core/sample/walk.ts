/**
 * The text files of a source tree, in a stable order. What a code search would index: no
 * dependencies or build output, no binaries, nothing huge, and no symlinks (which could leave the
 * tree or loop).
 */
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';

import { BadInputError, NotFoundError } from '../errors.js';

export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', 'dist', 'build']);
export const MAX_FILE_BYTES = 1024 * 1024;
/** How far into a file a NUL byte marks it as binary (what git and grep look at). */
const BINARY_PROBE_BYTES = 8 * 1024;

export interface SourceFile {
  /** Path relative to the root, '/'-separated: the chunk's uri. */
  rel: string;
  abs: string;
  bytes: number;
}

export interface SkippedFiles {
  symlinks: number;
  tooLarge: number;
  /** Other non-regular entries: sockets, FIFOs, devices. */
  special: number;
}

export interface SourceTree {
  files: SourceFile[];
  skipped: SkippedFiles;
}

/** Code-unit order, not locale order: the same on every machine. */
function byRel(a: SourceFile, b: SourceFile): number {
  return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0;
}

/** Candidate files under `root` (regular, at most 1 MiB), sorted by relative path; `exclude` holds absolute paths. */
export async function walkSourceTree(
  root: string,
  exclude: ReadonlySet<string> = new Set(),
): Promise<SourceTree> {
  const top = path.resolve(root);
  const stats = await lstat(top).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new NotFoundError(`${top}: no such directory`, { cause: err });
    throw err;
  });
  if (!stats.isDirectory()) throw new BadInputError(`${top}: not a directory`);

  const files: SourceFile[] = [];
  const skipped: SkippedFiles = { symlinks: 0, tooLarge: 0, special: 0 };
  const pending = [top];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        skipped.symlinks++;
      } else if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) pending.push(abs);
      } else if (!entry.isFile()) {
        skipped.special++;
      } else if (!exclude.has(abs)) {
        const { size } = await lstat(abs);
        if (size > MAX_FILE_BYTES) {
          skipped.tooLarge++;
        } else {
          files.push({ rel: path.relative(top, abs).split(path.sep).join('/'), abs, bytes: size });
        }
      }
    }
  }
  return { files: files.sort(byRel), skipped };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's text, or null when it is binary (a NUL in the first 8 KiB) or not valid UTF-8. */
export async function readTextFile(file: SourceFile): Promise<string | null> {
  const handle = await open(file.abs, 'r');
  let bytes: Buffer;
  try {
    bytes = Buffer.alloc(file.bytes);
    const { bytesRead } = await handle.read(bytes, 0, file.bytes, 0);
    bytes = bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (bytes.subarray(0, BINARY_PROBE_BYTES).includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
