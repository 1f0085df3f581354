/**
 * The writer lock, `<root>/.lock` (docs/format.md): one writer (build, publish, rollback, gc,
 * tune --write, write-manifest) at a time across processes; readers never lock.
 *
 * Why not proper-lockfile: it judges staleness by mtime alone, refreshed by a timer. A synchronous
 * stretch longer than its stale period (hashing or reading a large file, a sync FAISS call) stops
 * the refresh, and a second writer would take over a live lock; and a crashed holder's lock is only
 * free after that period. Here the lock file records who holds it, and a holder on this host is
 * judged by whether that process instance (pid + start time + boot id) still runs, which needs no
 * refresh and frees a crashed writer's lock at once. A lock from another host sharing the root
 * cannot be judged and is never taken over: the message says how to remove it by hand.
 *
 * The file appears complete or not at all: its content is written to a temp file, then link(2)ed
 * to `.lock`, which fails if `.lock` exists. Taking over a dead holder's lock is the delicate
 * part, since POSIX has no "delete if unchanged": each taker first wins an exclusive marker named
 * after the stale lock's token, then re-reads `.lock` and removes it only if it still holds that
 * token. Only one live taker can hold a given marker; a marker left by a taker that died is
 * superseded by the next generation, so no crash can wedge the lock. Temp files are removed on
 * every failure path (a full disk included); those of a process killed in between are collected
 * by the next acquisition and by gc.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { guardWriteSync } from './util/env-io.js';
import { LockHeldError } from './errors.js';
import { releaseLockOnForcedExit } from './exit-guard.js';
import { lockFile, requireRealRootDirs, requireRoot } from './layout.js';
import { isPidAlive, isProcessAlive, type ProcessIdentity, selfIdentity } from './util/pid.js';
import { failpoint } from './util/failpoint.js';

export interface LockOwner extends ProcessIdentity {
  host: string;
  /** The command holding the lock, e.g. "publish 20261123T193000Z-3f2a9c1b". */
  command: string;
  /** ISO 8601 time the lock was taken. */
  started: string;
  /** Unique per acquisition: how a holder recognises its own lock file. */
  token: string;
}

export interface WriterLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock if it is still this holder's; safe to call twice. Also runs on process exit. */
  release(): void;
}

export interface AcquireOptions {
  command: string;
  /** Wait up to this long for the holder to finish; 0 (default): fail at once. */
  waitSeconds?: number;
  /** Poll interval while waiting. */
  pollMs?: number;
  signal?: AbortSignal;
}

/** LockHeldError (exit 75) carrying who holds the lock, when its file could be read. */
export class WriterLockHeldError extends LockHeldError {
  constructor(
    message: string,
    readonly lockPath: string,
    readonly holder: LockOwner | undefined,
  ) {
    super(message);
  }
}

/** A lock file that cannot be parsed and is older than this was left half-written or by hand. */
const UNREADABLE_STALE_MS = 5_000;

type Observed =
  | { kind: 'absent' }
  | { kind: 'owner'; owner: LockOwner; key: string }
  | { kind: 'unreadable'; key: string; ageMs: number };

function isErrno(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (
      typeof o.pid === 'number' &&
      typeof o.host === 'string' &&
      typeof o.token === 'string' &&
      typeof o.command === 'string' &&
      typeof o.started === 'string'
    ) {
      return o as LockOwner;
    }
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

function observe(file: string): Observed {
  let raw: string;
  let ino: number;
  let mtimeMs: number;
  try {
    raw = readFileSync(file, 'utf8');
    ({ ino, mtimeMs } = lstatSync(file));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { kind: 'absent' };
    throw err;
  }
  const owner = parseOwner(raw);
  if (owner) return { kind: 'owner', owner, key: owner.token };
  // Without a token, the content and inode identify this particular file.
  const key = createHash('sha256').update(raw).update(String(ino)).digest('hex').slice(0, 32);
  return { kind: 'unreadable', key, ageMs: Date.now() - mtimeMs };
}

/**
 * Creates `file` (O_EXCL) holding `content`; a write that fails (ENOSPC) removes the file again,
 * so a full disk leaves no half-written lock or temp file behind.
 */
function writeNewFile(file: string, content: string): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeFileSync(fd, content);
  } catch (err) {
    closeSync(fd);
    unlinkIfPresent(file);
    throw err;
  }
  closeSync(fd);
}

