/**
 * The one table style. On a terminal: boxed (cli-table3, compact), fitted to the terminal's width by
 * wrapping the `flex` column. Anywhere else (a pipe, a file, a log): plain columns aligned with
 * spaces, no box-drawing characters, one line per row, so `grep` and `awk` see whole rows.
 * No colour inside tables except what the caller painted for a terminal.
 */
import Table from 'cli-table3';

import type { OutputStream } from './terminal.js';

const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

export interface TableOptions {
  /** Per column; default left. */
  align?: readonly ('left' | 'right')[];
  /** The column that wraps when a terminal is narrower than the table (verify's detail). */
  flex?: number;
}

type Cell = string | number;

// eslint-disable-next-line no-control-regex -- ANSI colour codes do not take up columns
const visible = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;

/** Column widths for a boxed table whose `flex` column shrinks (and wraps) to fit `columns`. */
function fittedWidths(
  head: readonly string[],
  rows: readonly Cell[][],
  flex: number,
  columns: number,
): number[] {
  const widths = head.map(
    (h, i) =>
      Math.max(
        visible(h),
        ...rows.map((r) =>
          Math.max(
            ...String(r[i] ?? '')
              .split('\n')
              .map(visible),
          ),
        ),
      ) + 2,
  );
  const total = widths.reduce((a, b) => a + b, 0) + widths.length + 1;
  if (total > columns) widths[flex] = Math.max(12, widths[flex]! - (total - columns));
  return widths;
}

export function renderTable(
  head: readonly string[],
  rows: readonly Cell[][],
  out: Pick<OutputStream, 'isTTY' | 'columns'>,
  options: TableOptions = {},
): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const colAligns = options.align ? [...options.align] : undefined;
  if (out.isTTY) {
    const fit = options.flex !== undefined && out.columns > 0;
    const table = new Table({
      head: [...head],
      style: { head: [], border: [], compact: true },
      ...(colAligns ? { colAligns } : {}),
      ...(fit ? { colWidths: fittedWidths(head, cells, options.flex!, out.columns), wordWrap: true } : {}),
    });
    table.push(...cells);
    return table.toString();
  }
  const table = new Table({
    head: [...head],
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 0 },
    chars: PLAIN,
    ...(colAligns ? { colAligns } : {}),
  });
  table.push(...cells);
  // Plain mode leaves the spaces of empty border cells at line ends.
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
