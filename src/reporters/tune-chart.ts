/**
 * Recall-vs-QPS charts of a tune report, as ann-benchmarks draws them (recall across, QPS up on a
 * log scale): a small ASCII scatter for the terminal and a self-contained SVG. Both are strings;
 * writing them is the caller's business. `@` is the chosen setting, `*` the Pareto frontier, `o`
 * the other measured settings, `|` the target recall.
 */
import type { TunePoint, TuneReport } from '../core/tune/tune.js';

interface Plotted {
  recall: number;
  qps: number;
  mark: '@' | '*' | 'o';
  label: string;
}

function plotted(report: TuneReport): Plotted[] {
  return report.points
    .filter((p): p is TunePoint & { recall: number; qps: number } => p.status === 'measured')
    .map((p) => ({
      recall: p.recall,
      qps: p.qps,
      mark: p.chosen ? '@' : p.pareto ? '*' : 'o',
      label: p.params || '(no knobs)',
    }));
}

interface Axes {
  x0: number;
  x1: number;
  /** log10 QPS bounds. */
  y0: number;
  y1: number;
}

function axes(points: Plotted[], target: number): Axes {
  const recalls = points.map((p) => p.recall).concat(target);
  const x0 = Math.max(0, Math.floor(Math.min(...recalls) * 10) / 10);
  const logs = points.map((p) => Math.log10(p.qps));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  const pad = Math.max(0.15, (hi - lo) * 0.08);
  const y0 = lo - pad;
  const y1 = hi + pad;
  return { x0: x0 >= 1 ? 0.9 : x0, x1: 1, y0, y1 };
}

function qpsLabel(log: number): string {
  const v = 10 ** log;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(2)}M`;
  if (v >= 1000) return `${+(v / 1000).toPrecision(2)}k`;
  return v >= 1 ? String(+v.toPrecision(2)) : v.toPrecision(1);
}

export function asciiChart(report: TuneReport, width = 60, height = 14): string {
  const points = plotted(report);
  if (points.length === 0) return '';
  const a = axes(points, report.target_recall);
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  const col = (recall: number) => Math.round(((recall - a.x0) / (a.x1 - a.x0)) * (width - 1));
  const row = (qps: number) =>
    height - 1 - Math.round(((Math.log10(qps) - a.y0) / (a.y1 - a.y0)) * (height - 1));
  const tc = col(report.target_recall);
  if (tc >= 0 && tc < width) for (const line of grid) line[tc] = '|';
  const rank = { o: 0, '*': 1, '@': 2 } as const;
  for (const p of points) {
    const r = row(p.qps);
    const c = col(p.recall);
    const cur = grid[r]![c]!;
    if (!(cur in rank) || rank[cur as keyof typeof rank] < rank[p.mark]) grid[r]![c] = p.mark;
  }
  const labelWidth = 6;
  const lines = grid.map((line, i) => {
    const log = a.y1 - (i / (height - 1)) * (a.y1 - a.y0);
    const label = i === 0 || i === height - 1 || i === Math.floor(height / 2) ? qpsLabel(log) : '';
    return `${label.padStart(labelWidth)} ┤${line.join('')}`;
  });
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(width)}`);
  const left = a.x0.toFixed(2);
  const right = a.x1.toFixed(2);
  lines.push(
    `${' '.repeat(labelWidth + 2)}${left}${`recall@${report.k}`.padStart(Math.floor(width / 2) - left.length + 4)}${right.padStart(width - Math.floor(width / 2) - 4)}`,
  );
  lines.unshift(
    `QPS (log) vs recall@${report.k}   @ chosen  * Pareto frontier  o other  | target ${report.target_recall}`,
  );
  return lines.join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function svgChart(report: TuneReport): string {
  const points = plotted(report);
  const W = 720;
  const H = 460;
  const m = { left: 70, right: 30, top: 50, bottom: 55 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const a = points.length > 0 ? axes(points, report.target_recall) : { x0: 0, x1: 1, y0: 0, y1: 1 };
  const x = (recall: number) => m.left + ((recall - a.x0) / (a.x1 - a.x0)) * pw;
  const y = (qps: number) => m.top + ph - ((Math.log10(qps) - a.y0) / (a.y1 - a.y0)) * ph;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(
      `${report.version}: ${report.factory}, ${report.metric}, ${report.vectors.toLocaleString('en-US')} vectors, ` +
        `nq=${report.queries.nq}, ${report.threads} threads`,
    )}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const r = a.x0 + ((a.x1 - a.x0) * i) / 5;
    out.push(
      `<line x1="${f(x(r))}" y1="${m.top + ph}" x2="${f(x(r))}" y2="${m.top + ph + 5}" stroke="#888"/>`,
      `<text x="${f(x(r))}" y="${m.top + ph + 18}" text-anchor="middle">${r.toFixed(2)}</text>`,
    );
  }
  for (let e = Math.floor(a.y0); e <= Math.ceil(a.y1); e++) {
    for (const mult of [1, 2, 5]) {
      const log = e + Math.log10(mult);
      if (log < a.y0 || log > a.y1) continue;
      const yy = f(y(10 ** log));
      out.push(
        `<line x1="${m.left}" y1="${yy}" x2="${m.left + pw}" y2="${yy}" stroke="#eee"/>`,
        `<text x="${m.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${qpsLabel(log)}</text>`,
      );
    }
  }
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">recall@${report.k}</text>`,
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">queries per second (log)</text>`,
  );
  if (report.target_recall >= a.x0) {
    const tx = f(x(report.target_recall));
    out.push(
      `<line x1="${tx}" y1="${m.top}" x2="${tx}" y2="${m.top + ph}" stroke="#c33" stroke-dasharray="4 3"/>`,
      `<text x="${tx}" y="${m.top - 6}" text-anchor="middle" fill="#c33">target ${report.target_recall}</text>`,
    );
  }
  const frontier = points.filter((p) => p.mark !== 'o').sort((p, q) => p.recall - q.recall);
  if (frontier.length > 1) {
    const path = frontier.map((p) => `${f(x(p.recall))},${f(y(p.qps))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="#36c" stroke-width="1.5"/>`);
  }
  for (const p of points) {
    const [fill, r] = p.mark === '@' ? ['#c33', 6] : p.mark === '*' ? ['#36c', 4] : ['#aaa', 3];
    out.push(
      `<circle cx="${f(x(p.recall))}" cy="${f(y(p.qps))}" r="${r}" fill="${fill}"><title>${esc(
        `${p.label}: recall ${p.recall.toFixed(4)}, ${Math.round(p.qps)} QPS`,
      )}</title></circle>`,
    );
    if (p.mark !== 'o') {
      out.push(
        `<text x="${f(x(p.recall) + 7)}" y="${f(y(p.qps) - 7)}" font-size="10">${esc(p.label)}</text>`,
      );
    }
  }
  out.push('</svg>', '');
  return out.join('\n');
}