/** `.lock.<pid>.<8 hex>.tmp` and the takeover markers' `.lock.takeover.<key>.<gen>.<pid>.<8 hex>.tmp`. */
const LOCK_TEMP = /^\.lock(?:\.takeover\.[0-9a-f]+\.\d+)?\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Creates `file` with `content`, atomically, failing with EEXIST if it exists. */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeNewFile(tmp, content);
    try {
      linkSync(tmp, file);
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      if (!isErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS')) throw err;
    }
    // Filesystems without hard links: O_EXCL create; a crash mid-write leaves an unreadable file,
    // which is taken over once UNREADABLE_STALE_MS old.
    try {
      writeNewFile(file, content);
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    }
  } finally {
    unlinkIfPresent(tmp);
  }
}

/**
 * Removes lock temp files of processes that are gone (killed between creating and unlinking
 * one). Called with the lock held; a live acquirer's temp file carries a live pid and is kept.
 */
function collectStaleTemps(root: string): void {
  for (const name of readdirSync(root)) {
    const m = LOCK_TEMP.exec(name);
    if (m && !isPidAlive(Number(m[1]))) unlinkIfPresent(path.join(root, name));
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

function isStale(seen: Observed, host: string): boolean {
  if (seen.kind === 'absent') return false;
  if (seen.kind === 'unreadable') return seen.ageMs > UNREADABLE_STALE_MS;
  return seen.owner.host === host && !isProcessAlive(seen.owner);
}

const markerPrefix = (lockPath: string, key: string): string => `${lockPath}.takeover.${key}.`;

/**
 * Removes the stale lock identified by `key`, if this process wins the right to. Generation g+1
 * of the marker may only be created once generation g's creator is dead, so at most one live
 * process ever holds a marker for `key`.
 */
function takeOver(lockPath: string, key: string, me: string, host: string): void {
  const prefix = markerPrefix(lockPath, key);
  for (let gen = 1; ; gen++) {
    const marker = prefix + gen;
    if (createExclusive(marker, me)) {
      try {
        const now = observe(lockPath);
        if (now.kind !== 'absent' && now.key === key) unlinkIfPresent(lockPath);
      } finally {
        cleanMarkers(lockPath, key);
      }
      return;
    }
    let holder: LockOwner | undefined;
    try {
      holder = parseOwner(readFileSync(marker, 'utf8'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return; // the winner finished and cleaned up
      throw err;
    }
    // A live (or unjudgeable) taker is at work: leave it to finish; the caller re-checks.
    if (!holder || holder.host !== host || isProcessAlive(holder)) return;
  }
}

function cleanMarkers(lockPath: string, key: string): void {
  const dir = path.dirname(lockPath);
  const base = path.basename(markerPrefix(lockPath, key));
  for (const name of readdirSync(dir)) {
    if (name.startsWith(base)) unlinkIfPresent(path.join(dir, name));
  }
}

function describeHolder(lockPath: string, seen: Observed, host: string): string {
  if (isStale(seen, host)) {
    // Only reached when another process is taking the lock over right now, or one died doing so
    // on a filesystem without hard links.
    return (
      `${lockPath} was left by a writer that is no longer running and another process is taking it ` +
      `over; try again (if this persists, remove ${lockPath} and ${lockPath}.takeover.*)`
    );
  }
  if (seen.kind === 'owner') {
    const o = seen.owner;
    const base = `another writer holds ${lockPath}: "${o.command}", pid ${o.pid} on ${o.host}, since ${o.started}`;
    if (o.host !== host) {
      return (
        `${base}. It runs on another host, so indexctl cannot tell whether it is still alive; ` +
        `if it is not, remove ${lockPath}`
      );
    }
    return `${base}; try again when it has finished, or pass --wait SECONDS to wait for it`;
  }
  return `${lockPath} exists but cannot be read as a lock (it is taken over once ${UNREADABLE_STALE_MS / 1000} s old)`;
}

/**
 * Takes the writer lock of `root`, or throws WriterLockHeldError (exit 75) once `waitSeconds` have
 * passed without it. A lock whose holder died on this host is taken over. NotFoundError if the
 * root does not exist.
 */
export async function acquireWriterLock(root: string, options: AcquireOptions): Promise<WriterLock> {
  requireRoot(root);
  // Every writer comes through here: refuse a root whose staging/ or versions/ leads outside it.
  requireRealRootDirs(root);
  const lockPath = lockFile(root);
  const host = os.hostname();
  const owner: LockOwner = {
    ...selfIdentity(),
    host,
    command: options.command,
    started: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
  };
  const me = JSON.stringify(owner) + '\n';
  const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
  const pollMs = options.pollMs ?? 200;
  // A root the caller cannot write (read-only mount, wrong user) fails here first: exit 74.
  const create = (): boolean =>
    guardWriteSync(`cannot take the writer lock ${lockPath}`, lockPath, () => createExclusive(lockPath, me));
  for (;;) {
    options.signal?.throwIfAborted();
    if (create()) return held(root, lockPath, owner);
    let seen = observe(lockPath);
    if (seen.kind === 'absent') continue; // released between our attempt and our look
    if (isStale(seen, host)) {
      takeOver(lockPath, seen.key, me, host);
      if (create()) return held(root, lockPath, owner);
      seen = observe(lockPath);
      if (seen.kind === 'absent') continue;
    }
    if (Date.now() >= deadline) {
      throw new WriterLockHeldError(
        describeHolder(lockPath, seen, host),
        lockPath,
        seen.kind === 'owner' ? seen.owner : undefined,
      );
    }
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), undefined, { signal: options.signal });
  }
}

function held(root: string, lockPath: string, owner: LockOwner): WriterLock {
  let released = false;
  // A forced exit (exit-guard.ts) skips the 'exit' hooks: the guard's thread unlinks it instead.
  const forget = releaseLockOnForcedExit(lockPath, owner.token);
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    const now = observe(lockPath);
    // Only our own file: after a (wrong) takeover, the file is someone else's.
    if (now.kind === 'owner' && now.owner.token === owner.token) unlinkIfPresent(lockPath);
    forget();
  };
  process.once('exit', release);
  failpoint('lock:acquired');
  try {
    collectStaleTemps(root);
  } catch (err) {
    release();
    throw err;
  }
  return { path: lockPath, owner, release };
}

/** Who holds the lock of `root` now, for status output; undefined when nobody does. */
export function readLockOwner(root: string): LockOwner | undefined {
  const seen = observe(lockFile(root));
  return seen.kind === 'owner' ? seen.owner : undefined;
}

/**
 * The lock of `root` for status: its holder, and whether that holder is gone (a crashed writer on
 * this host), in which case the next writer takes the lock over and nobody is waiting on it.
 */
export function readLockState(root: string): { owner: LockOwner; stale: boolean } | undefined {
  const seen = observe(lockFile(root));
  if (seen.kind !== 'owner') return undefined;
  return { owner: seen.owner, stale: isStale(seen, os.hostname()) };
}

/** Whether `root` has a lock file whose holder is alive (or cannot be judged). */
export function isLockHeld(root: string): boolean {
  const seen = observe(lockFile(root));
  return seen.kind !== 'absent' && !isStale(seen, os.hostname());
}
