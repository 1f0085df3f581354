import { formatBytes } from '../core/build/plan.js';
import { parseDuration, formatAge } from '../core/lifecycle/duration.js';
import { gc, type GcReport } from '../core/lifecycle/gc.js';
import type { CommandContext, CommandOutput } from './context.js';
import { optionalInt } from './options.js';
import { renderTable } from './table.js';

export type GcJson = GcReport & { schema: 'indexctl.gc/1' };

function render(r: GcReport): string {
  const policy = `keep the ${r.keep} newest${r.olderThanMs !== null ? `, remove only versions older than ${formatAge(r.olderThanMs)}` : ''}`;
  const lines = [`policy: ${policy}; never CURRENT, the rollback target or a pinned version`];
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
      ),
    );
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

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  const olderThan = o.olderThan === undefined ? undefined : String(o.olderThan);
  const keep = optionalInt(o, 'keep', 0);
  const wait = optionalInt(o, 'wait', 0);
  const report = await gc({
    root: ctx.globals.root,
    yes: Boolean(o.yes),
    ...(keep !== undefined ? { keep } : {}),
    ...(olderThan !== undefined ? { olderThanMs: parseDuration(olderThan) } : {}),
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
  });
  const json: GcJson = { schema: 'indexctl.gc/1', ...report };
  return { json, text: render(report) };
}
