import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  IndexCorruptionError,
  InvariantViolationError,
  NotFoundError,
  UsageError,
} from '../src/core/errors.js';
import { readCurrent } from '../src/core/layout.js';
import { CurrentMismatchError, publish, rollback } from '../src/core/lifecycle/publish.js';
import { readPublishLog, rollbackTarget } from '../src/core/lifecycle/publish-log.js';
import { acquireWriterLock } from '../src/core/lock.js';
import { writeChunks } from './helpers/chunks.js';
import { bin, buildCli, runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, corruptByte, currentTarget, logLines, snapshot } from './helpers/versions.js';

const dir = tmpDir();
/** v1, v2, v3 healthy; bad4 with a damaged faiss.index; bad3 whose manifest miscounts the vectors. */
const template = path.join(dir, 'template');
await buildVersions(template, [
  { name: 'v1' },
  { name: 'v2', rows: 250 },
  { name: 'v3', rows: 220 },
  { name: 'bad4' },
  { name: 'bad3' },
]);
corruptByte(path.join(template, 'versions/bad4/faiss.index'));
{
  const file = path.join(template, 'versions/bad3/manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { vectors_count: number };
  m.vectors_count += 1;
  writeFileSync(file, JSON.stringify(m, null, 2) + '\n');
}

let roots = 0;
/** A fresh copy of the template root (versions are immutable, so copies are independent). */
function freshRoot(): string {
  const root = path.join(dir, `root${++roots}`);
  cpSync(template, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

describe('publish', () => {
  it('flips CURRENT to a relative symlink, re-reads it and logs the flip', async () => {
    const root = freshRoot();
    const r = await publish({ root, version: 'v1', expectCurrent: null, reason: 'first' });
    assert.equal(r.outcome, 'published');
    assert.equal(r.from, null);
    assert.equal(r.verify.level, 3);
    assert.ok(r.verify.ok);
    assert.equal(currentTarget(root), 'versions/v1');
    const r2 = await publish({ root, version: 'v2', expectCurrent: 'v1' });
    assert.equal(r2.from, 'v1');
    const lines = logLines(root);
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(lines[0]!).sort(), [
      'action',
      'from',
      'host',
      'pid',
      'reason',
      'to',
      'ts',
      'user',
    ]);
    assert.deepEqual(
      lines.map((l) => [l.from, l.to, l.reason, l.action]),
      [
        [null, 'v1', 'first', 'publish'],
        ['v1', 'v2', null, 'publish'],
      ],
    );
    assert.equal(lines[1]!.host, os.hostname());
    assert.equal(typeof lines[1]!.pid, 'number');
    assert.ok(!Number.isNaN(Date.parse(String(lines[1]!.ts))));
    assert.deepEqual(r2.logEntry, lines[1]);
    assert.equal(readCurrent(root), 'v2');
  });

  it('refuses a version with a damaged file (exit 4) and one whose counts disagree (exit 3); CURRENT untouched', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const before = snapshot(root);
    await assert.rejects(publish({ root, version: 'bad4' }), (err: unknown) => {
      assert.ok(err instanceof IndexCorruptionError, String(err));
      assert.match(err.message, /refusing to publish bad4: verify level 3 failed/);
      assert.match(err.message, /files\.checksum/);
      assert.match(err.message, /faiss\.index/);
      return true;
    });
    await assert.rejects(publish({ root, version: 'bad3' }), (err: unknown) => {
      assert.ok(err instanceof InvariantViolationError, String(err));
      assert.match(err.message, /refusing to publish bad3/);
      return true;
    });
    assert.deepEqual(snapshot(root), before);
    const cli = runCli(['--root', root, 'publish', 'bad4']);
    assert.equal(cli.code, 4, cli.stderr);
    assert.match(cli.stderr, /files\.checksum/);
    assert.equal(runCli(['--root', root, 'publish', 'bad3']).code, 3);
    assert.equal(currentTarget(root), 'versions/v1');
    assert.equal(logLines(root).length, 1);
  });

  it('compare-and-swap: publishes only when CURRENT is the expected version (else exit 3)', async () => {
    const root = freshRoot();
    await assert.rejects(publish({ root, version: 'v1', expectCurrent: 'v2' }), CurrentMismatchError);
    assert.equal(currentTarget(root), undefined);
    await publish({ root, version: 'v1', expectCurrent: null });
    await assert.rejects(publish({ root, version: 'v2', expectCurrent: null }), (err: unknown) => {
      assert.ok(err instanceof CurrentMismatchError);
      assert.ok(err instanceof InvariantViolationError);
      assert.equal(err.expected, null);
      assert.equal(err.actual, 'v1');
      assert.match(err.message, /--expect-current none but CURRENT is v1/);
      return true;
    });
    const wrong = runCli(['--root', root, 'publish', 'v2', '--expect-current', 'v3']);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /--expect-current v3 but CURRENT is v1; someone else published/);
    assert.equal(runCli(['--root', root, 'publish', 'v2', '--expect-current', 'none']).code, 3);
    assert.equal(currentTarget(root), 'versions/v1');
    assert.equal(logLines(root).length, 1);
    const ok = runCli([
      '--root',
      root,
      'publish',
      'v2',
      '--expect-current',
      'v1',
      '--reason',
      'cas',
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const json = JSON.parse(ok.stdout) as {
      schema: string;
      outcome: string;
      from: string;
      expectCurrent: string;
    };
    assert.equal(json.schema, 'indexctl.publish/1');
    assert.deepEqual([json.outcome, json.from, json.expectCurrent], ['published', 'v1', 'v1']);
    assert.equal(currentTarget(root), 'versions/v2');
  });

  it('--dry-run verifies and checks the CAS but writes nothing, not even the lock', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const before = snapshot(root);
    const r = await publish({ root, version: 'v2', expectCurrent: 'v1', dryRun: true });
    assert.equal(r.outcome, 'would-publish');
    assert.equal(r.dryRun, true);
    assert.equal(r.logEntry, null);
    const cli = runCli(['--root', root, 'publish', 'v2', '--dry-run']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /dry run: would publish v2: CURRENT v1 -> v2 \(nothing changed\)/);
    // It fails as the real run would.
    assert.equal(runCli(['--root', root, 'publish', 'bad4', '--dry-run']).code, 4);
    assert.equal(runCli(['--root', root, 'publish', 'v2', '--dry-run', '--expect-current', 'v3']).code, 3);
    assert.deepEqual(snapshot(root), before);
  });

  it('publishing the version already CURRENT verifies it and changes nothing', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const before = snapshot(root);
    const r = await publish({ root, version: 'v1', expectCurrent: 'v1' });
    assert.equal(r.outcome, 'already-current');
    assert.equal(r.logEntry, null);
    const cli = runCli(['--root', root, 'publish', 'v1']);
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, /v1 is already CURRENT: nothing to do/);
    const after = snapshot(root).filter((l) => !l.startsWith('.lock'));
    assert.deepEqual(after, before);
  });

  it('restores CURRENT when publish.log cannot be appended', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const log = path.join(root, 'publish.log');
    const saved = readFileSync(log);
    unlinkSync(log);
    mkdirSync(log); // appending to a directory fails (EISDIR) after the flip
    await assert.rejects(publish({ root, version: 'v2' }), /EISDIR|illegal operation on a directory/);
    assert.equal(currentTarget(root), 'versions/v1');
    rmSync(log, { recursive: true });
    writeFileSync(log, saved);
    // Also from "nothing published": CURRENT is removed again.
    const empty = freshRoot();
    mkdirSync(path.join(empty, 'publish.log'));
    await assert.rejects(publish({ root: empty, version: 'v1' }), /EISDIR|illegal operation on a directory/);
    assert.equal(currentTarget(empty), undefined);
  });

  it('a torn last line of publish.log does not swallow the next entry, and is removed by it', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const file = path.join(root, 'publish.log');
    const complete = readFileSync(file, 'utf8');
    writeFileSync(file, complete + '{"ts":"2026');
    const torn = await readPublishLog(root);
    assert.deepEqual([torn.entries.length, torn.problems], [1, []]);
    assert.match(torn.warnings.join(), /line 2: no newline at the end/);
    await publish({ root, version: 'v2' });
    const log = await readPublishLog(root);
    assert.deepEqual(
      log.entries.map((e) => e.to),
      ['v1', 'v2'],
    );
    assert.deepEqual([log.problems, log.warnings], [[], []]);
    assert.equal(readFileSync(file, 'utf8'), complete + JSON.stringify(log.entries[1]) + '\n');
  });

  it('exits 75 while another writer holds the lock, and waits with --wait', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'test holder' });
    try {
      const res = runCli(['--root', root, 'publish', 'v1']);
      assert.equal(res.code, 75);
      assert.match(res.stderr, /test holder/);
    } finally {
      lock.release();
    }
    assert.equal(currentTarget(root), undefined);
  });

  it('publishing a missing version or into a missing root is exit 6', async () => {
    const root = freshRoot();
    await assert.rejects(publish({ root, version: 'v9' }), NotFoundError);
    assert.equal(runCli(['--root', root, 'publish', 'v9']).code, 6);
    assert.equal(runCli(['--root', path.join(dir, 'nope'), 'publish', 'v1']).code, 6);
  });
});

