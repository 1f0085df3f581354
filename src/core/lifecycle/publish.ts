/**
 * `publish V`: under the writer lock, compare-and-swap on CURRENT (`expectCurrent`), verify V at
 * level 3, flip CURRENT with one rename(2), re-read it, and append to publish.log; any failure
 * leaves CURRENT as it was (lifecycle/current.ts). `rollback` is the same flip to a version taken
 * from publish.log.
 *
 * Decisions: a CAS mismatch is InvariantViolationError (exit 3): the world is not as the caller
 * believed, and docs/spec.md has no such code. Publishing the version that is already CURRENT still
 * runs the gate (so the exit code says whether it is healthy) but flips and logs nothing. A dry
 * run takes no lock and writes nothing, and fails exactly as the real run would.
 *
 * A broken CURRENT (dangling, or a symlink out of versions/) is replaced by the flip once V passes
 * the gate, and the log line says what was wrong (`repaired`): the CLI repairs what status reports.
 * A CURRENT that is a file or a directory is still refused (exit 4): it must be moved aside by hand.
 */
import { IndexCorruptionError, InvariantViolationError, NotFoundError, UsageError } from '../errors.js';
import { checkVersionName, readCurrent, requireRoot, requireVersionDir } from '../layout.js';
import type { VerifyOptions, VerifyReport } from '../verify/verify.js';
import { currentLinkText, inspectCurrent, isBroken, swapCurrent } from './current.js';
import {
  appendPublishLog,
  makeEntry,
  readPublishLog,
  rollbackTarget,
  type PublishLogEntry,
} from './publish-log.js';
import { verifyGate } from './verify-gate.js';
import { underWriterLock } from './writer.js';

/** `--expect-current none`: the caller believes nothing is published yet. */
export const EXPECT_NONE = 'none';

export interface PublishOptions {
  root: string;
  version: string;
  /** Compare-and-swap: CURRENT must be this version now; null: there must be no CURRENT. */
  expectCurrent?: string | null;
  reason?: string;
  dryRun?: boolean;
  /** Seconds to wait for another writer (default 0: exit 75 at once). */
  waitSeconds?: number;
  /** Passed to verify's smoke check. */
  smoke?: number;
  seed?: number;
  /** Progress of the level-3 verify gate (bytes hashed, then checks). */
  onProgress?: VerifyOptions['onProgress'];
  /** DuckDB limits and probe variables for the verify gate, as the CLI read them. */
  duckdb?: VerifyOptions['duckdb'];
  probeEnv?: VerifyOptions['probeEnv'];
  /** Cancellation: stops the gate or the wait for the lock; CURRENT is never flipped after it. */
  signal?: AbortSignal;
}

/** A publish of the previous version (or `to`): the same options, without the version and CAS. */
export interface RollbackOptions extends Omit<PublishOptions, 'version' | 'expectCurrent'> {
  /** The version to go back to; default: the `from` of the flip that made the current version CURRENT. */
  to?: string;
}

/** `published`: CURRENT flipped; `would-publish`: a dry run that would flip; `already-current`: nothing to do. */
export type PublishOutcome = 'published' | 'would-publish' | 'already-current';

export interface PublishReport {
  action: 'publish' | 'rollback';
  version: string;
  /** CURRENT before (and, unless published, after); null when nothing was published. */
  from: string | null;
  outcome: PublishOutcome;
  dryRun: boolean;
  reason: string | null;
  /** The CAS expectation that was checked (null: "none"); absent when none was given. */
  expectCurrent?: string | null;
  verify: VerifyReport;
  /** The publish.log line written; null unless published. */
  logEntry: PublishLogEntry | null;
  /** What was wrong with the CURRENT this flip replaced (or would replace); null when it was fine. */
  repaired: string | null;
  lockWaitSeconds: number;
  seconds: number;
}

/** CURRENT is not what the caller expected (exit 3). */
export class CurrentMismatchError extends InvariantViolationError {
  constructor(
    readonly expected: string | null,
    readonly actual: string | null,
    version: string,
  ) {
    super(
      `refusing to publish ${version}: --expect-current ${expected ?? EXPECT_NONE} but CURRENT is ` +
        `${actual === null ? 'not set (nothing published)' : actual}; someone else published in between`,
    );
  }
}

const MAX_REASON = 1000;

function checkReason(reason: string | undefined): void {
  if (reason !== undefined && reason.length > MAX_REASON) {
    throw new UsageError(`--reason is ${reason.length} characters; at most ${MAX_REASON}`);
  }
}

interface FlipRequest {
  root: string;
  version: string;
  action: 'publish' | 'rollback';
  reason: string | undefined;
  expectCurrent?: string | null;
  dryRun: boolean;
  smoke?: number;
  seed?: number;
  onProgress?: VerifyOptions['onProgress'];
  /** DuckDB limits and probe variables for the verify gate, as the CLI read them. */
  duckdb?: VerifyOptions['duckdb'];
  probeEnv?: VerifyOptions['probeEnv'];
  signal?: AbortSignal;
}

type FlipResult = Omit<PublishReport, 'lockWaitSeconds' | 'seconds'>;

