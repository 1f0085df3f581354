import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { InvariantViolationError, NotFoundError, UsageError } from '../src/core/errors.js';
import { diff } from '../src/core/lifecycle/diff.js';
import { formatAge, parseDuration } from '../src/core/util/units.js';
import { gc } from '../src/core/lifecycle/gc.js';
import { pin, readPins, unpin } from '../src/core/lifecycle/pins.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { status } from '../src/core/lifecycle/status.js';
import { verify } from '../src/core/verify/verify.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, snapshot } from './helpers/versions.js';

const dir = tmpDir();
const DAY = 86_400_000;
/**
 * a1..a5, built in this order (so a5 is the newest). a1 has ids 0..199, a2 ids 50..259 (i*1000+7):
 * 60 added and 50 removed.
 */
const template = path.join(dir, 'template');
await buildVersions(template, [
  { name: 'a1' },
  { name: 'a2', rows: 260, where: 'i >= 50' },
  { name: 'a3' },
  { name: 'a4' },
  { name: 'a5' },
]);

let roots = 0;
function freshRoot(): string {
  const root = path.join(dir, `root${++roots}`);
  cpSync(template, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

/** A pid that no longer runs: a child that has exited. */
function deadPid(): number {
  const res = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(res.stdout);
}

describe('status / list', () => {
  it('lists versions with size, vectors, factory, created, pins, CURRENT and the rollback target', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a1' });
    await publish({ root, version: 'a2', reason: 'nightly' });
    await pin({ root, version: 'a4' });
    const s = await status(root);
    assert.equal(s.current, 'a2');
    assert.equal(s.rollbackTarget, 'a1');
    assert.deepEqual(s.pins, ['a4']);
    assert.deepEqual(
      s.versions.map((v) => [v.version, v.current, v.rollbackTarget, v.pinned, v.vectors]),
      [
        ['a1', false, true, false, 200],
        ['a2', true, false, false, 210],
        ['a3', false, false, false, 200],
        ['a4', false, false, true, 200],
        ['a5', false, false, false, 200],
      ],
    );
    const a2 = s.versions[1]!;
    assert.equal(a2.factory, 'IDMap2,Flat');
    assert.equal(a2.family, 'flat');
    assert.equal(a2.dim, 8);
    assert.equal(a2.metric, 'l2');
    assert.ok(a2.bytes > 0);
    assert.ok(!Number.isNaN(Date.parse(a2.created)));
    assert.equal(s.lastPublish?.reason, 'nightly');
    assert.deepEqual(s.problems, []);
    assert.equal(s.lock, null);

    const cli = runCli(['--root', root, 'status', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const json = JSON.parse(cli.stdout) as {
      schema: string;
      current: string;
      faiss: { version: string; simd: string } | null;
      versions: unknown[];
    };
    assert.equal(json.schema, 'indexctl.status/1');
    assert.equal(json.current, 'a2');
    assert.equal(json.versions.length, 5);
    assert.match(json.faiss?.version ?? '', /^1\.\d+\.\d+/);
    assert.ok(json.faiss?.simd);
    const text = runCli(['--root', root, 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /CURRENT\s+a2/);
    assert.match(text.stdout, /^a2\s+CURRENT\s+210\s+8\s+IDMap2,Flat\s+l2\s+untuned/m);
    assert.match(text.stdout, /^a1\s+rollback\s/m);
    assert.match(text.stdout, /^a4\s+pinned\s/m);
  });

  it('lists a version with an unreadable manifest with its problem instead of failing', async () => {
    const root = freshRoot();
    writeFileSync(path.join(root, 'versions/a3/manifest.json'), '{ not json');
    mkdirSync(path.join(root, 'versions/half'));
    const s = await status(root);
    const a3 = s.versions.find((v) => v.version === 'a3')!;
    assert.equal(a3.vectors, null);
    assert.match(a3.problem ?? '', /a3\/manifest\.json: not valid JSON/);
    assert.match(s.versions.find((v) => v.version === 'half')!.problem ?? '', /missing/);
    const cli = runCli(['--root', root, 'status']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /problem: a3: .*not valid JSON/);
  });

  it('an empty root has no versions; a missing root is exit 6; a dangling CURRENT is a problem', async () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const s = await status(empty);
    assert.deepEqual([s.current, s.versions.length], [null, 0]);
    assert.match(runCli(['--root', empty, 'status']).stdout, /nothing published/);
    assert.equal(runCli(['--root', path.join(dir, 'nope'), 'status']).code, 6);
    await assert.rejects(status(path.join(dir, 'nope')), NotFoundError);
    const root = freshRoot();
    symlinkSync('versions/gone', path.join(root, 'CURRENT'));
    assert.match(
      (await status(root)).problems.join('\n'),
      /CURRENT points to "versions\/gone", but version gone has no directory in versions\//,
    );
  });
});

describe('diff', () => {
  it('reports the chunk ids added and removed, counts, and which files differ', async () => {
    const root = freshRoot();
    const d = await diff({ root, a: 'a1', b: 'a2', limit: 3 });
    assert.deepEqual([d.ids.a, d.ids.b, d.ids.common, d.ids.added, d.ids.removed], [200, 210, 150, 60, 50]);
    assert.deepEqual(d.ids.addedIds, ['200007', '201007', '202007']);
    assert.deepEqual(d.ids.removedIds, ['7', '1007', '2007']);
    assert.deepEqual(
      d.fields.filter((f) => !f.same).map((f) => [f.field, f.a, f.b]),
      [['vectors', '200', '210']],
    );
    assert.equal(d.sameData, false);
    assert.equal(d.files.find((f) => f.file === 'faiss.index')?.same, false);

    const same = await diff({ root, a: 'a1', b: 'a3' });
    assert.deepEqual([same.ids.added, same.ids.removed], [0, 0]);
    assert.equal(same.sameData, true, 'the same chunks give the same index bytes');

    const cli = runCli(['--root', root, 'diff', 'a1', 'a2', '--limit', '2']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /added {3}60: 200007, 201007, \.\.\./);
    assert.match(cli.stdout, /removed 50: 7, 1007, \.\.\./);
    assert.match(cli.stdout, /^vectors\s+200\s+210\s+differs$/m);
    const json = JSON.parse(runCli(['--root', root, 'diff', 'a2', 'a1', '--json']).stdout) as {
      schema: string;
      ids: { added: number; removed: number };
    };
    assert.equal(json.schema, 'indexctl.diff/1');
    assert.deepEqual([json.ids.added, json.ids.removed], [50, 60]);
  });

  it('a missing version is exit 6; a missing idmap or bad manifest is exit 4', async () => {
    const root = freshRoot();
    assert.equal(runCli(['--root', root, 'diff', 'a1', 'zz']).code, 6);
    const broken = freshRoot();
    writeFileSync(path.join(broken, 'versions/a2/manifest.json'), '[]');
    assert.equal(runCli(['--root', broken, 'diff', 'a1', 'a2']).code, 4);
    const noIdmap = freshRoot();
    writeFileSync(path.join(noIdmap, 'versions/a2/idmap.parquet'), 'not parquet');
    const res = runCli(['--root', noIdmap, 'diff', 'a1', 'a2']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, /a2\/idmap\.parquet/);
    await assert.rejects(diff({ root, a: 'a1', b: 'a2', limit: -1 }), UsageError);
  });
});

describe('pin / unpin', () => {
  it('writes one version per line, is idempotent, and refuses a missing version (exit 6)', async () => {
    const root = freshRoot();
    const first = await pin({ root, version: 'a2' });
    assert.deepEqual([first.changed, first.pins], [true, ['a2']]);
    assert.equal((await pin({ root, version: 'a2' })).changed, false);
    const cli = runCli(['--root', root, 'pin', 'a1']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /a1 is now pinned; pins: a1, a2/);
    assert.equal(readFileSync(path.join(root, 'pins'), 'utf8'), 'a2\na1\n');
    assert.equal(runCli(['--root', root, 'pin', 'zz']).code, 6);
    await assert.rejects(pin({ root, version: 'zz' }), NotFoundError);
    const un = runCli(['--root', root, 'unpin', 'a2', '--json']);
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual(JSON.parse(un.stdout), {
      schema: 'indexctl.pin/1',
      version: 'a2',
      pinned: false,
      changed: true,
      pins: ['a1'],
    });
    assert.equal((await unpin({ root, version: 'a2' })).changed, false);
    assert.equal(readFileSync(path.join(root, 'pins'), 'utf8'), 'a1\n');
    assert.deepEqual(
      readdirSync(root).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  it('keeps lines it does not understand, and reports them', async () => {
    const root = freshRoot();
    writeFileSync(path.join(root, 'pins'), '# release builds\na3\nnot/a/version\n');
    await pin({ root, version: 'a4' });
    assert.equal(readFileSync(path.join(root, 'pins'), 'utf8'), '# release builds\na3\nnot/a/version\na4\n');
    const pins = await readPins(root);
    assert.deepEqual(pins.versions, ['a3', 'a4']);
    assert.match(pins.problems[0]!, /line 3: "not\/a\/version" is not a version name/);
  });
});

describe('gc', () => {
  it('lists by default and removes only with --yes; never CURRENT, the rollback target or a pin', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a1' });
    await publish({ root, version: 'a2' });
    await pin({ root, version: 'a3' });
    const before = snapshot(root);
    const listed = await gc({ root, keep: 0 });
    assert.equal(listed.dryRun, true);
    assert.deepEqual(listed.removed, ['a5', 'a4']);
    assert.deepEqual(Object.fromEntries(listed.versions.map((v) => [v.version, v.keptBecause])), {
      a5: [],
      a4: [],
      a3: ['pinned'],
      a2: ['current'],
      a1: ['rollback-target'],
    });
    const cli = runCli(['--root', root, 'gc', '--keep', '0']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^a5\s+would remove/m);
    assert.match(cli.stdout, /run again with --yes to remove/);
    assert.deepEqual(snapshot(root), before, 'listing writes nothing');

    const yes = runCli(['--root', root, 'gc', '--keep', '0', '--yes', '--json']);
    assert.equal(yes.code, 0, yes.stderr);
    const report = JSON.parse(yes.stdout) as {
      schema: string;
      removed: string[];
      bytes: number;
      dryRun: boolean;
    };
    assert.equal(report.schema, 'indexctl.gc/1');
    assert.deepEqual([report.removed, report.dryRun], [['a5', 'a4'], false]);
    assert.ok(report.bytes > 0);
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), ['a1', 'a2', 'a3']);
    assert.deepEqual(readdirSync(path.join(root, 'staging')), []);
    assert.ok((await verify({ root, current: true, level: 2 })).ok, 'CURRENT still verifies');
  });

  it('--keep N keeps the N newest; --older-than keeps younger ones; both must allow removal', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a5' });
    const now = Date.now();
    const keep2 = await gc({ root, keep: 2, now });
    assert.deepEqual(keep2.removed, ['a3', 'a2', 'a1']);
    assert.deepEqual(keep2.versions.find((v) => v.version === 'a5')!.keptBecause, ['current', 'newest']);
    // Nothing is older than a day.
    assert.deepEqual((await gc({ root, keep: 0, olderThanMs: DAY, now })).removed, []);
    // Seen from 3 days later, everything is, and --keep still holds the newest.
    const later = await gc({ root, keep: 1, olderThanMs: DAY, now: now + 3 * DAY });
    assert.deepEqual(later.removed, ['a4', 'a3', 'a2', 'a1']);
    const cli = runCli(['--root', root, 'gc', '--older-than', '7d']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /nothing to remove/);
  });

  it('ages a version with an unreadable manifest by its directory time', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a5' });
    writeFileSync(path.join(root, 'versions/a1/manifest.json'), 'garbage');
    const old = new Date(Date.now() - 30 * DAY);
    utimesSync(path.join(root, 'versions/a1'), old, old);
    const r = await gc({ root, keep: 0, olderThanMs: 7 * DAY });
    assert.deepEqual(r.removed, ['a1']);
    assert.match(r.versions.find((v) => v.version === 'a1')!.problem ?? '', /not valid JSON/);
  });

  it('removes stale staging dirs and temp links of dead writers, not those of live ones', async () => {
    const root = freshRoot();
    const dead = deadPid();
    const stale = path.join(root, 'staging', `a9.${dead}.0badc0de`);
    const live = path.join(root, 'staging', `a8.${process.pid}.0123abcd`);
    const junk = path.join(root, 'staging', 'leftover');
    for (const d of [stale, live, junk]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(stale, 'faiss.index'), Buffer.alloc(4096));
    symlinkSync('versions/a1', path.join(root, `.CURRENT.${dead}.deadbeef.tmp`));
    writeFileSync(path.join(root, `.pins.${process.pid}.feedf00d.tmp`), 'a1\n');
    writeFileSync(path.join(root, `.lock.${dead}.0ddba11a.tmp`), '{"pid":');
    const listed = await gc({ root });
    assert.deepEqual(
      listed.leftovers.map((l) => [l.kind, l.name]),
      [
        ['staging', `a9.${dead}.0badc0de`],
        ['temp', `.CURRENT.${dead}.deadbeef.tmp`],
        ['temp', `.lock.${dead}.0ddba11a.tmp`],
      ],
    );
    assert.deepEqual(listed.removed, [
      'a2',
      'a1',
      `a9.${dead}.0badc0de`,
      `.CURRENT.${dead}.deadbeef.tmp`,
      `.lock.${dead}.0ddba11a.tmp`,
    ]);
    // A name indexctl does not make may be someone's: listed, never removed.
    assert.deepEqual(listed.unknown, [{ name: 'staging/leftover', path: junk, type: 'directory' }]);
    assert.ok(existsSync(stale));
    const res = runCli(['--root', root, 'gc', '--yes']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /removed stale staging dir a9\./);
    assert.match(res.stdout, /unknown: staging\/leftover \(directory\): skipped/);
    assert.deepEqual(readdirSync(path.join(root, 'staging')).sort(), [path.basename(live), 'leftover']);
    assert.ok(!existsSync(path.join(root, `.CURRENT.${dead}.deadbeef.tmp`)));
    assert.ok(!existsSync(path.join(root, `.lock.${dead}.0ddba11a.tmp`)));
    assert.ok(existsSync(path.join(root, `.pins.${process.pid}.feedf00d.tmp`)));
  });

  it('skips and reports files and symlinks in staging/ and versions/; deletes nothing outside the root', async () => {
    const root = freshRoot();
    const outside = path.join(dir, `outside${roots}`);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'sentinel'), 'another team');
    const dead = deadPid();
    writeFileSync(path.join(root, 'staging', 'notes.txt'), 'x');
    // Shaped like a stale staging dir of a dead builder, but a symlink out of the root.
    symlinkSync(outside, path.join(root, 'staging', `a7.${dead}.0badc0de`));
    writeFileSync(path.join(root, 'versions', 'README'), 'x');
    symlinkSync(outside, path.join(root, 'versions', 'a6'));
    const unknown = [
      ['versions/README', 'file'],
      ['versions/a6', 'symlink'],
      [`staging/a7.${dead}.0badc0de`, 'symlink'],
      ['staging/notes.txt', 'file'],
    ];
    const listed = await gc({ root, keep: 0 });
    assert.deepEqual(
      listed.unknown.map((u) => [u.name, u.type]),
      unknown,
    );
    assert.deepEqual(listed.leftovers, []);
    const res = runCli(['--root', root, 'gc', '--keep', '0', '--yes', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as { unknown: { name: string; type: string }[]; removed: string[] };
    assert.deepEqual(
      report.unknown.map((u) => [u.name, u.type]),
      unknown,
    );
    assert.deepEqual(report.removed, ['a5', 'a4', 'a3', 'a2', 'a1']);
    assert.deepEqual(readdirSync(outside), ['sentinel']);
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), ['README', 'a6']);
    assert.deepEqual(readdirSync(path.join(root, 'staging')).sort(), [`a7.${dead}.0badc0de`, 'notes.txt']);
    const text = runCli(['--root', root, 'gc']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /unknown: staging\/notes\.txt \(file\): skipped/);
  });

  it('build, publish and gc refuse a staging/ or versions/ that is a symlink (exit 4); nothing outside is deleted', async () => {
    for (const name of ['staging', 'versions']) {
      const root = freshRoot();
      const outside = path.join(dir, `outside${roots}`);
      cpSync(path.join(root, name), outside, { recursive: true });
      writeFileSync(path.join(outside, 'sentinel'), 'another team');
      writeFileSync(path.join(outside, 'junk'), 'looks like debris');
      rmSync(path.join(root, name), { recursive: true });
      symlinkSync(outside, path.join(root, name));
      const before = snapshot(outside);
      const chunks = path.join(dir, 'template-a1.parquet');
      for (const args of [
        ['build', '--chunks', chunks, '--factory', 'Flat', '--version', 'b1'],
        ['publish', 'a1'],
        ['gc'],
        ['gc', '--keep', '0', '--yes'],
        ['pin', 'a1'],
      ]) {
        const res = runCli(['--root', root, ...args]);
        assert.equal(res.code, 4, `${name}: ${args.join(' ')}: ${res.stderr}`);
        assert.match(res.stderr, new RegExp(`${name} is a symlink .*${name}/ must be a real directory`));
      }
      assert.deepEqual(snapshot(outside), before, `${name}: nothing outside the root changed`);
      assert.equal(existsSync(path.join(root, 'CURRENT')), false);
      const st = await status(root);
      assert.match(st.problems.join('\n'), new RegExp(`${name} is a symlink`));
    }
  });

  it('a torn last line of publish.log is ignored: status, rollback and gc --yes work; the next publish repairs it', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a1' });
    await publish({ root, version: 'a2' });
    const log = path.join(root, 'publish.log');
    const complete = readFileSync(log, 'utf8');
    appendFileSync(log, '{"ts":"2026-01-01T00:00:00Z","from":"a2","to":"a3","ho');
    const st = runCli(['--root', root, 'status', '--json']);
    assert.equal(st.code, 0, st.stderr);
    const report = JSON.parse(st.stdout) as {
      problems: string[];
      warnings: string[];
      rollbackTarget: string;
    };
    assert.deepEqual(report.problems, []);
    assert.match(report.warnings.join('\n'), /publish\.log line 3: no newline at the end: a torn last line/);
    assert.equal(report.rollbackTarget, 'a1');
    assert.match(runCli(['--root', root, 'status']).stdout, /warning: .*torn last line/);
    const r = await gc({ root, keep: 0, yes: true });
    assert.deepEqual(r.removed, ['a5', 'a4', 'a3']);
    assert.deepEqual(r.problems, []);
    assert.equal(r.warnings.length, 1);
    // The rollback's append removes the torn tail first, then logs a2 -> a1.
    const back = runCli(['--root', root, 'rollback']);
    assert.equal(back.code, 0, back.stderr);
    const text = readFileSync(log, 'utf8');
    assert.ok(text.startsWith(complete), 'complete lines kept');
    assert.deepEqual(
      text
        .slice(complete.length)
        .split('\n')
        .map((l) => (l === '' ? l : (JSON.parse(l) as { from: string; to: string }).to)),
      ['a1', ''],
    );
    // A complete last line that is not JSON (zeros a crash left) is torn too.
    appendFileSync(log, '\0\0\0\n');
    const again = await gc({ root, keep: 0 });
    assert.deepEqual([again.problems, again.warnings.length], [[], 1]);
    await publish({ root, version: 'a2' });
    const healed = await gc({ root, keep: 0 });
    assert.deepEqual([healed.problems, healed.warnings], [[], []]);
  });

  it('--yes removes nothing while publish.log has a bad line before its last (exit 3); listing still works', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a1' });
    await publish({ root, version: 'a2' });
    const log = path.join(root, 'publish.log');
    const [first, second] = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, `${first}\n{"ts": "torn wri\n${second}\n`);
    const before = snapshot(root);
    const listed = await gc({ root, keep: 0 });
    assert.match(listed.problems.join('\n'), /publish\.log line 2/);
    await assert.rejects(gc({ root, keep: 0, yes: true }), (err: unknown) => {
      assert.ok(err instanceof InvariantViolationError);
      assert.match(
        err.message,
        /removes nothing while publish\.log or pins has lines it cannot read.*line 2/,
      );
      return true;
    });
    const res = runCli(['--root', root, 'gc', '--keep', '0', '--yes']);
    assert.equal(res.code, 3, res.stderr);
    assert.deepEqual(snapshot(root), before);
  });

  it('keeps the version that was live before a flip the log never recorded (crash before the append)', async () => {
    const root = freshRoot();
    await publish({ root, version: 'a1' });
    await publish({ root, version: 'a2' });
    // CURRENT flipped to a3 and the process died before appending to publish.log.
    symlinkSync('versions/a3', path.join(root, 'CURRENT.tmp'));
    renameSync(path.join(root, 'CURRENT.tmp'), path.join(root, 'CURRENT'));
    const r = await gc({ root, keep: 0, yes: true });
    assert.deepEqual(Object.fromEntries(r.versions.map((v) => [v.version, v.keptBecause])), {
      a5: [],
      a4: [],
      a3: ['current'],
      a2: ['rollback-target'],
      a1: [],
    });
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), ['a2', 'a3']);
  });

  it('bad policy flags are usage errors (exit 2)', async () => {
    const root = freshRoot();
    for (const args of [
      ['--older-than', '7x'],
      ['--older-than', ''],
      ['--older-than', '-1d'],
      ['--keep', '-1'],
      ['--keep', 'two'],
    ]) {
      assert.equal(runCli(['--root', root, 'gc', ...args]).code, 2, args.join(' '));
    }
    await assert.rejects(gc({ root, keep: -1 }), UsageError);
    assert.equal(runCli(['--root', path.join(dir, 'nope'), 'gc']).code, 6);
  });
});

describe('durations', () => {
  it('parses s, m, h, d, w and refuses anything else', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('12h'), 43_200_000);
    assert.equal(parseDuration('7d'), 7 * DAY);
    assert.equal(parseDuration('2w'), 14 * DAY);
    assert.equal(parseDuration('0s'), 0);
    for (const bad of ['', '7', 'd', '1.5d', '-1d', '7 days', '1e3s'])
      assert.throws(() => parseDuration(bad), UsageError);
    assert.equal(formatAge(90_061_000), '1d 1h');
    assert.equal(formatAge(5_000), '5s');
  });
});