describe('build --publish', () => {
  it('builds, then publishes the new version through the same gate', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const chunks = path.join(dir, 'more.parquet');
    await writeChunks(chunks, { rows: 150, dim: 8 });
    const res = buildCli(root, chunks, '--version', 'v9', '--publish', '--json');
    assert.equal(res.code, 0, res.stderr);
    const json = JSON.parse(res.stdout) as { version: string; publish: { outcome: string; from: string } };
    assert.deepEqual([json.version, json.publish.outcome, json.publish.from], ['v9', 'published', 'v1']);
    assert.equal(readCurrent(root), 'v9');
    assert.equal(logLines(root).at(-1)!.reason, 'build --publish');
  });
});

describe('rollback', () => {
  it('goes back to the version the current one replaced; twice toggles; --to picks one', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    await publish({ root, version: 'v2' });
    await publish({ root, version: 'v3' });
    const r = await rollback({ root });
    assert.equal(r.action, 'rollback');
    assert.deepEqual([r.from, r.version, r.outcome], ['v3', 'v2', 'published']);
    assert.equal(readCurrent(root), 'v2');
    const last = logLines(root).at(-1)!;
    assert.deepEqual([last.from, last.to, last.reason, last.action], ['v3', 'v2', 'rollback', 'rollback']);
    // The flip that made v2 CURRENT was the rollback from v3: rolling back again returns to v3.
    assert.equal(rollbackTarget((await readPublishLog(root)).entries, 'v2'), 'v3');
    const cli = runCli(['--root', root, 'rollback', '--reason', 'oops', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const json = JSON.parse(cli.stdout) as { schema: string; version: string; reason: string };
    assert.deepEqual(
      [json.schema, json.version, json.reason],
      ['indexctl.rollback/1', 'v3', 'rollback: oops'],
    );
    const to = runCli(['--root', root, 'rollback', '--to', 'v1']);
    assert.equal(to.code, 0, to.stderr);
    assert.match(to.stdout, /rolled back v1: CURRENT v3 -> v1/);
    assert.equal(readCurrent(root), 'v1');
  });

  it('has the same gate: a damaged target is refused and CURRENT stays', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    const res = runCli(['--root', root, 'rollback', '--to', 'bad4']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, /refusing to rollback bad4/);
    assert.equal(readCurrent(root), 'v1');
  });

  it('says why there is nothing to roll back to (exit 6)', async () => {
    const root = freshRoot();
    await assert.rejects(rollback({ root }), /nothing has been published/);
    await publish({ root, version: 'v1' });
    const first = runCli(['--root', root, 'rollback']);
    assert.equal(first.code, 6);
    assert.match(first.stderr, /records no earlier version before v1.*pass --to V/);
    // CURRENT set by hand: no log line leads to it.
    unlinkSync(path.join(root, 'CURRENT'));
    symlinkSync('versions/v2', path.join(root, 'CURRENT'));
    await assert.rejects(rollback({ root }), NotFoundError);
    await assert.rejects(rollback({ root, dryRun: true }), NotFoundError);
  });

  it('--dry-run says where it would go and writes nothing', async () => {
    const root = freshRoot();
    await publish({ root, version: 'v1' });
    await publish({ root, version: 'v2' });
    const before = snapshot(root);
    const res = runCli(['--root', root, 'rollback', '--dry-run']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dry run: would rollback v1: CURRENT v2 -> v1/);
    assert.deepEqual(snapshot(root), before);
  });
});