/** The gate and the flip; the caller holds the writer lock unless this is a dry run. */
async function flipTo(r: FlipRequest): Promise<FlipResult> {
  const state = inspectCurrent(r.root);
  // A file or a directory: the exit-4 error that says what it is and to move it aside.
  const saved = currentLinkText(r.root);
  const broken = isBroken(state) ? state : undefined;
  // A dangling CURRENT still names a version (the CAS can match it); one outside versions/ does not.
  const from = state.kind === 'ok' || state.kind === 'dangling' ? state.version : null;
  if (state.kind === 'outside' && r.expectCurrent !== undefined) {
    throw new InvariantViolationError(
      `refusing to ${r.action} ${r.version}: --expect-current ${r.expectCurrent ?? EXPECT_NONE} but ` +
        `${state.problem}; run it without --expect-current to repair CURRENT`,
    );
  }
  if (r.expectCurrent !== undefined && r.expectCurrent !== from) {
    throw new CurrentMismatchError(r.expectCurrent, from, r.version);
  }
  requireVersionDir(r.root, r.version);
  const verify = await verifyGate(
    {
      root: r.root,
      version: r.version,
      ...(r.smoke !== undefined ? { smoke: r.smoke } : {}),
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      ...(r.onProgress ? { onProgress: r.onProgress } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.duckdb ? { duckdb: r.duckdb } : {}),
      ...(r.probeEnv ? { probeEnv: r.probeEnv } : {}),
    },
    r.action,
  );
  const base = {
    action: r.action,
    version: r.version,
    from,
    dryRun: r.dryRun,
    reason: r.reason ?? null,
    ...(r.expectCurrent !== undefined ? { expectCurrent: r.expectCurrent } : {}),
    verify,
    repaired: broken?.problem ?? null,
  };
  if (from === r.version && !broken) return { ...base, outcome: 'already-current', logEntry: null };
  if (r.dryRun) return { ...base, outcome: 'would-publish', logEntry: null };
  // The last point a cancellation stops a publish: after the rename CURRENT has flipped.
  r.signal?.throwIfAborted();
  const entry = {
    ...makeEntry(from ?? undefined, r.version, r.reason, r.action),
    ...(broken ? { repaired: broken.problem } : {}),
  };
  await swapCurrent(r.root, r.version, saved, () => appendPublishLog(r.root, entry));
  return { ...base, outcome: 'published', logEntry: entry };
}

async function run(
  root: string,
  command: string,
  o: { dryRun?: boolean; waitSeconds?: number; signal?: AbortSignal },
  work: () => Promise<FlipResult>,
): Promise<PublishReport> {
  const start = performance.now();
  requireRoot(root);
  const { result, lockWaitSeconds } = o.dryRun
    ? { result: await work(), lockWaitSeconds: 0 }
    : await underWriterLock(root, command, o.waitSeconds, work, o.signal);
  return { ...result, lockWaitSeconds, seconds: (performance.now() - start) / 1000 };
}

export async function publish(o: PublishOptions): Promise<PublishReport> {
  checkVersionName(o.version);
  if (o.expectCurrent != null) checkVersionName(o.expectCurrent);
  checkReason(o.reason);
  return run(o.root, `publish ${o.version}`, o, () =>
    flipTo({
      root: o.root,
      version: o.version,
      action: 'publish',
      reason: o.reason,
      dryRun: o.dryRun ?? false,
      ...(o.expectCurrent !== undefined ? { expectCurrent: o.expectCurrent } : {}),
      ...(o.smoke !== undefined ? { smoke: o.smoke } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.duckdb ? { duckdb: o.duckdb } : {}),
      ...(o.probeEnv ? { probeEnv: o.probeEnv } : {}),
    }),
  );
}

/** The version `rollback` would go to now, or NotFoundError saying why there is none. */
export async function findRollbackTarget(root: string): Promise<{ current: string; target: string }> {
  const state = inspectCurrent(root);
  if (state.kind === 'outside' || state.kind === 'not-symlink') {
    // Which flip made it CURRENT is unknowable: the operator names the version.
    throw new IndexCorruptionError(
      `${state.problem}; rollback cannot tell where to go back to: name it (rollback --to V or publish V ` +
        `repairs CURRENT once V passes verify)`,
    );
  }
  const current = readCurrent(root);
  if (current === undefined) throw new NotFoundError(`no CURRENT in ${root}: nothing has been published`);
  const target = rollbackTarget((await readPublishLog(root)).entries, current);
  if (target === undefined) {
    throw new NotFoundError(
      `publish.log in ${root} records no earlier version before ${current} ` +
        `(it was the first published, or CURRENT was set by hand): pass --to V`,
    );
  }
  return { current, target };
}

export async function rollback(o: RollbackOptions): Promise<PublishReport> {
  if (o.to !== undefined) checkVersionName(o.to);
  checkReason(o.reason);
  const reason = o.reason === undefined ? 'rollback' : `rollback: ${o.reason}`;
  return run(o.root, `rollback${o.to ? ` --to ${o.to}` : ''}`, o, async () => {
    let version = o.to;
    if (version === undefined) version = (await findRollbackTarget(o.root)).target;
    else if (inspectCurrent(o.root).kind === 'none') {
      throw new NotFoundError(`no CURRENT in ${o.root}: nothing has been published; use publish`);
    }
    return flipTo({
      root: o.root,
      version,
      action: 'rollback',
      reason,
      dryRun: o.dryRun ?? false,
      ...(o.smoke !== undefined ? { smoke: o.smoke } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.duckdb ? { duckdb: o.duckdb } : {}),
      ...(o.probeEnv ? { probeEnv: o.probeEnv } : {}),
    });
  });
}
