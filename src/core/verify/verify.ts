/**
 * `verify`: the checks of docs/verify.md, in three levels, each reported with its outcome,
 * detail and time. Like Lucene's CheckIndex, bytes come before logic: a file is checksummed before
 * anything parses it, and a check whose input failed an earlier check is skipped, not run on bad data.
 *
 *   level 1  manifest.schema, files.present, files.checksum (one per file)
 *   level 2  + index.*, idmap.*, catalog.* (structure, storage read in full, counts, ids, coverage)
 *   level 3  + smoke.1nn (the default)
 *
 * faiss.index is read only in a child process (probe-client.ts), started as soon as its checksum
 * and index.header (every count in the file fits its size) pass, so a file that crashes FAISS is
 * reported as corruption and the read overlaps the other checksums and the idmap and catalog checks.
 * The probe runs under a time and a memory bound (defaults derived from the file's size).
 *
 * A legacy (Python-written) manifest gets the legacy checks instead (legacy-checks.ts): the version
 * must be adopted with write-manifest, and verify says so (`manifest.legacy`, exit 3).
 *
 * verify returns a report for every finding (ok=false, exitCode = the most severe failure: 4
 * corruption, then 3 invariant); it throws only for usage errors (2) and a missing root, version or
 * CURRENT (6), or a CURRENT that points outside versions/ (4, from layout.ts).
 */
import { statSync } from 'node:fs';
import path from 'node:path';

import type { Catalog } from '../catalog/open.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { UsageError } from '../errors.js';
import { CHECKSUMMED_FILES, VERSION_FILES, requireCurrent, requireVersionDir } from '../layout.js';
import { checkChecksum, checkManifest, checkPresent, expectedFiles } from './file-checks.js';
import { VersionHashing } from './hashing.js';
import { IndexProbe, probeBounds, type ProbeEnv } from './probe-client.js';
import { holdpoint } from '../util/failpoint.js';
import { Check, exitCodeOf, skipAll, type CheckResult, type VerifyReport } from './types.js';

export type { CheckExitCode, CheckResult, Outcome, VerifyReport } from './types.js';
export { DEFAULT_MIN_RECALL } from './types.js';

export interface VerifyOptions {
  root: string;
  /** The version to verify; or `current`. */
  version?: string;
  current?: boolean;
  /** 1, 2 or 3 (default: the plan's `indexctl verify` includes the 1-NN smoke). */
  level?: 1 | 2 | 3;
  /** Stored embeddings smoke.1nn searches (level 3); default DEFAULT_SMOKE. */
  smoke?: number;
  /** Seed of smoke.1nn's sample; default 0. */
  seed?: number;
  /** FAISS threads in the probe process (default: FAISS's own, all cores). */
  threads?: number;
  /**
   * Seconds each request to the index probe (read, set parameters, search) may take before the
   * probe is killed and the index reported corrupt (4); default `probeEnv.timeout`, else
   * 120 s + 30 s per GiB of faiss.index.
   */
  probeTimeoutSeconds?: number;
  /**
   * Bytes of resident memory the probe may hold before it is killed and the index reported corrupt
   * (4); default `probeEnv.memory`, else 1 GiB + 8 x the faiss.index size.
   */
  probeMemoryBytes?: number;
  /** INDEXCTL_PROBE_TIMEOUT / INDEXCTL_PROBE_MEMORY as the caller read them (the CLI does). */
  probeEnv?: ProbeEnv;
  /** DuckDB memory and thread limits for the catalog checks (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
  /** Bytes hashed of the files' total, then checks done of the level's checks. */
  onProgress?: (event: VerifyProgress) => void;
  /** Cancellation: the probe is killed, hashing stops, and verify throws the signal's reason. */
  signal?: AbortSignal;
  /**
   * Files of at least this many bytes are hashed on worker threads (one per two cores), started
   * before the manifest is read; default PARALLEL_HASH_FROM (64 MiB). Infinity hashes every file
   * on the calling thread. Only where the checksum addon is not used (`nativeHash`).
   */
  parallelHashFrom?: number;
  /**
   * Every file hashed on libuv's thread pool through the checksum addon (hash-addon.ts), when it
   * is installed: the default. false: xxhash-wasm, on workers from `parallelHashFrom`.
   */
  nativeHash?: boolean;
}

