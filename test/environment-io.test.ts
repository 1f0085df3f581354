/**
 * Issue 12 item 8: a write the environment refuses (EACCES, EROFS, ENOSPC) is exit 74 naming the
 * path and the cause, and leaves the root as it was; a 4,000,000-d chunks file is exit 5.
 *
 * Tests run as root, which ignores permissions: EACCES comes from running the CLI without
 * CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv) against a part of the root made read-only, EROFS
 * from a tmpfs remounted read-only, ENOSPC from a tmpfs too small for a build. Dropping the
 * capabilities, not the user, keeps the checkout readable wherever it lives (a private 0700 parent
 * directory made "run as nobody" fail with "Cannot find module .../bin/indexctl.js").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { publish } from '../src/core/lifecycle/publish.js';
import { runCli } from './helpers/cli.js';
import { copyToParquet } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, currentTarget, logLines, snapshot } from './helpers/versions.js';

const dir = tmpDir();
const template = path.join(dir, 'template');
await buildVersions(template, [{ name: 'e1' }, { name: 'e2' }, { name: 'e3' }]);
await publish({ root: template, version: 'e1' });
const chunks = path.join(dir, 'template-e1.parquet');

let roots = 0;
function freshRoot(parent = dir): string {
  const root = path.join(parent, `root${++roots}`);
  cpSync(template, root, { recursive: true, verbatimSymlinks: true });
  return root;
}

const asRoot = process.getuid?.() === 0;
const noDac = ['-dac_override', '-dac_read_search'].join(',');
/** Runs the CLI bound by permission bits: root without the capabilities that bypass them. */
const NO_DAC = asRoot ? { prefix: ['setpriv', `--inh-caps=${noDac}`, `--bounding-set=${noDac}`] } : {};

/** A tmpfs of `size` mounted at a new directory, unmounted when the file ends; undefined if mount is not allowed. */
function tmpfs(size: string): string | undefined {
  const mnt = path.join(dir, `mnt${++roots}`);
  mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]).status !== 0) return undefined;
  after(() => void spawnSync('umount', [mnt]));
  return mnt;
}

function remountReadOnly(mnt: string): void {
  const res = spawnSync('mount', ['-o', 'remount,ro', mnt], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
}

describe('EACCES: the CLI run by a user who cannot write the root', () => {
  it('publish: exit 74 naming the lock file and the cause; nothing changes', () => {
    const root = freshRoot();
    chmodSync(root, 0o555); // no new file in the root: the lock cannot be taken
    const before = snapshot(root);
    const res = runCli(['--root', root, 'publish', 'e2'], NO_DAC);
    chmodSync(root, 0o755);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `^indexctl: cannot take the writer lock ${root}/\\.lock: open ${root}/\\.lock\\.\\d+\\.[0-9a-f]{8}\\.tmp: permission denied \\(EACCES\\)`,
      ),
    );
    assert.deepEqual(snapshot(root), before);
  });

  it('publish with a publish.log it cannot append to: exit 74, CURRENT put back', () => {
    const root = freshRoot();
    chmodSync(path.join(root, 'publish.log'), 0o444); // the lock and CURRENT can be written, the log cannot
    const log = logLines(root);
    const res = runCli(['--root', root, 'publish', 'e2', '--json'], NO_DAC);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `cannot append to ${root}/publish\\.log: open ${root}/publish\\.log: permission denied \\(EACCES\\)`,
      ),
    );
    const doc = JSON.parse(res.stdout) as { exitCode: number; error: string };
    assert.deepEqual([doc.exitCode, doc.error], [74, 'EnvironmentIoError']);
    assert.equal(currentTarget(root), 'versions/e1');
    assert.deepEqual(logLines(root), log);
  });

  it('build that cannot move its staging directory into versions/: exit 74, staging cleaned', () => {
    const root = freshRoot();
    chmodSync(path.join(root, 'versions'), 0o555); // staging/ can be written, versions/ cannot
    const res = runCli(
      ['--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', '--version', 'e9'],
      NO_DAC,
    );
    chmodSync(path.join(root, 'versions'), 0o755);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `rename ${root}/staging/e9\\.\\d+\\.[0-9a-f]{8} -> ${root}/versions/e9: permission denied \\(EACCES\\)`,
      ),
    );
    assert.deepEqual(readdirSync(path.join(root, 'staging')), []);
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), ['e1', 'e2', 'e3']);
  });

  it('gc --yes that cannot remove a version: exit 74 naming it', () => {
    const root = freshRoot();
    chmodSync(path.join(root, 'versions'), 0o555); // nothing can be renamed out of versions/
    const res = runCli(['--root', root, 'gc', '--keep', '0', '--yes'], NO_DAC);
    chmodSync(path.join(root, 'versions'), 0o755);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `^indexctl: gc cannot remove version e\\d: rename ${root}/versions/e\\d -> .*permission denied \\(EACCES\\)`,
      ),
    );
  });

  it('tune --write that cannot replace manifest.json: exit 74 naming it', () => {
    const root = freshRoot();
    const manifest = path.join(root, 'versions/e2/manifest.json');
    chmodSync(path.dirname(manifest), 0o555); // no temp file beside manifest.json
    const text = readFileSync(manifest, 'utf8');
    const res = runCli(['--root', root, 'tune', 'e2', '--target-recall', '0.9', '--write'], NO_DAC);
    chmodSync(path.dirname(manifest), 0o755);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `^indexctl: cannot write ${manifest}: open .*\\.manifest\\.json\\.\\d+\\.[0-9a-f]{8}\\.tmp: permission denied \\(EACCES\\)`,
      ),
    );
    assert.equal(readFileSync(manifest, 'utf8'), text);
  });
});

