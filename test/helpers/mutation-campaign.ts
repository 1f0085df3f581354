/**
 * The mutation campaign: one small built version per index family, then for each mutant a copy of a
 * version with one file damaged by a seeded mutation (test/helpers/mutate.ts) and resealed, so that
 * the checksums pass and verify's logical checks are what stand between the damage and a reader.
 * Each mutant runs `indexctl verify V --level 3 --json` as a subprocess under a wall-clock bound,
 * then, whatever verify said, `indexctl search` by vector (by id too when verify passed it) and
 * openIndex + search in a child. The invariants:
 *
 * - verify is never killed by a signal, never runs past the bound, and exits 0, 3 or 4 (never 1);
 * - no mutant, passed or rejected, makes search or openIndex die by a signal or hang; search exits
 *   0, 3, 4, 5 or 6 and openIndex answers or throws the matching error (issue 20: the readers that
 *   publish's gate does not stand in front of).
 *
 * Used by test/mutation.test.ts (short, CI) and test/mutation-run.ts (long campaigns, replay).
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from '../../src/core/build/build.js';
import { FaissIndex } from '../../src/core/faiss/index.js';
import { readAllChunks } from '../../src/core/parquet/chunks-reader.js';
import { writeChunks } from './chunks.js';
import { bin } from './cli.js';
import { MUTATED_FILES, mutateFile, type MutatedFile } from './mutate.js';
import { cloneVersion, reseal } from './tamper.js';

/** Version name -> factory: the families the issue names, each small enough to build in seconds. */
export const MUTATION_FAMILIES = {
  flat: 'Flat',
  ivf: 'IVF16,Flat',
  ivfpq: 'IVF16,PQ8x4',
  hnsw: 'HNSW32',
  refine: 'IVF16,PQ8x4,RFlat',
} as const;

export type MutationFamily = keyof typeof MUTATION_FAMILIES;

const ROWS = 2000;
const DIM = 32;
/** Row 0's id in the chunks fixture (ids are i * 1000 + 7). */
const QUERY_ID = '7';

export interface MutationFixture {
  root: string;
  /** Raw float32 queries (2 x DIM): row 0's stored embedding and a vector far from every row. */
  queries: string;
}

/**
 * Builds the fixture under `dir`. FAISS runs single-threaded here so that IVF training and HNSW
 * insertion give the same bytes on every run: a mutant seed then damages the same bytes each time.
 */
export async function buildMutationFixture(dir: string): Promise<MutationFixture> {
  const chunks = path.join(dir, 'chunks.parquet');
  await writeChunks(chunks, { rows: ROWS, dim: DIM });
  const root = path.join(dir, 'root');
  const threads = FaissIndex.getNumThreads();
  FaissIndex.setNumThreads(1);
  try {
    for (const [version, factory] of Object.entries(MUTATION_FAMILIES)) {
      await build({ root, chunks, factory, version });
    }
  } finally {
    FaissIndex.setNumThreads(threads);
  }
  const { vectors } = await readAllChunks(chunks);
  const queries = new Float32Array(2 * DIM);
  queries.set(vectors.subarray(0, DIM));
  queries.fill(1e6, DIM);
  const file = path.join(dir, 'queries.f32');
  writeFileSync(file, Buffer.from(queries.buffer));
  return { root, queries: file };
}

/** How one subprocess ended. */
export interface RunResult {
  args: string[];
  code: number | null;
  signal: string | null;
  /** Killed by the harness at the bound. */
  timedOut: boolean;
  ms: number;
  /** The first and last lines of stderr (a crash's message and where it ended). */
  stderr: string;
  /** verify only: the checks that failed, `name: detail` (what caught the mutant). */
  failed?: string[];
  /** openIndex only: the class of the error it threw (none when the search answered). */
  error?: string;
}

export interface MutantResult {
  /** `family:file:seed`, what `mutation-run --replay` takes. */
  id: string;
  family: MutationFamily;
  file: MutatedFile;
  seed: number;
  mutation: string;
  verify: RunResult;
  search: RunResult[];
  /** The broken invariant, e.g. `verify-signal` or `search-exit-1`; absent when none. */
  violation?: string;
}

export interface CampaignOptions {
  fixture: MutationFixture;
  mutants: number;
  seed: number;
  concurrency?: number;
  /** Wall-clock bound of one verify or search subprocess. */
  boundSeconds?: number;
  /** RLIMIT_DATA of each subprocess (bytes), so a mutant that makes FAISS allocate wildly fails there instead of starving the machine; 0 for none. */
  memoryLimit?: number;
  families?: MutationFamily[];
  /** Leave the mutated versions in the fixture root (replay). */
  keep?: boolean;
  onMutant?: (result: MutantResult, done: number) => void;
}

