/**
 * `status` / `list`: what a root holds — each version with its size, vectors, factory, tuning,
 * creation time and pin, which one is CURRENT and which one rollback would go to — plus who holds
 * the writer lock and which FAISS this installation links. A reader: no lock, no native code.
 * A broken CURRENT (dangling, outside versions/, not a symlink) does not stop the report: it is
 * described in `currentProblem` with the command that repairs it, and the CLI exits 4 after printing.
 */
import { faissBuildFacts, packageVersion, type FaissBuildFacts } from '../build-info.js';
import { IndexCorruptionError } from '../errors.js';
import {
  currentLink,
  listVersions,
  requireRealRootDirs,
  requireRoot,
  staleStagingDirs,
  versionExists,
} from '../layout.js';
import { readLockState, type LockOwner } from '../lock.js';
import { familyFromFactory, type IndexFamily, type ManifestTuning, type Metric } from '../manifest/schema.js';
import { inspectCurrent, isBroken, type BrokenCurrent } from './current.js';
import { readPins } from './pins.js';
import { readPublishLog, rollbackTarget, type PublishLogEntry } from './publish-log.js';
import { describeVersion } from './version-info.js';

export interface VersionStatus {
  version: string;
  current: boolean;
  /** The version `rollback` would publish. */
  rollbackTarget: boolean;
  pinned: boolean;
  /**
   * `bad`: the manifest is missing, unreadable or invalid (`problem` says why); listed, not fatal.
   * `legacy`: a valid manifest of the Python pipeline (no schema_version): its facts are shown, and
   * `problem` gives the write-manifest command that adopts it.
   */
  state: 'ok' | 'bad' | 'legacy';
  bytes: number;
  /** ISO 8601, from the manifest (or the directory's mtime when the manifest is unreadable). */
  created: string;
  vectors: number | null;
  dim: number | null;
  metric: Metric | null;
  factory: string | null;
  family: IndexFamily | null;
  tuning: ManifestTuning | null;
  /** e.g. "hnsw efSearch=64 R@10=0.970"; null when untuned. */
  tuningSummary: string | null;
  /** Why the manifest is unusable; null when it is fine. */
  problem: string | null;
}

/** A CURRENT that names no usable version, and how to fix it. */
export interface CurrentProblem {
  kind: BrokenCurrent['kind'];
  /** The symlink's text, when CURRENT is a symlink. */
  link: string | null;
  problem: string;
  /** A shell command that repairs it (publish runs its gate first), or what to do when none can. */
  repair: string;
}

export interface StatusReport {
  root: string;
  /** The version CURRENT names; null when there is none or it is broken (see currentProblem). */
  current: string | null;
  currentProblem: CurrentProblem | null;
  rollbackTarget: string | null;
  /** The last line of publish.log. */
  lastPublish: PublishLogEntry | null;
  versions: VersionStatus[];
  pins: string[];
  /** Staging entries whose builder is gone (removed by gc --yes or the next build). */
  staleStaging: string[];
  /**
   * The writer lock's holder, if any; `stale`: it is no longer running (it crashed or was killed),
   * and the next writer takes the lock over, so nothing waits on it.
   */
  lock: (LockOwner & { stale: boolean }) | null;
  indexctl: string;
  /** The FAISS the addon was built against; null when the addon is not built. */
  faiss: FaissBuildFacts | null;
  /**
   * Things an operator should look at: a dangling CURRENT, pins of missing versions, bad log lines,
   * a staging/ or versions/ that is not a real directory (every writer refuses such a root).
   */
  problems: string[];
  /** Harmless oddities: a torn last line of publish.log (ignored, removed by the next publish). */
  warnings: string[];
}

function lockStatus(root: string): StatusReport['lock'] {
  const state = readLockState(root);
  return state ? { ...state.owner, stale: state.stale } : null;
}

