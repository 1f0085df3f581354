/**
 * Tables for text output (cli-table3): boxed on a terminal, plain aligned columns otherwise, so a
 * log or `grep` sees one line per row. No colour: tables go to stdout, which may be a pipe.
 */
import Table from 'cli-table3';

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

export function renderTable(head: string[], rows: (string | number)[][]): string {
  const boxed = process.stdout.isTTY === true;
  const table = new Table({
    head,
    style: {
      head: [],
      border: [],
      compact: true,
      'padding-left': boxed ? 1 : 0,
      'padding-right': boxed ? 1 : 0,
    },
    ...(boxed ? {} : { chars: PLAIN }),
  });
  table.push(...rows.map((r) => r.map((c) => String(c))));
  // Plain mode leaves the spaces of empty border cells at line ends.
  return boxed
    ? table.toString()
    : table
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n');
}