describe('hostile input', () => {
  const long = 'a'.repeat(129);
  for (const [label, args] of [
    ['publish ..', ['publish', '..']],
    ['publish a/b', ['publish', 'a/b']],
    ['publish ../template/versions/v1', ['publish', '../template/versions/v1']],
    ['publish ""', ['publish', '']],
    ['publish .hidden', ['publish', '.hidden']],
    ['publish (129 chars)', ['publish', long]],
    ['publish --expect-current ../x', ['publish', 'v1', '--expect-current', '../x']],
    ['publish --expect-current ""', ['publish', 'v1', '--expect-current', '']],
    ['publish --reason (too long)', ['publish', 'v1', '--reason', 'x'.repeat(1001)]],
    ['publish --wait -1', ['publish', 'v1', '--wait', '-1']],
    ['rollback --to ""', ['rollback', '--to', '']],
    ['rollback --to /etc', ['rollback', '--to', '/etc']],
    ['pin ..', ['pin', '..']],
    ['unpin a/b', ['unpin', 'a/b']],
    ['diff .. v1', ['diff', '..', 'v1']],
    ['diff v1 (129 chars)', ['diff', 'v1', long]],
  ] as const) {
    it(`${label}: exit 2, nothing touched`, () => {
      const root = freshRoot();
      const before = snapshot(root);
      const res = runCli(['--root', root, ...args]);
      assert.equal(res.code, 2, `${res.stdout}\n${res.stderr}`);
      assert.deepEqual(snapshot(root), before);
    });
  }

  it('the core refuses the same names with UsageError', async () => {
    const root = freshRoot();
    for (const version of ['..', 'a/b', '', 'x'.repeat(200), '/abs']) {
      await assert.rejects(publish({ root, version }), UsageError);
    }
    await assert.rejects(rollback({ root, to: '..' }), UsageError);
  });

  for (const [label, target] of [
    ['an absolute path', '/tmp'],
    ['an absolute path to its own version', '<root>/versions/v1'],
    ['../x', '../x'],
    ['versions/../x', 'versions/../x'],
    ['versions/v1/..', 'versions/v1/..'],
  ] as const) {
    it(`a CURRENT pointing to ${label}: never followed; status reports it (exit 4) and its repair, publish V repairs it`, () => {
      const root = freshRoot();
      const link = target.replace('<root>', root);
      assert.equal(runCli(['--root', root, 'publish', 'v1']).code, 0);
      assert.equal(runCli(['--root', root, 'publish', 'v2']).code, 0);
      rmSync(path.join(root, 'CURRENT'));
      symlinkSync(link, path.join(root, 'CURRENT'));
      // CURRENT's own line stats its target (/tmp changes under other processes): compared by readlink.
      const files = (): string[] => snapshot(root).filter((l) => !l.startsWith('CURRENT '));
      const before = files();
      for (const args of [
        ['rollback'],
        ['gc'],
        ['gc', '--yes'],
        ['publish', 'v1', '--expect-current', 'v2'],
      ]) {
        const res = runCli(['--root', root, ...args]);
        assert.equal(res.code, args[0] === 'publish' ? 3 : 4, `${args.join(' ')}: ${res.stderr}`);
        assert.match(res.stderr, /refusing to follow it/);
      }
      for (const args of [['status'], ['list']]) {
        const res = runCli(['--root', root, ...args]);
        assert.equal(res.code, 4, `${args.join(' ')}: ${res.stderr}`);
        assert.match(res.stdout, /CURRENT {3}BROKEN: .*refusing to follow it/);
        for (const v of ['v1', 'v2', 'v3', 'bad4', 'bad3'])
          assert.match(res.stdout, new RegExp(`^${v} `, 'm'));
        // The version the log last made CURRENT, published through the gate.
        assert.match(
          res.stdout,
          new RegExp(`^repair {4}indexctl --root ${root} publish v2 --reason "repair CURRENT"$`, 'm'),
        );
      }
      const dry = runCli(['--root', root, 'publish', 'v1', '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /would fix CURRENT was broken: .*refusing to follow it/);
      // A version that fails the gate does not replace it.
      assert.equal(runCli(['--root', root, 'publish', 'bad4']).code, 4);
      assert.equal(currentTarget(root), link);
      assert.deepEqual(files(), before);

      // The printed command, run as printed (from another directory), repairs CURRENT.
      const json = runCli(['--root', root, 'status', '--json']);
      assert.equal(json.code, 4);
      const repair = (JSON.parse(json.stdout) as { currentProblem: { repair: string } }).currentProblem
        .repair;
      const fixed = spawnSync('sh', ['-c', repair.replace(/^indexctl /, `"${process.execPath}" "${bin}" `)], {
        cwd: os.tmpdir(),
        encoding: 'utf8',
      });
      assert.equal(fixed.status, 0, fixed.stderr);
      assert.equal(currentTarget(root), 'versions/v2');
      const last = logLines(root).at(-1)!;
      assert.equal(last.from, null);
      assert.equal(last.to, 'v2');
      assert.match(String(last.repaired), /refusing to follow it/);
      assert.equal(runCli(['--root', root, 'status']).code, 0);
    });
  }

  it('rollback --to V repairs a CURRENT outside versions/; publish V repairs a dangling one', () => {
    const root = freshRoot();
    assert.equal(runCli(['--root', root, 'publish', 'v1']).code, 0);
    rmSync(path.join(root, 'CURRENT'));
    symlinkSync('/tmp', path.join(root, 'CURRENT'));
    const back = runCli(['--root', root, 'rollback', '--to', 'v1']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /repaired CURRENT was broken: .*"\/tmp"/);
    assert.equal(currentTarget(root), 'versions/v1');
    assert.equal(logLines(root).at(-1)!.action, 'rollback');

    rmSync(path.join(root, 'CURRENT'));
    symlinkSync('versions/gone', path.join(root, 'CURRENT'));
    const st = runCli(['--root', root, 'status']);
    assert.equal(st.code, 4);
    assert.match(st.stdout, /BROKEN: .*"versions\/gone", but version gone has no directory/);
    assert.match(st.stdout, /repair {4}indexctl --root \S+ publish v1 /);
    const res = runCli(['--root', root, 'publish', 'v2']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(currentTarget(root), 'versions/v2');
    const last = logLines(root).at(-1)!;
    assert.deepEqual([last.from, last.to], ['gone', 'v2']);
    assert.match(String(last.repaired), /version gone has no directory/);
  });
});