export interface CampaignReport {
  schema: 'indexctl.mutation/1';
  seed: number;
  mutants: number;
  boundSeconds: number;
  memoryLimit: number;
  seconds: number;
  /** `family file` -> outcome -> count; outcomes are `verify-0|3|4` or the violation. */
  counts: Record<string, Record<string, number>>;
  violations: MutantResult[];
  results: MutantResult[];
}

const VERIFY_CODES = new Set([0, 3, 4]);
const SEARCH_CODES = new Set([0, 3, 4, 5, 6]);
/** The library's errors for what search's exits 3, 4, 5 and 6 say; anything else is a bug. */
const OPEN_ERRORS = new Set([
  'InvariantViolationError',
  'IndexCorruptionError',
  'BadInputError',
  'NotFoundError',
]);
/** openIndex({ root, version }) and a search, in a child (test/helpers/reader-child.ts). */
const READER_CHILD = fileURLToPath(new URL('./reader-child.js', import.meta.url));
const DEFAULT_MEMORY_LIMIT = 4 * 1024 ** 3;

let prlimitAvailable: boolean | undefined;
function hasPrlimit(): boolean {
  prlimitAvailable ??= spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  return prlimitAvailable;
}

/**
 * Runs the bin in its own process group (so the bound kills verify's index probe too) with the
 * environment defaults an operator has: no INDEXCTL_PROBE_TIMEOUT, which would hide a hang.
 */
function runBounded(
  args: string[],
  boundMs: number,
  memoryLimit: number,
  script: string = bin,
): Promise<RunResult> {
  const argv = [process.execPath, script, ...args];
  const [command, ...rest] =
    memoryLimit > 0 && hasPrlimit() ? ['prlimit', `--data=${memoryLimit}`, ...argv] : argv;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', OMP_NUM_THREADS: '1' };
  delete env.INDEXCTL_PROBE_TIMEOUT;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command!, rest, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < 1_000_000) stdout += chunk;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 16000) stderr += chunk;
    });
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, boundMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A probe verify left behind must not outlive the mutant.
      killGroup();
      // The first lines name the error, the last ones where a crash ended.
      const lines = stderr.trim().split('\n');
      const tail = (lines.length > 16 ? [...lines.slice(0, 8), '...', ...lines.slice(-6)] : lines).join('\n');
      const ms = Math.round(performance.now() - start);
      resolve({
        args,
        code,
        signal,
        timedOut,
        ms,
        stderr: tail,
        ...failedChecks(args, stdout),
        ...(script === READER_CHILD ? openOutcome(stdout) : {}),
      });
    });
  });
}

interface VerifyJson {
  checks?: { name: string; target?: string; outcome: string; detail: string }[];
}

function failedChecks(args: string[], stdout: string): { failed?: string[] } {
  if (!args.includes('verify')) return {};
  try {
    const report = JSON.parse(stdout) as VerifyJson;
    const failed = (report.checks ?? []).filter((c) => c.outcome === 'fail');
    return {
      failed: failed.map((c) => `${c.name}${c.target ? ` ${c.target}` : ''}: ${c.detail.slice(0, 200)}`),
    };
  } catch {
    return {};
  }
}

/** What the openIndex child printed: the error's class, or none for a search that answered. */
function openOutcome(stdout: string): { error?: string } {
  try {
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { error?: { name: string } };
    return out.error ? { error: out.error.name } : {};
  } catch {
    return { error: 'no JSON on stdout' };
  }
}

function violationOf(
  step: 'verify' | 'search' | 'open',
  run: RunResult,
  allowed: Set<number>,
): string | undefined {
  if (run.timedOut) return `${step}-hang`;
  if (run.signal !== null) return `${step}-signal`;
  if (run.code === null || !allowed.has(run.code)) return `${step}-exit-${run.code}`;
  if (step === 'open' && run.error !== undefined && !OPEN_ERRORS.has(run.error)) return `open-${run.error}`;
  return undefined;
}

/** The `i`th mutant of a campaign: family and file round-robin, a seed unique to (seed, i). */
export function mutantPlan(
  seed: number,
  i: number,
  families: MutationFamily[],
): { family: MutationFamily; file: MutatedFile; seed: number } {
  const family = families[i % families.length]!;
  const file = MUTATED_FILES[Math.floor(i / families.length) % MUTATED_FILES.length]!;
  return { family, file, seed: (Math.imul(seed >>> 0, 0x9e3779b1) + i) >>> 0 };
}

