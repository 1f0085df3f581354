/**
 * Issue 12 item 7 and the CURRENT part of item 8: one bad manifest, or a CURRENT that is not a
 * symlink, is reported with its path and exit 4 where it matters, and never breaks the listing of
 * the rest of the root.
 */
import assert from 'node:assert/strict';
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { gc } from '../src/core/lifecycle/gc.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { status } from '../src/core/lifecycle/status.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, currentTarget, logLines } from './helpers/versions.js';

const dir = tmpDir();
const template = path.join(dir, 'template');
await buildVersions(template, [{ name: 'b1' }, { name: 'b2' }, { name: 'b3' }]);
await publish({ root: template, version: 'b1' });

let roots = 0;
function freshRoot(): string {
  const root = path.join(dir, `root${++roots}`);
  cpSync(template, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

/** What a writer with a unit mistake leaves: created_ts in microseconds, the rest intact. */
function microsecondsCreatedTs(root: string, version: string): void {
  const file = path.join(root, 'versions', version, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { created_ts: number };
  m.created_ts = Math.round(m.created_ts * 1e6);
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
}

const MICROS = /b2\/manifest\.json: created_ts: expected seconds since the epoch .*looks like microseconds/;

describe('a manifest with created_ts in microseconds', () => {
  it('fails verify (and so publish) with exit 4 naming created_ts', () => {
    const root = freshRoot();
    microsecondsCreatedTs(root, 'b2');
    const v = runCli(['--root', root, 'verify', 'b2', '--level', '1']);
    assert.equal(v.code, 4, v.stdout + v.stderr);
    assert.match(v.stdout, /FAIL\s+manifest\.schema.*created_ts: expected seconds/);
    const p = runCli(['--root', root, 'publish', 'b2']);
    assert.equal(p.code, 4, p.stderr);
    assert.equal(currentTarget(root), 'versions/b1');
  });

  it('status and list show it as bad, with the reason, and exit 0', async () => {
    const root = freshRoot();
    microsecondsCreatedTs(root, 'b2');
    const s = await status(root);
    assert.deepEqual(
      s.versions.map((v) => [v.version, v.state, v.current]),
      [
        ['b1', 'ok', true],
        ['b2', 'bad', false],
        ['b3', 'ok', false],
      ],
    );
    assert.match(s.versions[1]!.problem ?? '', MICROS);
    assert.ok(!Number.isNaN(Date.parse(s.versions[1]!.created)), 'dated by its directory');
    for (const command of ['status', 'list']) {
      const res = runCli(['--root', root, command]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^b2\s+BAD\s/m);
      assert.match(res.stdout, /^b3\s/m, 'the other versions are still listed');
      assert.match(res.stdout, new RegExp(`problem: b2: .*${MICROS.source}`));
    }
    const json = runCli(['--root', root, 'status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { versions: { version: string; state: string }[] };
    assert.deepEqual(
      doc.versions.map((v) => v.state),
      ['ok', 'bad', 'ok'],
    );
  });

  it('gc lists it as bad and keeps it; only --older-than can remove it, by its directory age', async () => {
    const root = freshRoot();
    microsecondsCreatedTs(root, 'b2');
    const res = runCli(['--root', root, 'gc', '--keep', '0']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^b2\s+keep\s+bad\s/m);
    assert.match(res.stdout, /^bad version b2: .*looks like microseconds.*; kept \(bad\)$/m);
    assert.match(res.stdout, /^b3\s+would remove/m);
    const yes = runCli(['--root', root, 'gc', '--keep', '0', '--yes']);
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), ['b1', 'b2']);
    // A bad version does not take one of the --keep newest places from a good one.
    const keep1 = await gc({ root: freshRoot(), keep: 1 });
    assert.deepEqual(
      keep1.versions.map((v) => [v.version, v.keptBecause]),
      [
        ['b3', ['newest']],
        ['b2', []],
        ['b1', ['current']],
      ],
      'no bad version in a fresh copy: b3 is the newest',
    );
    const root2 = freshRoot();
    microsecondsCreatedTs(root2, 'b3');
    const r = await gc({ root: root2, keep: 1 });
    assert.deepEqual(
      r.versions.map((v) => [v.version, v.state, v.keptBecause, v.action]),
      [
        ['b3', 'bad', ['bad'], 'keep'],
        ['b2', 'ok', ['newest'], 'keep'],
        ['b1', 'ok', ['current'], 'keep'],
      ],
    );
    const later = await gc({ root: root2, keep: 1, olderThanMs: 1000, now: Date.now() + 60_000 });
    assert.deepEqual(later.removed, ['b3']);
    const text = runCli(['--root', root2, 'gc', '--keep', '1', '--older-than', '0s']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^bad version b3: .*; would be removed: older than --older-than/m);
  });

  it('diff of the bad version exits 4 naming it; diff of two good ones still works', () => {
    const root = freshRoot();
    microsecondsCreatedTs(root, 'b2');
    const res = runCli(['--root', root, 'diff', 'b1', 'b2']);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, new RegExp(`^indexctl: version b2 is bad, cannot diff it: .*${MICROS.source}`));
    const json = runCli(['--root', root, 'diff', 'b2', 'b1', '--json']);
    assert.equal(json.code, 4);
    assert.equal((JSON.parse(json.stdout) as { exitCode: number }).exitCode, 4);
    const ok = runCli(['--root', root, 'diff', 'b1', 'b3']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('CURRENT that is not a symlink: exit 4 naming CURRENT and what it is', () => {
  const cases: [string, (link: string) => void, RegExp][] = [
    [
      'a regular file',
      (link) => writeFileSync(link, 'versions/b1\n'),
      /CURRENT is a regular file \(12 bytes\), not a symlink/,
    ],
    ['a directory', (link) => mkdirSync(link), /CURRENT is a directory, not a symlink/],
  ];
  for (const [label, make, expected] of cases) {
    it(`${label}: publish, publish --dry-run, rollback and status`, () => {
      const root = freshRoot();
      const link = path.join(root, 'CURRENT');
      rmSync(link);
      make(link);
      const log = logLines(root);
      for (const args of [
        ['publish', 'b2'],
        ['publish', 'b2', '--dry-run'],
        ['rollback', '--to', 'b2'],
      ]) {
        const res = runCli(['--root', root, ...args]);
        assert.equal(res.code, 4, `${args.join(' ')}: ${res.stderr}`);
        assert.match(res.stderr, new RegExp(`^indexctl: ${link}`), args.join(' '));
        assert.match(res.stderr, expected, args.join(' '));
      }
      // status reports it after the full listing, with the repair (move it aside, then publish).
      const st0 = runCli(['--root', root, 'status']);
      assert.equal(st0.code, 4, st0.stderr);
      assert.match(st0.stdout, /CURRENT {3}BROKEN: /);
      assert.match(st0.stdout, expected);
      assert.match(
        st0.stdout,
        new RegExp(`repair {4}mv ${link} ${link}\\.bad && indexctl --root ${root} publish b`),
      );
      for (const v of ['b1', 'b2', 'b3']) assert.match(st0.stdout, new RegExp(`^${v} `, 'm'));
      assert.deepEqual(logLines(root), log, 'nothing was logged');
      const st = lstatSync(link);
      assert.deepEqual(
        [st.isFile(), st.isDirectory()],
        [label === 'a regular file', label === 'a directory'],
      );
      assert.ok(!st.isSymbolicLink(), 'CURRENT was left as it was');
    });
  }
});
