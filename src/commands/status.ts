import { ExitCode } from '../core/errors.js';
import { formatBytes } from '../core/util/units.js';
import { status, type StatusReport } from '../core/lifecycle/status.js';
import type { CommandContext, CommandOutput } from './context.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';

export type StatusJson = StatusReport & { schema: 'indexctl.status/1' };

function marks(v: StatusReport['versions'][number]): string {
  return [
    v.state === 'bad' ? 'BAD' : v.state === 'legacy' ? 'legacy' : '',
    v.current ? 'CURRENT' : '',
    v.rollbackTarget ? 'rollback' : '',
    v.pinned ? 'pinned' : '',
  ]
    .filter(Boolean)
    .join(',');
}

function render(r: StatusReport, out: OutputStream): string {
  const lines = [
    `root      ${r.root}`,
    r.currentProblem
      ? `CURRENT   BROKEN: ${r.currentProblem.problem}`
      : `CURRENT   ${r.current ?? '(none: nothing published)'}`,
    ...(r.currentProblem ? [`repair    ${r.currentProblem.repair}`] : []),
    `rollback  ${r.rollbackTarget ?? '(none)'}`,
  ];
  if (r.lastPublish) {
    const p = r.lastPublish;
    lines.push(
      `last flip ${p.ts} ${p.from ?? '(none)'} -> ${p.to} by ${p.user}@${p.host}${p.reason ? ` (${p.reason})` : ''}`,
    );
  }
  if (r.lock) {
    const l = r.lock;
    const who = `"${l.command}", pid ${l.pid} on ${l.host} since ${l.started}`;
    lines.push(
      l.stale
        ? `lock      stale: left by ${who}, which is no longer running (the next writer takes it over)`
        : `lock      held by ${who}`,
    );
  }
  lines.push(
    `FAISS     ${r.faiss ? `${r.faiss.version} ${r.faiss.simd} (${r.faiss.source})` : 'addon not built'}, indexctl ${r.indexctl}`,
  );
  if (r.versions.length === 0) lines.push('', 'no versions');
  else {
    lines.push(
      '',
      renderTable(
        ['version', '', 'vectors', 'dim', 'factory', 'metric', 'tuning', 'size', 'created'],
        r.versions.map((v) => [
          v.version,
          marks(v),
          v.vectors?.toLocaleString('en-US') ?? '?',
          v.dim ?? '?',
          v.factory ?? '?',
          v.metric ?? '?',
          v.tuningSummary ?? (v.problem ? '' : 'untuned'),
          formatBytes(v.bytes),
          v.created.replace(/\.\d{3}Z$/, 'Z'),
        ]),
        out,
      ),
    );
  }
  for (const v of r.versions) if (v.problem) lines.push(`problem: ${v.version}: ${v.problem}`);
  if (r.staleStaging.length > 0) lines.push(`stale staging (gc removes): ${r.staleStaging.join(', ')}`);
  for (const p of r.problems) if (p !== r.currentProblem?.problem) lines.push(`problem: ${p}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const report = await status(ctx.globals.root);
  const json: StatusJson = { schema: 'indexctl.status/1', ...report };
  // A broken CURRENT is corruption of the root's pointer (exit 4), reported after the full listing.
  return {
    json,
    render: (out) => render(report, out),
    ...(report.currentProblem ? { exitCode: ExitCode.corruption } : {}),
  };
}
