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

import { IndexCorruptionError, InvariantViolationError } from '../errors.js';
import { fsyncDir } from '../util/fsync.js';
import { currentLink, currentNotSymlinkError, flipCurrent, readCurrent, versionExists } from '../layout.js';

/**
 * What CURRENT is, without throwing for a broken one: `status` reports a broken CURRENT next to
 * everything else, and `publish`/`rollback --to` replace it after their gate.
 * - `dangling`: `versions/<v>` whose directory is missing;
 * - `outside`: a symlink to anything but `versions/<valid name>` (never followed);
 * - `not-symlink`: a regular file or a directory. Not replaced by a publish (rename(2) cannot put a
 *   link over a directory, and the file may be someone's): it must be moved aside by hand first.
 */
export type CurrentState =
  | { kind: 'none' }
  | { kind: 'ok'; version: string; text: string }
  | { kind: 'dangling'; version: string; text: string; problem: string }
  | { kind: 'outside'; text: string; problem: string }
  | { kind: 'not-symlink'; problem: string };

export type BrokenCurrent = Extract<CurrentState, { problem: string }>;

export function inspectCurrent(root: string): CurrentState {
  let version: string | undefined;
  try {
    version = readCurrent(root);
  } catch (err) {
    if (!(err instanceof IndexCorruptionError)) throw err;
    const text = linkTextOrUndefined(root);
    return text === undefined
      ? { kind: 'not-symlink', problem: err.message }
      : { kind: 'outside', text, problem: err.message };
  }
  if (version === undefined) return { kind: 'none' };
  const text = readlinkSync(currentLink(root));
  if (versionExists(root, version)) return { kind: 'ok', version, text };
  return {
    kind: 'dangling',
    version,
    text,
    problem: `${currentLink(root)} points to ${JSON.stringify(text)}, but version ${version} has no directory in versions/`,
  };
}

export function isBroken(state: CurrentState): state is BrokenCurrent {
  return state.kind === 'dangling' || state.kind === 'outside' || state.kind === 'not-symlink';
}

function linkTextOrUndefined(root: string): string | undefined {
  try {
    return readlinkSync(currentLink(root));
  } catch {
    return undefined;
  }
}

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
