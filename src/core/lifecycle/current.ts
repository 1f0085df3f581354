/**
 * Moving CURRENT with the promise "any failure leaves CURRENT as it was": the flip itself is
 * layout.flipCurrent (a fresh relative symlink renamed over CURRENT, then the root fsynced); if
 * what follows it fails (the re-read, the publish.log append), the previous link is put back the
 * same way, byte for byte, or removed when there was none.
 */
import { randomBytes } from 'node:crypto';
import { readlinkSync, symlinkSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { InvariantViolationError } from '../errors.js';
import { fsyncDir } from '../fsync.js';
import { currentLink, currentNotSymlinkError, flipCurrent, readCurrent } from '../layout.js';

/** What CURRENT holds right now, raw: the symlink's text, or undefined when there is none. */
export function currentLinkText(root: string): string | undefined {
  try {
    return readlinkSync(currentLink(root));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EINVAL') throw currentNotSymlinkError(currentLink(root), err);
    throw err;
  }
}

/** Puts back a CURRENT saved with currentLinkText (undefined: removes CURRENT). */
export async function restoreCurrent(root: string, saved: string | undefined): Promise<void> {
  if (saved === undefined) {
    await rm(currentLink(root), { force: true });
  } else {
    const tmp = path.join(root, `.CURRENT.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    symlinkSync(saved, tmp);
    try {
      await rename(tmp, currentLink(root));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
  await fsyncDir(root);
}

/**
 * Flips CURRENT to `version`, re-reads it, and runs `after` (the log append); if the re-read
 * disagrees or `after` throws, CURRENT is restored to `saved` and the error rethrown. A failure
 * to restore is added to the error's message, since it is then what the operator must fix.
 */
export async function swapCurrent(
  root: string,
  version: string,
  saved: string | undefined,
  after: () => Promise<void>,
): Promise<void> {
  await deferSignals(() => flipAndLog(root, version, saved, after));
}

const DEFERRED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `work` with SIGINT/SIGTERM/SIGHUP held back, then re-raises the first one that arrived: a
 * Ctrl-C between the flip and the log line would leave a flip publish.log does not know about,
 * and the window is milliseconds long.
 */
async function deferSignals(work: () => Promise<void>): Promise<void> {
  let caught: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals): void => {
    caught ??= signal;
  };
  for (const s of DEFERRED) process.on(s, hold);
  try {
    await work();
  } finally {
    for (const s of DEFERRED) process.removeListener(s, hold);
    if (caught !== undefined) process.kill(process.pid, caught);
  }
}

async function flipAndLog(
  root: string,
  version: string,
  saved: string | undefined,
  after: () => Promise<void>,
): Promise<void> {
  await flipCurrent(root, version);
  try {
    const now = readCurrent(root);
    if (now !== version) {
      throw new InvariantViolationError(
        `CURRENT in ${root} reads ${JSON.stringify(now)} right after the flip to ${version}; ` +
          `another process changed it without the writer lock`,
      );
    }
    await after();
  } catch (err) {
    try {
      await restoreCurrent(root, saved);
    } catch (restoreError) {
      if (err instanceof Error) {
        err.message +=
          `; restoring CURRENT to ${saved === undefined ? '(none)' : saved} also failed: ` +
          `${(restoreError as Error).message}; CURRENT now points to ${version}`;
      }
    }
    throw err;
  }
}
