/**
 * The output layer: one table style (boxed on a terminal, plain aligned text in a pipe), colour only
 * where the stream allows it, progress that degrades on tiny or absent terminals and reports honest
 * rates. Commands are run in process through main(argv, io) with memory streams, so the same
 * result is seen as a terminal and as a pipe would see it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';

import { main } from '../src/cli.js';
import { paint } from '../src/reporters/colour.js';
import { ProgressText, progressShown } from '../src/reporters/progress.js';
import { renderTable } from '../src/reporters/table.js';
import { memoryStream, processIo, type CliIo } from '../src/reporters/terminal.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions } from './helpers/versions.js';

const BOX = /[┌┐└┘│─┼├┤┬┴]/;

function io(stdout: Parameters<typeof memoryStream>[0]): CliIo & { out: () => string; err: () => string } {
  const out = memoryStream(stdout);
  const err = memoryStream();
  return { stdout: out, stderr: err, out: () => out.text, err: () => err.text };
}

describe('tables', () => {
  const head = ['name', 'n'];
  const rows = [
    ['alpha', 1],
    ['b', 12345],
  ];

  it('are plain, aligned and free of box-drawing characters in a pipe', () => {
    const text = renderTable(head, rows, { isTTY: false, columns: 0 }, { align: ['left', 'right'] });
    assert.doesNotMatch(text, BOX);
    assert.deepEqual(text.split('\n'), ['name       n', 'alpha      1', 'b      12345']);
  });

  it('are boxed on a terminal, and the flex column wraps to fit a narrow one', () => {
    const boxed = renderTable(head, rows, { isTTY: true, columns: 80 });
    assert.match(boxed, BOX);
    const long = [['check', 'x'.repeat(200)]];
    const fitted = renderTable(['a', 'detail'], long, { isTTY: true, columns: 60 }, { flex: 1 });
    for (const line of fitted.split('\n')) assert.ok(line.length <= 60, `${line.length}: ${line}`);
  });
});

describe('terminal facts are decided once, at the edge', () => {
  it('NO_COLOR and TERM=dumb turn colour off', () => {
    assert.equal(processIo({ NO_COLOR: '1' }).stdout.colour, false);
    assert.equal(processIo({ TERM: 'dumb' }).stderr.colour, false);
    assert.equal(paint('FAIL', 'red', { colour: false }), 'FAIL');
    assert.equal(paint('FAIL', 'red', { colour: true }), '\u001b[31mFAIL\u001b[39m');
  });
});

describe('progress', () => {
  const tty = (columns: number) => memoryStream({ isTTY: true, columns, colour: false });

  it('is shown on a terminal of a usable width, without colour too, and never with --json or --quiet', () => {
    assert.equal(progressShown(tty(80), { json: false, quiet: false }), true);
    assert.equal(progressShown(tty(0), { json: false, quiet: false }), false);
    assert.equal(progressShown(tty(1), { json: false, quiet: false }), false);
    assert.equal(progressShown(memoryStream(), { json: false, quiet: false }), false);
    assert.equal(progressShown(tty(80), { json: true, quiet: false }), false);
    assert.equal(progressShown(tty(80), { json: false, quiet: true }), false);
  });

  it('gives a percentage at once and a rate and ETA only after a warm-up, measured after it', () => {
    const p = new ProgressText();
    // The first update arrives with 1% already done 1 ms in: the old line reported a rate of millions/s.
    assert.equal(
      p.format('add', 10_000, 1_000_000, 'vectors', 1),
      'add 1%: 10,000 vectors of 1,000,000 vectors',
    );
    assert.doesNotMatch(p.format('add', 30_000, 1_000_000, 'vectors', 2_001), /\/s|ETA/);
    // 100,000 vectors in the 2 s after the warm-up: 50,000/s, 870,000 left -> 18 s.
    assert.equal(
      p.format('add', 130_000, 1_000_000, 'vectors', 4_001),
      'add 13%: 130,000 vectors of 1,000,000 vectors, 50,000 vectors/s, ETA 18 s',
    );
    // A new phase starts its own measurement.
    assert.equal(p.format('write', 1, 4, 'files', 4_002), 'write 25%: 1 files of 4 files');
  });

  it('shows bytes as bytes', () => {
    const p = new ProgressText();
    assert.match(
      p.format('checksum', 512 * 1024 ** 2, 3 * 1024 ** 3, 'bytes', 5_000),
      /^checksum 17%: 512\.0 MiB of 3\.0 GiB$/,
    );
  });
});

describe('commands through main(argv, io)', () => {
  it('search, status and verify print plain text to a pipe and boxed tables to a terminal', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'root');
    await buildVersions(root, [{ name: 'v1' }]);
    for (const argv of [
      ['--root', root, 'search', 'v1', '--id', '3007', '--k', '3'],
      ['--root', root, 'status'],
      // verify imports the table module only for a terminal.
      ['--root', root, 'verify', 'v1', '--level', '1'],
    ]) {
      const pipe = io({ isTTY: false });
      assert.equal(await main(argv, pipe), 0, pipe.err());
      assert.doesNotMatch(pipe.out(), BOX, argv.join(' '));
      const term = io({ isTTY: true, columns: 120 });
      assert.equal(await main(argv, term), 0, term.err());
      assert.match(term.out(), BOX, argv.join(' '));
    }
  });

  it('--json prints one document whatever the stream is', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'root');
    await buildVersions(root, [{ name: 'v1' }]);
    const term = io({ isTTY: true, columns: 120 });
    assert.equal(await main(['--root', root, 'verify', 'v1', '--json'], term), 0, term.err());
    assert.equal((JSON.parse(term.out()) as { schema: string }).schema, 'indexctl.verify/1');
  });
});
