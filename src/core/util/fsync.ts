/**
 * Durability helpers. A file is only safe to point at after its bytes and its directory entry have
 * both reached the disk: fsync the file, rename it into place, then fsync the directory holding it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { guardWrite } from './env-io.js';

/** Flushes a file's data and metadata to disk. */
export async function fsyncFile(file: string): Promise<void> {
  await guardWrite(`cannot sync ${file}`, file, async () => {
    const handle = await open(file, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Flushes a directory, so entries created, renamed or removed in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  // Opening read-only is enough on Linux; fsync on a directory fd persists its entries.
  await guardWrite(`cannot sync ${dir}`, dir, async () => {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

export function fsyncFileSync(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDirSync(dir: string): void {
  fsyncFileSync(dir);
}

/** A name next to `file` for writing before the rename; unique per process and call. */
export function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * Replaces `file` atomically and durably: readers see the old content or the new, never a part,
 * and after return the new content survives a crash. The temp file lives in the same directory so
 * the rename never crosses a filesystem.
 */
export async function writeFileDurable(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileDurableWith(file, (handle) => handle.writeFile(data));
}

/**
 * writeFileDurable for content written piece by piece: `write` fills the open temp file. A write
 * the environment refuses (EACCES, EROFS, ENOSPC, EIO, ...) is EnvironmentIoError naming the file.
 */
export async function writeFileDurableWith(
  file: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  await guardWrite(`cannot write ${file}`, file, () => writeDurable(file, write));
}

async function writeDurable(file: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}
