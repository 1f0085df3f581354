/**
 * `verify [V|--current] [--level 1|2|3] [--smoke N] [--seed N]`: prints the report as a table (boxed
 * and wrapped on a terminal, one line per check otherwise) or one JSON document, and exits with the
 * report's code: 0, 4 corruption, or 3 invariant.
 */
import Table from 'cli-table3';

import { verify, type CheckResult, type VerifyReport } from '../core/verify/verify.js';
import type { CommandContext, CommandOutput } from './context.js';
import { oneOf, optionalInt, optionalSeconds, optionalSize } from './options.js';

export type VerifyJson = VerifyReport & { schema: 'indexctl.verify/1' };

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  const level = Number(oneOf(o, 'level', ['1', '2', '3'] as const, '2')) as 1 | 2 | 3;
  const smoke = optionalInt(o, 'smoke', 1);
  const seed = optionalInt(o, 'seed', 0);
  const version = ctx.args[0];
  const timeout = optionalSeconds(o, 'probeTimeout');
  const memory = optionalSize(o, 'probeMemory');
  const report = await verify({
    root: ctx.globals.root,
    level,
    ...(version !== undefined ? { version } : {}),
    ...(o.current === true ? { current: true } : {}),
    ...(smoke !== undefined ? { smoke } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(ctx.globals.threads !== undefined ? { threads: ctx.globals.threads } : {}),
    ...(timeout !== undefined ? { probeTimeoutSeconds: timeout } : {}),
    ...(memory !== undefined ? { probeMemoryBytes: memory } : {}),
  });
  const json: VerifyJson = { schema: 'indexctl.verify/1', ...report };
  return { json, text: renderReport(report), exitCode: report.exitCode };
}

function colourOn(): boolean {
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}

function outcomeLabel(outcome: CheckResult['outcome'], colour: boolean): string {
  const label = outcome.toUpperCase();
  if (!colour) return label;
  const code = outcome === 'pass' ? 32 : outcome === 'fail' ? 31 : 33;
  return `\u001b[${code}m${label}\u001b[39m`;
}

function summary(report: VerifyReport): string {
  const count = (o: CheckResult['outcome']) => report.checks.filter((c) => c.outcome === o).length;
  const verdict = report.ok ? 'ok' : `FAILED (exit ${report.exitCode})`;
  return (
    `verify ${report.version} level ${report.level}: ${verdict}: ${count('pass')} passed, ` +
    `${count('fail')} failed, ${count('skip')} skipped in ${report.seconds.toFixed(2)} s`
  );
}

export function renderReport(report: VerifyReport): string {
  const tty = process.stdout.isTTY === true;
  if (!tty) {
    // One line per check, so a log or grep sees the check, its target and its detail together.
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
  const colour = colourOn();
  const width = Math.max(80, process.stdout.columns || Number(process.env.COLUMNS) || 120);
  const fixed = [22, 16, 9, 9];
  const detailWidth = Math.max(30, width - fixed.reduce((a, b) => a + b, 0) - 6);
  const table = new Table({
    head: ['check', 'target', 'outcome', 'ms', 'detail'],
    colWidths: [...fixed, detailWidth],
    wordWrap: true,
    style: { head: [], border: [], compact: true },
  });
  for (const c of report.checks) {
    table.push([c.name, c.target ?? '', outcomeLabel(c.outcome, colour), c.ms.toFixed(1), c.detail]);
  }
  return `${table.toString()}\n${summary(report)}`;
}