export interface VerifyProgress {
  phase: 'checksum' | 'checks';
  done: number;
  total: number;
}

export const DEFAULT_LEVEL = 3;
export const DEFAULT_SMOKE = 200;

/** Every check by level, in report order (files.checksum is one result per file). */
export const CHECKS_BY_LEVEL = {
  1: ['manifest.schema', 'files.present', 'files.checksum'],
  2: [
    'index.header',
    'index.load',
    'index.structure',
    'index.dim',
    'index.metric',
    'index.count',
    'index.idmap2',
    'idmap.rows',
    'idmap.order',
    'idmap.unique',
    'idmap.matches_index',
    'index.consistency',
    'index.params',
    'catalog.open',
    'catalog.storage',
    'catalog.chunks_count',
    'catalog.coverage',
  ],
  3: ['smoke.1nn'],
} as const;

function checkOptions(options: VerifyOptions): { level: 1 | 2 | 3; samples: number; seed: number } {
  const level = options.level ?? DEFAULT_LEVEL;
  if (level !== 1 && level !== 2 && level !== 3) {
    throw new UsageError(`verify level must be 1, 2 or 3, got ${String(level)}`);
  }
  const samples = options.smoke ?? DEFAULT_SMOKE;
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new UsageError(`smoke sample size must be a positive integer, got ${String(samples)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`seed must be an integer in [0, 4294967295], got ${String(seed)}`);
  }
  const t = options.probeTimeoutSeconds;
  if (t !== undefined && !(t > 0 && Number.isFinite(t))) {
    throw new UsageError(`probe timeout must be a positive number of seconds, got ${String(t)}`);
  }
  const m = options.probeMemoryBytes;
  if (m !== undefined && !(Number.isSafeInteger(m) && m > 0)) {
    throw new UsageError(`probe memory must be a positive number of bytes, got ${String(m)}`);
  }
  if (options.threads !== undefined && (!Number.isSafeInteger(options.threads) || options.threads < 1)) {
    throw new UsageError(`threads must be a positive integer, got ${String(options.threads)}`);
  }
  return { level, samples, seed };
}

function resolveVersion(root: string, options: VerifyOptions): string {
  if (options.current && options.version !== undefined) {
    throw new UsageError('give a version or --current, not both');
  }
  if (options.current) return requireCurrent(root);
  if (options.version === undefined) throw new UsageError('give a version to verify, or --current');
  return options.version;
}

/** Waits for a promise without letting its rejection go unhandled meanwhile. */
function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const start = performance.now();
  return promise.then(
    (value) => ({ value, ms: performance.now() - start }),
    (error: unknown) => ({ error, ms: performance.now() - start }),
  );
}

/**
 * A cancelled verify throws (the signal's reason) instead of returning a report whose failures were
 * caused by the cancellation (a killed probe), so nobody reads them as findings.
 */
export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  options.signal?.throwIfAborted();
  const report = await runChecks(options);
  options.signal?.throwIfAborted();
  return report;
}

async function runChecks(options: VerifyOptions): Promise<VerifyReport> {
  const start = performance.now();
  const { level, samples, seed } = checkOptions(options);
  // Read now, so that a malformed variable is a usage error before any work.
  probeBounds(0, {
    timeoutSeconds: options.probeTimeoutSeconds,
    memoryBytes: options.probeMemoryBytes,
    env: options.probeEnv,
  });
  const root = path.resolve(options.root);
  const version = resolveVersion(root, options);
  const dir = requireVersionDir(root, version);
  // The version's own files are known by name: their hashing starts before the manifest is read.
  const hashing = new VersionHashing(dir, CHECKSUMMED_FILES, {
    ...(options.parallelHashFrom !== undefined ? { parallelFrom: options.parallelHashFrom } : {}),
    ...(options.nativeHash !== undefined ? { native: options.nativeHash } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await checkVersion(options, { start, level, samples, seed, root, version, dir, hashing });
  } finally {
    hashing.close();
  }
}

interface VerifyTarget {
  start: number;
  level: 1 | 2 | 3;
  samples: number;
  seed: number;
  root: string;
  version: string;
  dir: string;
  hashing: VersionHashing;
}

async function checkVersion(options: VerifyOptions, target: VerifyTarget): Promise<VerifyReport> {
  const { start, level, samples, seed, root, version, dir, hashing } = target;
  const checks: CheckResult[] = [];
  const report = (): VerifyReport => {
    const exitCode = exitCodeOf(checks);
    return {
      version,
      dir,
      level,
      ok: exitCode === 0,
      exitCode,
      checks,
      seconds: Math.round((performance.now() - start) / 10) / 100,
    };
  };

  const { manifest, legacy, result: schema } = await checkManifest(dir, version);
  if (legacy) {
    hashing.close();
    checks.push(
      ...(await (
        await import('./deep-checks.js')
      ).verifyLegacy(dir, version, legacy, {
        root,
        level,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        probeBounds: probeBounds(
          statSync(path.join(dir, VERSION_FILES.index), { throwIfNoEntry: false })?.size ?? 0,
          {
            timeoutSeconds: options.probeTimeoutSeconds,
            memoryBytes: options.probeMemoryBytes,
            env: options.probeEnv,
          },
        ),
      })),
    );
    return report();
  }
  checks.push(schema, await checkPresent(dir, expectedFiles(manifest)));
  if (!manifest) {
    checks.push(
      new Check('files.checksum').skip('manifest.json did not pass manifest.schema: nothing to compare'),
    );
    const later = level === 1 ? [] : [...CHECKS_BY_LEVEL[2], ...(level === 3 ? CHECKS_BY_LEVEL[3] : [])];
    checks.push(...skipAll(later, 'manifest.json did not pass manifest.schema'));
    return report();
  }

  // faiss.index first, so that the probe reads it while the other files are checksummed.
  const names = expectedFiles(manifest).filter((n) => n !== VERSION_FILES.manifest);
  const sums = new Map<string, CheckResult>();
  const indexFile = path.join(dir, VERSION_FILES.index);
  const onProgress = options.onProgress;
  hashing.report(
    manifest.files,
    onProgress && ((done, total) => onProgress({ phase: 'checksum', done, total })),
  );
  sums.set(
    VERSION_FILES.index,
    await checkChecksum(
      dir,
      VERSION_FILES.index,
      manifest.files[VERSION_FILES.index],
      hashing.of(VERSION_FILES.index),
    ),
  );
  await holdpoint('verify:hashing', options.signal);
  const passed = (name: string) => sums.get(name)?.outcome === 'pass';
  // Levels 2 and 3 need DuckDB, parquet-wasm and the probe's checks; level 1 only hashes files, so
  // they load only when asked for: their start-up was most of a level-1 run's time.
  const deep = level >= 2 ? await import('./deep-checks.js') : undefined;
  let probe: IndexProbe | undefined;
  let catalog: Catalog | undefined;
  // A cancelled verify must not wait for FAISS in the probe: it is killed, its pending request fails.
  const killProbe = (): void => probe?.close();
  options.signal?.addEventListener('abort', killProbe, { once: true });
  const checksDone = (): void => {
    options.signal?.throwIfAborted();
    const total = level === 3 ? CHECKS_BY_LEVEL[2].length + 1 : CHECKS_BY_LEVEL[2].length;
    const done = checks.filter((c) => c.name !== 'manifest.schema' && !c.name.startsWith('files.')).length;
    options.onProgress?.({ phase: 'checks', done, total });
  };
  try {
    // The walk takes milliseconds; FAISS reads only a file whose counts fit it.
    const header =
      deep && passed(VERSION_FILES.index)
        ? await deep.checkHeader(indexFile)
        : new Check('index.header').skip(`${VERSION_FILES.index} did not pass files.checksum: not read`);
    const bounds = probeBounds(statSync(indexFile, { throwIfNoEntry: false })?.size ?? 0, {
      timeoutSeconds: options.probeTimeoutSeconds,
      memoryBytes: options.probeMemoryBytes,
      env: options.probeEnv,
    });
    const loading =
      header.outcome === 'pass'
        ? settle((probe = new IndexProbe(bounds)).load(indexFile, options.threads))
        : undefined;
    for (const name of names) {
      if (!sums.has(name))
        sums.set(name, await checkChecksum(dir, name, manifest.files[name], hashing.of(name)));
    }
    checks.push(...names.map((n) => sums.get(n)!));
    if (!deep) return report();
    checksDone();

    // The id map is read here and DuckDB works on its own threads: the two overlap, and both
    // overlap the probe's read of the index.
    const [idmapRead, catalogChecks] = await Promise.all([
      passed(VERSION_FILES.idmap) ? settle(deep.readIdMap(path.join(dir, VERSION_FILES.idmap))) : undefined,
      deep.runCatalogChecks(dir, manifest, passed, options.duckdb),
    ]);
    catalog = catalogChecks.catalog;

    const loaded = loading ? await loading : undefined;
    const load = loaded
      ? deep.loadResult(indexFile, loaded.ms, {
          ...(loaded.value ? { facts: loaded.value } : { error: loaded.error }),
        })
      : new Check('index.load').skip(
          header.outcome === 'fail'
            ? `${VERSION_FILES.index} did not pass index.header: not read`
            : `${VERSION_FILES.index} did not pass files.checksum: not read`,
        );
    checks.push(header);
    const facts = loaded?.value;
    checks.push(load);
    const indexDown = facts ? '' : 'faiss.index was not loaded (see index.load)';
    if (facts) {
      checks.push(
        deep.checkStructure(facts),
        deep.checkDim(facts, manifest),
        deep.checkMetric(facts, manifest),
        deep.checkCount(facts, manifest),
        deep.checkIdMap2(facts),
      );
    } else {
      checks.push(
        ...skipAll(
          ['index.structure', 'index.dim', 'index.metric', 'index.count', 'index.idmap2'],
          indexDown,
        ),
      );
    }
    checks.push(...deep.idmapChecks(idmapRead, facts, manifest));
    checksDone();
    let tuningApplied = false;
    if (facts && probe) {
      checks.push(deep.checkConsistency(facts));
      const params = await deep.checkParams(manifest, facts, probe);
      tuningApplied = params.applied;
      checks.push(params.result);
    } else {
      checks.push(...skipAll(['index.consistency', 'index.params'], indexDown));
    }
    checks.push(...catalogChecks.results);
    checksDone();
    if (level === 2) return report();

    const smoke = new Check('smoke.1nn');
    if (!facts || !probe) checks.push(smoke.skip(indexDown));
    else if (!facts.structure.ok) {
      // The probe refuses too; skipping says why, instead of reporting its refusal as a finding.
      checks.push(smoke.skip('faiss.index failed index.structure: searching it could crash FAISS'));
    } else if (!probe.alive) checks.push(smoke.skip('the probe process died (see index.params)'));
    else if (!facts.idMap) checks.push(smoke.skip(`faiss.index has no id map: ${facts.idMapError ?? ''}`));
    else if (!catalog) checks.push(smoke.skip('the catalog did not open (see catalog.open)'));
    else {
      const idMap = facts.idMap;
      checks.push(
        await deep.checkSmoke(manifest, { ...facts, idMap }, catalog, probe, {
          samples,
          seed,
          tuningApplied,
        }),
      );
    }
    checksDone();
    return report();
  } finally {
    options.signal?.removeEventListener('abort', killProbe);
    probe?.close();
    catalog?.close();
  }
}
