import { formatAge, formatBytes } from '../core/util/units.js';
import { gc, type GcReport } from '../core/lifecycle/gc.js';
import type { gc as gcCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { progressLine } from '../reporters/progress.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';

export type GcJson = GcReport & { schema: 'indexctl.gc/1' };

function render(r: GcReport, out: OutputStream): string {
  const policy = `keep the ${r.keep} newest${r.olderThanMs !== null ? `, remove only versions older than ${formatAge(r.olderThanMs)}` : ''}`;
  const lines = [
    `policy: ${policy}; never CURRENT, the rollback target or a pinned version` +
      `${r.olderThanMs === null ? ', nor a bad one' : ''}`,
  ];
  if (r.versions.length > 0) {
    lines.push(
      renderTable(
        ['version', 'action', 'why kept', 'age', 'size'],
        r.versions.map((v) => [
          v.version,
          v.action === 'remove' ? (r.dryRun ? 'would remove' : 'removed') : 'keep',
          v.keptBecause.join(', '),
          formatAge(v.ageMs),
          formatBytes(v.bytes),
        ]),
        out,
      ),
    );
  }
  for (const v of r.versions) {
    if (v.state !== 'bad') continue;
    const fate =
      v.action === 'keep'
        ? `kept (${v.keptBecause.join(', ')})`
        : `${r.dryRun ? 'would be removed' : 'removed'}: older than --older-than by its directory time`;
    lines.push(`bad version ${v.version}: ${v.problem ?? 'unusable manifest'}; ${fate}`);
  }
  for (const l of r.leftovers) {
    lines.push(
      `${r.dryRun ? 'would remove' : 'removed'} ${l.kind === 'staging' ? 'stale staging dir' : 'stale temp file'} ${l.name}`,
    );
  }
  for (const u of r.unknown) lines.push(`unknown: ${u.name} (${u.type}): skipped`);
  for (const p of r.problems) lines.push(`problem: ${p}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  const n = r.removed.length;
  lines.push(
    n === 0
      ? 'nothing to remove'
      : r.dryRun
        ? `would remove ${n} item${n === 1 ? '' : 's'} (${formatBytes(r.bytes)}); run again with --yes to remove`
        : `removed ${n} item${n === 1 ? '' : 's'} (${formatBytes(r.bytes)})`,
  );
  return lines.join('\n');
}

export async function run(ctx: CommandContext<CommandOptions<typeof gcCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  // --dry-run is gc without --yes (commander refuses the two together).
  const progress = o.yes ? await progressLine(ctx.io.stderr, ctx.globals) : undefined;
  let report: GcReport;
  try {
    report = await gc({
      root: ctx.globals.root,
      yes: o.yes,
      keep: o.keep,
      olderThanMs: o.olderThan,
      waitSeconds: o.wait,
      signal: ctx.signal,
      ...(progress
        ? { onProgress: (done, total) => progress.update('gc: freeing', done, total, 'bytes') }
        : {}),
    });
  } finally {
    progress?.stop();
  }
  const json: GcJson = { schema: 'indexctl.gc/1', ...report };
  // --quiet: a removal says nothing; a listing (no --yes) is what was asked for.
  return { json, render: (out) => render(report, out), ...(report.dryRun ? {} : { quiet: '' }) };
}