/** Damages a copy of `family` with mutation `seed`, reseals it, and runs verify (and search). */
export async function runMutant(
  options: Omit<CampaignOptions, 'mutants' | 'seed'>,
  family: MutationFamily,
  file: MutatedFile,
  seed: number,
): Promise<MutantResult> {
  const { fixture } = options;
  const { root } = fixture;
  const boundMs = (options.boundSeconds ?? 60) * 1000;
  const memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  const version = `m-${family}-${file.replace('.', '_')}-${seed}`;
  const vdir = await cloneVersion(root, family, version);
  try {
    const { description } = mutateFile(path.join(vdir, file), file, seed);
    await reseal(vdir);
    const result: MutantResult = {
      id: `${family}:${file}:${seed}`,
      family,
      file,
      seed,
      mutation: description,
      verify: await runBounded(
        ['--root', root, 'verify', version, '--level', '3', '--json'],
        boundMs,
        memoryLimit,
      ),
      search: [],
    };
    result.violation = violationOf('verify', result.verify, VERIFY_CODES);
    if (result.violation === undefined) {
      // Readers that do not go through publish's gate: every mutant, whatever verify said of it,
      // is searched by vector through the CLI and through openIndex in a child; those verify
      // passed by id too. None may die by a signal, hang or fail with an internal error.
      const queries: string[][] = [['--vector-file', fixture.queries]];
      if (result.verify.code === 0) queries.unshift(['--id', QUERY_ID]);
      for (const query of queries) {
        const run = await runBounded(
          ['--root', root, 'search', version, ...query, '--k', '10', '--json'],
          boundMs,
          memoryLimit,
        );
        result.search.push(run);
        result.violation ??= violationOf('search', run, SEARCH_CODES);
      }
      const open = await runBounded(
        ['open', root, version, fixture.queries],
        boundMs,
        memoryLimit,
        READER_CHILD,
      );
      result.search.push(open);
      result.violation ??= violationOf('open', open, new Set([0]));
    }
    return result;
  } finally {
    if (!options.keep) rmSync(vdir, { recursive: true, force: true });
  }
}

export function outcomeOf(result: MutantResult): string {
  return result.violation ?? `verify-${result.verify.code}`;
}

/** Runs `mutants` mutants, `concurrency` at a time; the same seed gives the same mutants. */
export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const start = performance.now();
  const families = options.families ?? (Object.keys(MUTATION_FAMILIES) as MutationFamily[]);
  const results: MutantResult[] = new Array<MutantResult>(options.mutants);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < options.mutants) {
      const i = next++;
      const plan = mutantPlan(options.seed, i, families);
      results[i] = await runMutant(options, plan.family, plan.file, plan.seed);
      options.onMutant?.(results[i], ++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  const counts: Record<string, Record<string, number>> = {};
  for (const r of results) {
    const row = (counts[`${r.family} ${r.file}`] ??= {});
    row[outcomeOf(r)] = (row[outcomeOf(r)] ?? 0) + 1;
  }
  return {
    schema: 'indexctl.mutation/1',
    seed: options.seed,
    mutants: options.mutants,
    boundSeconds: options.boundSeconds ?? 60,
    memoryLimit: hasPrlimit() ? (options.memoryLimit ?? DEFAULT_MEMORY_LIMIT) : 0,
    seconds: Math.round((performance.now() - start) / 100) / 10,
    counts,
    violations: results.filter((r) => r.violation !== undefined),
    results,
  };
}

/** One line per broken invariant, with what replays it. */
export function describeViolation(r: MutantResult): string {
  const last = [r.verify, ...r.search].at(-1)!;
  const lines = last.stderr.split('\n');
  const crash =
    lines.find((l) => l.startsWith('indexctl:')) ??
    lines.find((l) => /error|signal|abort|assert|terminate/i.test(l)) ??
    lines[0] ??
    '';
  return `${r.violation} ${r.id} (${r.mutation}): --replay ${r.id}${crash ? ` :: ${crash.slice(0, 200)}` : ''}`;
}

/** A plain-text summary: counts per family and file, then every violation. */
export function formatSummary(report: CampaignReport): string {
  const outcomes = [...new Set(Object.values(report.counts).flatMap((row) => Object.keys(row)))].sort();
  const lines = [
    `${report.mutants} mutants, seed ${report.seed}, ${report.seconds} s, ${report.violations.length} broke an invariant`,
    ['family file', ...outcomes].join('\t'),
    ...Object.entries(report.counts).map(([key, row]) =>
      [key, ...outcomes.map((o) => String(row[o] ?? 0))].join('\t'),
    ),
    ...report.violations.map(describeViolation),
  ];
  return lines.join('\n');
}
