/**
 * Input and output files must be regular files, checked with a stat BEFORE any open: opening a FIFO
 * for reading blocks until a writer comes (forever, for a pipe nobody writes), and reading a
 * character device such as /dev/zero or /dev/full never ends (a pool "file" read until the OOM
 * killer came). A symlink to a regular file is a regular file.
 */
import { statSync, type Stats } from 'node:fs';

import { BadInputError } from '../errors.js';

function kind(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws BadInputError (exit 5) naming `file`, its role (`what`, e.g. "chunks file") and what it
 * is, when it exists and is not a regular file. Returns its stat, or undefined when it does not
 * exist (or cannot be stat'ed): the caller's own open reports that precisely.
 */
export function refuseNonRegular(file: string, what: string): Stats | undefined {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat && !stat.isFile()) {
    throw new BadInputError(`${file}: ${what} is ${kind(stat)}, not a regular file`);
  }
  return stat;
}
