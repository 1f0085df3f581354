/**
 * `gc`: removes old versions and the debris of crashed writers. By default it only lists what it
 * would remove; `yes` removes, under the writer lock, after deciding again under it.
 *
 * Rules, in order — a version is kept when any holds:
 * - it is CURRENT, the rollback target (publish.log), or pinned: never removed, whatever the policy
 *   (when CURRENT is not the last flip the log recorded, the version that flip made CURRENT is kept
 *   as the rollback target too; with unreadable lines in publish.log or pins, `yes` removes nothing);
 * - it is among the `keep` newest versions by creation time (default 3);
 * - it is younger than `olderThanMs`, when given;
 * - it is bad (manifest missing, unreadable or invalid) and no `olderThanMs` is given: its creation
 *   time is unknown, so "the N newest" cannot place it. With `olderThanMs` a bad version is aged by
 *   its directory's mtime and removed when older, like any other. A bad version never takes one of
 *   the `keep` newest places from a good one. The report lists every bad version with its problem.
 * Everything else is removed. Stale staging directories (their builder is gone) and temp links or
 * files left in the root by a crashed publish, pin or lock acquisition are removed too.
 *
 * Nothing outside the root is ever deleted: staging/ and versions/ must be real directories
 * (IndexCorruptionError otherwise), removals never follow a symlink, and entries of staging/ or
 * versions/ that indexctl did not make (plain files, symlinks, odd names) are reported as
 * `unknown` and skipped, not deleted and not an error.
 *
 * A version is first renamed out of versions/ into staging/ (under a staging name carrying this
 * pid), then deleted: a crash mid-delete leaves stale staging debris for the next gc or build,
 * never a half-deleted directory under versions/ that verify would call corrupt.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { guardWrite } from '../util/env-io.js';
import { InvariantViolationError, UsageError } from '../errors.js';
import { fsyncDir } from '../util/fsync.js';
import {
  listVersions,
  readCurrent,
  requireRealRootDirs,
  requireRoot,
  scanStaging,
  stagingDir,
  unknownVersionEntries,
  versionsDir,
  type UnknownEntry,
} from '../layout.js';
import { isPidAlive } from '../util/pid.js';
import { readPins } from './pins.js';
import { readPublishLog, rollbackTarget } from './publish-log.js';
import { describeVersion, treeBytes } from './version-info.js';
import { underWriterLock } from './writer.js';

export const DEFAULT_KEEP = 3;

export interface GcOptions {
  root: string;
  /** Keep this many newest versions besides the protected ones (default 3; 0: only protection). */
  keep?: number;
  /** Only versions created longer ago than this are removed. */
  olderThanMs?: number;
  /** Remove; without it, only list. */
  yes?: boolean;
  waitSeconds?: number;
  /** "Now" for the age rule (tests); default Date.now(). */
  now?: number;
  /** With `yes`: bytes freed so far of the bytes to free, after each item removed. */
  onProgress?: (done: number, total: number) => void;
  /** Cancellation, checked between items: each version is removed whole (one rename) or not at all. */
  signal?: AbortSignal;
}

export type KeepReason = 'current' | 'rollback-target' | 'pinned' | 'newest' | 'too-recent' | 'bad';

export interface GcVersion {
  version: string;
  created: string;
  ageMs: number;
  bytes: number;
  action: 'remove' | 'keep';
  /** Why it is kept; empty for a version that is removed. */
  keptBecause: KeepReason[];
  /**
   * `bad`: the manifest is missing, unreadable or invalid (the age is then the directory's mtime).
   * `legacy`: a Python-written manifest not yet adopted; its created_ts is valid, so it ages like `ok`.
   */
  state: 'ok' | 'bad' | 'legacy';
  /** Why the version is bad; null when it is not. */
  problem: string | null;
}

export interface GcLeftover {
  kind: 'staging' | 'temp';
  name: string;
  path: string;
  bytes: number;
}

/** An entry gc does not recognise; it is skipped (listed, never deleted). */
export type GcUnknown = UnknownEntry;

export interface GcReport {
  dryRun: boolean;
  keep: number;
  olderThanMs: number | null;
  current: string | null;
  rollbackTarget: string | null;
  pins: string[];
  versions: GcVersion[];
  leftovers: GcLeftover[];
  /** Entries of staging/ and versions/ indexctl did not make: skipped. */
  unknown: GcUnknown[];
  /** What was removed (or would be, for a dry run): version names, then leftover names. */
  removed: string[];
  /** Bytes freed (or that would be). */
  bytes: number;
  lockWaitSeconds: number;
  /** publish.log or pins lines that could not be read: the protection rules may be missing one. */
  problems: string[];
  /** Things that do not stop `yes`: a torn last line of publish.log (an append cut short). */
  warnings: string[];
}

/**
 * Root-level temp names of writeFileDurable (pins), flipCurrent and the writer lock (its file and
 * takeover markers): `.<name>.<pid>.<8 hex>.tmp`.
 */
const ROOT_TEMP =
  /^\.(CURRENT|pins|publish\.log|lock(?:\.takeover\.[0-9a-f]+\.\d+)?)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function staleTemps(root: string): { name: string; path: string }[] {
  return readdirSync(root)
    .filter((name) => {
      const m = ROOT_TEMP.exec(name);
      return m !== null && !isPidAlive(Number(m[2]));
    })
    .sort()
    .map((name) => ({ name, path: path.join(root, name) }));
}

type Plan = Omit<GcReport, 'dryRun' | 'lockWaitSeconds'>;