describe('EROFS and ENOSPC (tmpfs)', () => {
  it('a root on a read-only filesystem: publish, pin, gc --yes and build exit 74; status still works', (t) => {
    const mnt = tmpfs('4m');
    if (!mnt) return t.skip('mount is not permitted here');
    const root = freshRoot(mnt);
    remountReadOnly(mnt);
    const commands = [
      ['publish', 'e2'],
      ['pin', 'e3'],
      ['gc', '--keep', '0', '--yes'],
      ['build', '--chunks', chunks, '--factory', 'Flat', '--version', 'e9'],
    ];
    for (const args of commands) {
      const res = runCli(['--root', root, ...args]);
      assert.equal(res.code, 74, `${args[0]}: ${res.stderr}`);
      // A build takes the lock only to seal: it first meets the read-only disk making its staging dir.
      const where = args[0] === 'build' ? 'staging/e9\\.\\d+\\.[0-9a-f]{8}' : '\\.lock';
      assert.match(res.stderr, new RegExp(`${root}/${where}.*: read-only filesystem \\(EROFS\\)`), args[0]);
    }
    assert.equal(runCli(['--root', root, 'status']).code, 0);
  });

  it('an output file in a read-only directory (sample --out): exit 74 from the runner', (t) => {
    const mnt = tmpfs('64k');
    if (!mnt) return t.skip('mount is not permitted here');
    remountReadOnly(mnt);
    const out = path.join(mnt, 'chunks.parquet');
    const src = path.join(dir, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.ts'), 'export const a = 1;\n'.repeat(40));
    const res = runCli(['sample', '--from', src, '--out', out]);
    assert.equal(res.code, 74, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(`^indexctl: open ${mnt}/\\.chunks\\.parquet\\..*: read-only filesystem \\(EROFS\\)`),
    );
  });

  it('a build that fills the disk: exit 74 naming staging and ENOSPC; nothing left behind', (t) => {
    const mnt = tmpfs('512k');
    if (!mnt) return t.skip('mount is not permitted here');
    const root = path.join(mnt, 'root');
    const res = runCli(['--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', '--version', 'f1']);
    assert.equal(res.code, 74, res.stderr);
    // The index and the idmap are written at the same time: whichever the disk refuses first is
    // named, as the staging directory (FAISS's write) or the staging file (the idmap's).
    assert.match(
      res.stderr,
      new RegExp(
        `^indexctl: cannot (build f1|write ${root}/staging/f1\\.\\d+\\.[0-9a-f]{8}/idmap\\.parquet): ` +
          `(write )?${root}/staging/f1\\.\\d+\\.[0-9a-f]{8}(/idmap\\.parquet)?: no space left on the device \\(ENOSPC\\)`,
      ),
    );
    assert.deepEqual(readdirSync(path.join(root, 'staging')), []);
    assert.deepEqual(readdirSync(path.join(root, 'versions')), []);
  });
});

describe('a 4,000,000-dimension chunks file', () => {
  it('is bad input (exit 5) naming the column, its dimension and the limit', async () => {
    const file = path.join(dir, 'huge-dim.parquet');
    await copyToParquet(
      file,
      `SELECT i::BIGINT AS id, 'f' || i AS uri, 'ts' AS lang, 1 AS start_line, 2 AS end_line,
              list_transform(range(4000000), x -> (x % 7)::FLOAT) AS embedding FROM range(2) t(i)`,
    );
    const root = path.join(dir, 'huge-root');
    for (const extra of [[], ['--dry-run']]) {
      const res = runCli(['--root', root, 'build', '--chunks', file, '--factory', 'Flat', ...extra]);
      assert.equal(res.code, 5, res.stderr);
      assert.equal(
        res.stderr,
        `indexctl: ${file}: column "embedding" has dimension 4000000 (first non-null row); indexctl supports at most 65536\n`,
      );
    }
  });
});
