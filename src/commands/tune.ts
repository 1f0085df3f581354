import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { ExitCode } from '../core/errors.js';
import { asciiChart, svgChart } from '../reporters/tune-chart.js';
import { tune, type TunePoint, type TuneReport } from '../core/tune/tune.js';
import type { CommandOptions, tune as tuneCommand } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { withProgress } from '../reporters/progress.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';

export type TuneJson = TuneReport & { schema: 'indexctl.tune/1'; plot?: string };

export async function run(ctx: CommandContext<CommandOptions<typeof tuneCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  const report: TuneReport = await withProgress(ctx.io.stderr, ctx.globals, (progress) =>
    tune({
      root: ctx.globals.root,
      duckdb: ctx.globals.duckdb,
      version: ctx.args[0]!,
      write: o.write,
      k: o.k,
      targetRecall: o.targetRecall,
      queries: o.queries,
      sample: o.sample,
      seed: o.seed,
      params: o.params,
      runs: o.runs,
      maxSeconds: o.maxSeconds,
      embeddingColumn: o.embeddingColumn,
      waitSeconds: o.wait,
      signal: ctx.signal,
      onProgress: (e) =>
        progress.update(
          e.phase === 'truth' ? 'ground truth' : 'sweep',
          e.done,
          e.total,
          e.phase === 'truth' ? 'vectors' : 'settings',
        ),
    }),
  );
  let plotFile: string | undefined;
  if (o.plot !== undefined) {
    plotFile = path.resolve(o.plot);
    writeFileSync(plotFile, svgChart(report));
  }
  const json: TuneJson = { schema: 'indexctl.tune/1', ...report, ...(plotFile ? { plot: plotFile } : {}) };
  return {
    json,
    render: (out) => render(report, out, plotFile, o.write),
    // Not meeting the target is a requirement the index fails, like verify's recall check.
    exitCode: report.met ? ExitCode.ok : ExitCode.invariant,
  };
}

const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));
const qps = (x: number) => Math.round(x).toLocaleString('en-US');
const label = (p: TunePoint) => p.params || '(no knobs)';

function describe(p: TunePoint, k: number): string {
  return (
    `${label(p)}: recall@${k} ${p.recall!.toFixed(4)}, p50 ${ms(p.latency_ms!.p50)} ms, ` +
    `p99 ${ms(p.latency_ms!.p99)} ms, ${qps(p.qps!)} QPS`
  );
}

function listed(names: string[], max = 12): string {
  return names.length > max
    ? `${names.slice(0, max).join('; ')}; ... ${names.length - max} more`
    : names.join('; ');
}

function render(r: TuneReport, out: OutputStream, plotFile: string | undefined, write: boolean): string {
  // The chart is for a person at a terminal; a pipe gets the table only.
  const chart = out.isTTY ? asciiChart(r) : '';
  const q = r.queries;
  const source =
    q.source === 'file'
      ? `${q.nq} queries from ${q.file}`
      : `${q.nq} stored vectors sampled (seed ${q.seed}), each query's own id excluded`;
  const s = r.seconds;
  const lines = [
    `tune ${r.version}: ${r.factory} (${r.family}), ${r.metric}, ${r.vectors.toLocaleString('en-US')} x ${r.dim}`,
    `  queries   ${source}; k=${r.k}; target recall ${r.target_recall}`,
    `  measured  ${r.threads} threads for QPS, 1 thread per query for latency, best of ${r.runs} runs; FAISS ${r.faiss.version} ${r.faiss.simd}`,
    `  time      ground truth ${(s.truth_read + s.truth_search).toFixed(1)} s (read+add ${s.truth_read.toFixed(1)}, exact search ${s.truth_search.toFixed(1)}), ` +
      `sweep ${s.sweep.toFixed(1)} s of ${r.max_seconds} s budget`,
    '',
  ];
  // By recall, so the trade-off reads top to bottom; the sweep order is in --json.
  const measured = r.points
    .filter((p) => p.status === 'measured')
    .sort((a, b) => a.recall! - b.recall! || b.qps! - a.qps!);
  const table = renderTable(
    ['setting', `recall@${r.k}`, 'p50 ms', 'p95 ms', 'p99 ms', 'QPS', ''],
    measured.map((p) => [
      label(p),
      p.recall!.toFixed(4),
      ms(p.latency_ms!.p50),
      ms(p.latency_ms!.p95),
      ms(p.latency_ms!.p99),
      qps(p.qps!),
      `${p.pareto ? '*' : ''}${p.chosen ? ' <- chosen' : ''}`,
    ]),
    out,
    { align: ['left', 'right', 'right', 'right', 'right', 'right', 'left'] },
  );
  lines.push(table, '  * Pareto frontier (no other setting has both higher recall and higher QPS)');
  if (chart) lines.push('', chart);
  if (r.cut.length > 0) lines.push(`  cut by the --max-seconds ${r.max_seconds} budget: ${listed(r.cut)}`);
  if (r.pruned.length > 0) lines.push(`  skipped (cannot join the frontier): ${listed(r.pruned)}`);
  lines.push('');
  if (r.chosen) {
    lines.push(`chosen: ${describe(r.chosen, r.k)}`);
    if (r.written) lines.push(`wrote the tuning to ${path.join(r.dir, 'manifest.json')}`);
  } else {
    const best = r.best ? `; best is ${describe(r.best, r.k)}` : '';
    lines.push(
      `no setting reaches recall@${r.k} >= ${r.target_recall}${best}. ` +
        `Widen the sweep (--params, --max-seconds) or lower --target-recall${r.cut.length > 0 ? ` (${r.cut.length} settings were cut)` : ''}.`,
    );
    if (write) lines.push('nothing written: no setting met the target');
  }
  if (plotFile) lines.push(`plot: ${plotFile}`);
  return lines.join('\n');
}
