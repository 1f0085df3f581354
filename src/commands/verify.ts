/**
 * `verify [V|--current] [--level 1|2|3] [--smoke N] [--seed N]`: prints the report as a table (boxed
 * and wrapped on a terminal, one line per check otherwise) or one JSON document, and exits with the
 * report's code: 0, 4 corruption, or 3 invariant.
 */
import { verify, type CheckResult, type VerifyProgress, type VerifyReport } from '../core/verify/verify.js';
import type { CommandOptions, verify as verifyCommand } from '../cli-options.js';
import { paint } from '../reporters/colour.js';
import { withProgress, type ProgressLine } from '../reporters/progress.js';
import type { renderTable } from '../reporters/table.js';
import { outputMode, type OutputStream } from '../reporters/terminal.js';
import type { CommandContext, CommandOutput } from './context.js';

export type VerifyJson = VerifyReport & { schema: 'indexctl.verify/1' };

export async function run(ctx: CommandContext<CommandOptions<typeof verifyCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  // cli-table3 draws for a terminal only: in a pipe or with --json, a level-1 run never loads it.
  const table =
    outputMode(ctx.io.stdout, ctx.globals.json) === 'human'
      ? (await import('../reporters/table.js')).renderTable
      : undefined;
  const report: VerifyReport = await withProgress(ctx.io.stderr, ctx.globals, (progress) =>
    verify({
      root: ctx.globals.root,
      duckdb: ctx.globals.duckdb,
      level: o.level,
      version: ctx.args[0],
      current: o.current,
      smoke: o.smoke,
      seed: o.seed,
      threads: ctx.globals.threads,
      probeTimeoutSeconds: o.probeTimeout,
      probeMemoryBytes: o.probeMemory,
      probeEnv: ctx.globals.probeEnv,
      onProgress: verifyProgress(progress),
      signal: ctx.signal,
    }),
  );
  const json: VerifyJson = { schema: 'indexctl.verify/1', ...report };
  return { json, render: (out) => renderReport(report, out, table), exitCode: report.exitCode };
}

/** verify's two phases on a progress line: bytes hashed of the files' total, then checks done. */
export function verifyProgress(progress: ProgressLine): (e: VerifyProgress) => void {
  return (e) =>
    e.phase === 'checksum'
      ? progress.update('verify: checksums', e.done, e.total, 'bytes')
      : progress.update('verify: checks', e.done, e.total, 'checks');
}

function outcomeLabel(outcome: CheckResult['outcome'], out: OutputStream): string {
  const colour = outcome === 'pass' ? 'green' : outcome === 'fail' ? 'red' : 'yellow';
  return paint(outcome.toUpperCase(), colour, out);
}

function summary(report: VerifyReport): string {
  const count = (o: CheckResult['outcome']) => report.checks.filter((c) => c.outcome === o).length;
  const verdict = report.ok ? 'ok' : `FAILED (exit ${report.exitCode})`;
  return (
    `verify ${report.version} level ${report.level}: ${verdict}: ${count('pass')} passed, ` +
    `${count('fail')} failed, ${count('skip')} skipped in ${report.seconds.toFixed(2)} s`
  );
}

/**
 * On a terminal, a table whose detail column wraps to the width; in a pipe, one log line per check
 * (`PASS  files.checksum faiss.index   5.3 ms  xxh64:...`) so grep sees a whole check on one line.
 * `table` is reporters/table.ts's renderTable, which run() imports only for a terminal.
 */
export function renderReport(report: VerifyReport, out: OutputStream, table?: typeof renderTable): string {
  if (!out.isTTY || !table) {
    const lines = report.checks.map((c) =>
      [
        c.outcome.toUpperCase().padEnd(4),
        `${c.name}${c.target ? ` ${c.target}` : ''}`.padEnd(34),
        `${c.ms.toFixed(1)} ms`.padStart(11),
        c.detail,
      ].join('  '),
    );
    return [...lines, summary(report)].join('\n');
  }
  const rendered = table(
    ['check', 'target', 'outcome', 'ms', 'detail'],
    report.checks.map((c) => [
      c.name,
      c.target ?? '',
      outcomeLabel(c.outcome, out),
      c.ms.toFixed(1),
      c.detail,
    ]),
    out,
    { align: ['left', 'left', 'left', 'right', 'left'], flex: 4 },
  );
  return `${rendered}\n${summary(report)}`;
}
