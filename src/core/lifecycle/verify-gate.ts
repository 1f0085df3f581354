/**
 * The publish gate: a version is published only after a level-3 verify passes. A failing report is
 * turned into the error of its exit code (4 corruption, 3 invariant, 6 not found), with a message
 * that names every failed check, so a cron log says what was wrong without a second run.
 */
import {
  IndexCorruptionError,
  InvariantViolationError,
  NotFoundError,
  type IndexctlError,
} from '../errors.js';
import type { CheckResult, VerifyOptions, VerifyReport } from '../verify/verify.js';

export interface GateOptions {
  root: string;
  version: string;
  smoke?: number;
  seed?: number;
  onProgress?: VerifyOptions['onProgress'];
  duckdb?: VerifyOptions['duckdb'];
  probeEnv?: VerifyOptions['probeEnv'];
  signal?: AbortSignal;
}

/** A verify failure that refused a publish; `report` is the full verify report. */
export interface GateError extends IndexctlError {
  report: VerifyReport;
}

function describeCheck(c: CheckResult): string {
  return `${c.name}${c.target ? ` (${c.target})` : ''}: ${c.detail}`;
}

export function gateError(report: VerifyReport, doing: string): GateError {
  const failed = report.checks.filter((c) => c.outcome === 'fail');
  const message =
    `refusing to ${doing} ${report.version}: verify level ${report.level} failed ` +
    `${failed.length} check${failed.length === 1 ? '' : 's'}: ${failed.map(describeCheck).join('; ')}`;
  const err =
    report.exitCode === 4
      ? new IndexCorruptionError(message)
      : report.exitCode === 6
        ? new NotFoundError(message)
        : new InvariantViolationError(message);
  return Object.assign(err, { report });
}

/** Runs verify at level 3 and returns its report, or throws the GateError of a failing one. */
export async function verifyGate(options: GateOptions, doing: string): Promise<VerifyReport> {
  // Loaded here, not at the top: it brings FAISS, DuckDB and parquet-wasm, which a refused name or
  // a compare-and-swap conflict never needs.
  const { verify } = await import('../verify/verify.js');
  const report = await verify({
    root: options.root,
    version: options.version,
    level: 3,
    ...(options.smoke !== undefined ? { smoke: options.smoke } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.duckdb ? { duckdb: options.duckdb } : {}),
    ...(options.probeEnv ? { probeEnv: options.probeEnv } : {}),
  });
  if (!report.ok) throw gateError(report, doing);
  return report;
}
