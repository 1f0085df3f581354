/** The result types of verify (re-exported by verify.ts) and the small builder every check uses. */
import { FaissError, IndexctlError } from '../errors.js';

export type Outcome = 'pass' | 'fail' | 'skip';

/** recall@1 an untuned approximate index must reach on its own stored vectors (smoke.1nn). */
export const DEFAULT_MIN_RECALL = 0.9;
export type CheckExitCode = 3 | 4 | 6;

export interface CheckResult {
  /** Stable name (docs/verify.md), e.g. `files.checksum`. */
  name: string;
  /** What the check looked at when it runs once per item (files.checksum: the file name). */
  target?: string;
  outcome: Outcome;
  detail: string;
  ms: number;
  /** For a failure: 4 corruption (a file), 3 invariant (counts, ids, coverage), 6 not found. */
  exitCode?: CheckExitCode;
}

export interface VerifyReport {
  version: string;
  /** The version directory. */
  dir: string;
  level: 1 | 2 | 3;
  ok: boolean;
  /** 0, or the most severe failing check's code (4 before 3 before 6). */
  exitCode: number;
  checks: CheckResult[];
  seconds: number;
}

/**
 * A check in progress: its clock starts when it is made. `priorMs` is work done for it earlier
 * (reading a file that several checks share), counted in its time.
 */
export class Check {
  private readonly start = performance.now();
  constructor(
    readonly name: string,
    readonly target?: string,
    private readonly priorMs = 0,
  ) {}

  private result(outcome: Outcome, detail: string, exitCode?: CheckExitCode): CheckResult {
    return {
      name: this.name,
      ...(this.target !== undefined ? { target: this.target } : {}),
      outcome,
      detail,
      ms: Math.round((performance.now() - this.start + this.priorMs) * 10) / 10,
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  }

  pass(detail: string): CheckResult {
    return this.result('pass', detail);
  }

  fail(detail: string, exitCode: CheckExitCode): CheckResult {
    return this.result('fail', detail, exitCode);
  }

  /** Could not run because an earlier check failed; does not change the exit code. */
  skip(detail: string): CheckResult {
    return this.result('skip', detail);
  }

  /**
   * A typed error met while checking, as this check's failure: corruption, invariant and not-found
   * errors keep their code, and FAISS refusing a file is corruption. Anything else is a bug or a
   * usage problem and is rethrown, never reported as a finding.
   */
  failWith(err: unknown): CheckResult {
    if (err instanceof FaissError) return this.fail(err.message, 4);
    if (err instanceof IndexctlError && (err.exitCode === 3 || err.exitCode === 4 || err.exitCode === 6)) {
      return this.fail(err.message, err.exitCode);
    }
    throw err;
  }
}

const SEVERITY: readonly CheckExitCode[] = [4, 3, 6];

/** The exit code of a set of results: the most severe failure's, or 0. */
export function exitCodeOf(checks: readonly CheckResult[]): number {
  for (const code of SEVERITY) {
    if (checks.some((c) => c.outcome === 'fail' && c.exitCode === code)) return code;
  }
  return 0;
}

/** "12, 15, 99 and 4 more" for a list of offending ids or rows. */
export function firstOf(items: readonly (bigint | number | string)[], total: number): string {
  const shown = items.map(String).join(', ');
  return total > items.length ? `${shown} and ${total - items.length} more` : shown;
}

/** The same skip for each of `names`: the checks that could not run, and why. */
export function skipAll(names: readonly string[], why: string): CheckResult[] {
  return names.map((name) => new Check(name).skip(why));
}