export function tuningSummary(t: ManifestTuning | null | undefined): string | null {
  if (!t) return null;
  const parts: string[] = [t.family];
  if (t.nprobe != null) parts.push(`nprobe=${t.nprobe}`);
  if (t.hnsw_efSearch != null) parts.push(`efSearch=${t.hnsw_efSearch}`);
  if (t.refine_k_factor != null) parts.push(`k_factor=${t.refine_k_factor}`);
  if (t.recall_at_k != null) parts.push(`R@${t.k}=${t.recall_at_k.toFixed(3)}`);
  if (t.latency_ms_p50 != null) parts.push(`p50=${t.latency_ms_p50.toFixed(2)}ms`);
  return parts.join(' ');
}

export async function status(root: string): Promise<StatusReport> {
  requireRoot(root);
  const state = inspectCurrent(root);
  const current = state.kind === 'ok' ? state.version : null;
  const log = await readPublishLog(root);
  const target = rollbackTarget(log.entries, current ?? undefined) ?? null;
  const pins = await readPins(root);
  const problems = [...log.problems, ...pins.problems];
  let staleStaging: string[] = [];
  try {
    requireRealRootDirs(root);
    staleStaging = staleStagingDirs(root).map((s) => s.name);
  } catch (err) {
    // status is where an operator looks first: show the damaged layout instead of failing.
    if (!(err instanceof IndexCorruptionError)) throw err;
    problems.push(err.message);
  }
  if (target !== null && !versionExists(root, target)) {
    problems.push(`the rollback target ${target} has no directory: rollback needs --to`);
  }
  for (const p of pins.versions) {
    if (!versionExists(root, p)) problems.push(`pinned version ${p} has no directory`);
  }
  const versions: VersionStatus[] = [];
  for (const name of listVersions(root)) {
    const info = await describeVersion(root, name);
    // A legacy manifest has the same names for what it records; it has no metric.
    const m = info.manifest ?? info.legacy;
    versions.push({
      version: name,
      current: name === current,
      rollbackTarget: name === target,
      pinned: pins.versions.includes(name),
      state: info.state,
      bytes: info.bytes,
      created: new Date(info.createdMs).toISOString(),
      vectors: m?.vectors_count ?? null,
      dim: m?.vec_dim ?? null,
      metric: info.manifest?.metric ?? null,
      factory: m?.faiss_factory ?? null,
      family: m ? familyFromFactory(m.faiss_factory) : null,
      tuning: m?.tuning ?? null,
      tuningSummary: tuningSummary(m?.tuning),
      problem: info.problem ?? null,
    });
  }
  const currentProblem = isBroken(state) ? describeBroken(root, state, log.entries, versions) : null;
  if (currentProblem) problems.unshift(currentProblem.problem);
  return {
    root,
    current,
    currentProblem,
    rollbackTarget: target,
    lastPublish: log.entries.at(-1) ?? null,
    versions,
    pins: pins.versions,
    staleStaging,
    lock: lockStatus(root),
    indexctl: packageVersion(),
    faiss: faissBuildFacts() ?? null,
    problems,
    warnings: log.warnings,
  };
}

/**
 * The repair for a broken CURRENT: publish the version the log last made CURRENT (if it still
 * exists), else the newest good version; publish verifies it before replacing CURRENT.
 */
function describeBroken(
  root: string,
  state: BrokenCurrent,
  log: PublishLogEntry[],
  versions: VersionStatus[],
): CurrentProblem {
  const good = new Set(versions.filter((v) => v.state === 'ok').map((v) => v.version));
  const fromLog = [...log].reverse().find((e) => good.has(e.to))?.to;
  const newest = [...versions]
    .filter((v) => v.state === 'ok')
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))[0]?.version;
  const target = fromLog ?? newest;
  const link = state.kind === 'not-symlink' ? null : state.text;
  const r = shellWord(root);
  let repair: string;
  if (target === undefined) {
    repair = `no good version to point CURRENT at: build one, then indexctl --root ${r} publish V`;
  } else {
    const publish = `indexctl --root ${r} publish ${target} --reason "repair CURRENT"`;
    // rename(2) cannot put a link over a directory, and a file there may be someone's: moved aside.
    repair =
      state.kind === 'not-symlink'
        ? `mv ${shellWord(currentLink(root))} ${shellWord(currentLink(root) + '.bad')} && ${publish}`
        : publish;
  }
  return { kind: state.kind, link, problem: state.problem, repair };
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
