/**
 * A full disk leaves a root that still works: a real tmpfs, mounted and unmounted here (this needs
 * root; the test is skipped with the reason when mount is not permitted), filled by a file until
 * write(2) returns ENOSPC.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statfsSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { publish } from '../src/core/lifecycle/publish.js';
import { readPublishLog } from '../src/core/lifecycle/publish-log.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, currentTarget } from './helpers/versions.js';

const PAGE = 4096;
/** statfs f_type of tmpfs: the filler must never run on anything else (it writes until ENOSPC). */
const TMPFS_MAGIC = 0x01021994;
const dir = tmpDir();
const template = path.join(dir, 'template');
await buildVersions(template, [{ name: 'v1' }, { name: 'v2' }]);

/** Mounts a tmpfs of `size` at `mnt`; the reason when this process may not mount. */
function mountTmpfs(mnt: string, size: string): string | undefined {
  mkdirSync(mnt, { recursive: true });
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (res.error) return `mount could not run: ${res.error.message}`;
  return res.status === 0 ? undefined : `mount -t tmpfs is not permitted here: ${res.stderr.trim()}`;
}

/** Writes whole pages to `fd` until the filesystem refuses one with ENOSPC. */
function fillUp(fd: number): void {
  const page = Buffer.alloc(PAGE, 1);
  for (;;) {
    try {
      writeSync(fd, page);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
}

const lockDebris = (root: string): string[] => readdirSync(root).filter((n) => n.startsWith('.lock'));

describe('a full disk', () => {
  it('publish hitting ENOSPC restores CURRENT, leaves no torn log line and no lock temp; gc works after', async (t) => {
    const mnt = path.join(dir, 'mnt');
    const refused = mountTmpfs(mnt, '4m');
    if (refused !== undefined) {
      t.skip(refused);
      return;
    }
    try {
      assert.equal(statfsSync(mnt).type, TMPFS_MAGIC, `${mnt} is not the tmpfs just mounted`);
      const root = path.join(mnt, 'root');
      cpSync(template, root, { recursive: true });
      await publish({ root, version: 'v1' });
      // Pad the log to 40 bytes short of a page, so the next line needs a page of its own and its
      // write is cut short after 40 bytes (tmpfs allocates whole pages).
      const log = path.join(root, 'publish.log');
      const first = readFileSync(log, 'utf8');
      const entry = JSON.parse(first) as Record<string, unknown>;
      const bare = JSON.stringify({ ...entry, reason: '' }).length + 1;
      writeFileSync(
        log,
        first + JSON.stringify({ ...entry, reason: 'x'.repeat(PAGE - 40 - first.length - bare) }) + '\n',
      );
      const logged = readFileSync(log);
      assert.equal(logged.length, PAGE - 40);

      const filler = path.join(mnt, 'filler');
      const fd = openSync(filler, 'w');
      try {
        fillUp(fd);
        // One page free: the writer lock's file takes it, so the log append is what meets ENOSPC.
        ftruncateSync(fd, fstatSync(fd).size - PAGE);
        assert.equal(statfsSync(mnt).bavail, 1);
        await assert.rejects(publish({ root, version: 'v2' }), /ENOSPC|no space left/);
        assert.equal(currentTarget(root), 'versions/v1');
        assert.deepEqual(readFileSync(log), logged, 'the partial line was taken back');
        const read = await readPublishLog(root);
        assert.deepEqual([read.entries.length, read.problems, read.warnings], [2, [], []]);
        assert.deepEqual(lockDebris(root), []);

        // Not a page left: the lock itself cannot be written, and leaves nothing behind.
        fillUp(fd);
        assert.equal(statfsSync(mnt).bavail, 0);
        const res = runCli(['--root', root, 'publish', 'v2']);
        assert.notEqual(res.code, 0);
        assert.match(res.stderr, /ENOSPC|no space left/);
        assert.deepEqual(lockDebris(root), []);
        assert.equal(currentTarget(root), 'versions/v1');
      } finally {
        closeSync(fd);
      }

      unlinkSync(filler);
      const gc = runCli(['--root', root, 'gc', '--keep', '0', '--yes', '--json']);
      assert.equal(gc.code, 0, gc.stderr);
      const report = JSON.parse(gc.stdout) as { removed: string[]; problems: string[]; warnings: string[] };
      assert.deepEqual([report.removed, report.problems, report.warnings], [['v2'], [], []]);
      assert.deepEqual(lockDebris(root), []);
    } finally {
      const res = spawnSync('umount', [mnt], { encoding: 'utf8' });
      assert.equal(res.status, 0, `umount ${mnt}: ${res.stderr}`);
    }
  });
});