async function plan(root: string, keep: number, olderThanMs: number | undefined, now: number): Promise<Plan> {
  const current = readCurrent(root) ?? null;
  const log = await readPublishLog(root);
  const target = rollbackTarget(log.entries, current ?? undefined) ?? null;
  // A flip the log never recorded (a crash between the rename of CURRENT and the log append): the
  // version the last logged flip made CURRENT was live just before it, and is the real way back.
  const last = log.entries.at(-1);
  const unlogged = current !== null && last !== undefined && last.to !== current ? last.to : null;
  const pins = await readPins(root);
  const infos = await Promise.all(listVersions(root).map((v) => describeVersion(root, v)));
  infos.sort((x, y) => y.createdMs - x.createdMs || (x.name < y.name ? 1 : -1));
  const newest = infos.filter((i) => i.state !== 'bad').slice(0, keep);
  const versions = infos.map((info): GcVersion => {
    const ageMs = now - info.createdMs;
    const keptBecause: KeepReason[] = [];
    if (info.name === current) keptBecause.push('current');
    if (info.name === target || info.name === unlogged) keptBecause.push('rollback-target');
    if (pins.versions.includes(info.name)) keptBecause.push('pinned');
    if (newest.includes(info)) keptBecause.push('newest');
    if (olderThanMs !== undefined && ageMs <= olderThanMs) keptBecause.push('too-recent');
    if (info.state === 'bad' && olderThanMs === undefined) keptBecause.push('bad');
    return {
      version: info.name,
      created: new Date(info.createdMs).toISOString(),
      ageMs,
      bytes: info.bytes,
      action: keptBecause.length === 0 ? 'remove' : 'keep',
      keptBecause,
      state: info.state,
      problem: info.problem ?? null,
    };
  });
  const leftovers: GcLeftover[] = [];
  const staging = scanStaging(root);
  for (const s of staging.stale) {
    leftovers.push({ kind: 'staging', name: s.name, path: s.path, bytes: await treeBytes(s.path) });
  }
  for (const t of staleTemps(root)) leftovers.push({ kind: 'temp', ...t, bytes: 0 });
  const gone = versions.filter((v) => v.action === 'remove');
  return {
    keep,
    olderThanMs: olderThanMs ?? null,
    current,
    rollbackTarget: target,
    pins: pins.versions,
    versions,
    leftovers,
    unknown: [...unknownVersionEntries(root), ...staging.unknown],
    removed: [...gone.map((v) => v.version), ...leftovers.map((l) => l.name)],
    bytes: gone.reduce((n, v) => n + v.bytes, 0) + leftovers.reduce((n, l) => n + l.bytes, 0),
    problems: [...log.problems, ...pins.problems],
    warnings: log.warnings,
  };
}

async function removeVersion(root: string, version: string): Promise<void> {
  await mkdir(stagingDir(root), { recursive: true });
  const from = path.join(versionsDir(root), version);
  const to = path.join(stagingDir(root), `${version}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await rename(from, to);
  } catch (err) {
    // staging/ on another filesystem (a mount point; a symlink was refused): delete in place.
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await rm(from, { recursive: true, force: true });
    await fsyncDir(versionsDir(root));
    return;
  }
  await fsyncDir(versionsDir(root));
  await rm(to, { recursive: true, force: true });
}

async function removeLeftover(l: GcLeftover): Promise<void> {
  let st;
  try {
    st = lstatSync(l.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (l.kind === 'staging' && !st.isDirectory()) return; // replaced since the plan: not ours
  await rm(l.path, { recursive: l.kind === 'staging', force: true });
}

export async function gc(o: GcOptions): Promise<GcReport> {
  const keep = o.keep ?? DEFAULT_KEEP;
  if (!Number.isSafeInteger(keep) || keep < 0)
    throw new UsageError(`--keep must be an integer >= 0, got ${keep}`);
  if (o.olderThanMs !== undefined && !(o.olderThanMs >= 0)) {
    throw new UsageError(`--older-than must not be negative`);
  }
  requireRoot(o.root);
  requireRealRootDirs(o.root);
  const now = o.now ?? Date.now();
  if (!o.yes) return { dryRun: true, lockWaitSeconds: 0, ...(await plan(o.root, keep, o.olderThanMs, now)) };
  const { result, lockWaitSeconds } = await underWriterLock(
    o.root,
    'gc',
    o.waitSeconds,
    async () => {
      const p = await plan(o.root, keep, o.olderThanMs, now);
      if (p.problems.length > 0) {
        // An unreadable log line may be the flip that names the rollback target, an unreadable pins
        // line a pin: removing on a guess could delete the one version an operator relies on.
        throw new InvariantViolationError(
          `gc --yes removes nothing while publish.log or pins has lines it cannot read: ${p.problems.join('; ')}. ` +
            `Fix or delete those lines (run gc without --yes to see the plan)`,
        );
      }
      let freed = 0;
      const removedOne = (bytes: number): void => {
        freed += bytes;
        o.onProgress?.(freed, p.bytes);
      };
      for (const v of p.versions) {
        if (v.action !== 'remove') continue;
        o.signal?.throwIfAborted();
        const dir = path.join(versionsDir(o.root), v.version);
        await guardWrite(`gc cannot remove version ${v.version}`, dir, () =>
          removeVersion(o.root, v.version),
        );
        removedOne(v.bytes);
      }
      for (const l of p.leftovers) {
        o.signal?.throwIfAborted();
        // rm never follows a symlink (it lstats and unlinks the link); leftovers are real directories
        // of staging/ or temp names in the root, checked again here after the plan.
        await guardWrite(`gc cannot remove ${l.name}`, l.path, () => removeLeftover(l));
        removedOne(l.bytes);
      }
      if (p.leftovers.length > 0) {
        await fsyncDir(o.root);
        if (p.leftovers.some((l) => l.kind === 'staging')) await fsyncDir(stagingDir(o.root));
      }
      return p;
    },
    o.signal,
  );
  return { dryRun: false, lockWaitSeconds, ...result };
}
