/** Issue 11's small ones: the lock-held message, a dead holder shown stale, gc --dry-run. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';

import { acquireWriterLock } from '../src/core/lock.js';
import { packageRoot } from '../src/core/util/paths.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

function freshRoot(): string {
  const root = path.join(tmpDir(), 'root');
  mkdirSync(path.join(root, 'versions'), { recursive: true });
  return root;
}

describe('operator messages', () => {
  it('lock held: names the holder and the --wait SECONDS flag (exit 75)', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'publish v9' });
    try {
      const r = runCli(['--root', root, 'gc', '--yes']);
      assert.equal(r.code, 75, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `"publish v9", pid ${process.pid} on ${os.hostname()}, since \\S+; ` +
            `try again when it has finished, or pass --wait SECONDS to wait for it`,
        ),
      );
    } finally {
      lock.release();
    }
  });

  it('status shows the lock of a writer that died as stale, not held', async () => {
    const root = freshRoot();
    const child = spawn(process.execPath, [path.join(packageRoot, 'dist/test/helpers/lock-child.js'), root], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    assert.match(String((await lines.next()).value), /acquired/);
    const live = runCli(['--root', root, 'status']);
    assert.match(live.stdout, /lock +held by "test child", pid \d+/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const r = runCli(['--root', root, 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /lock +stale: left by "test child", pid \d+ .*no longer running/);
    assert.doesNotMatch(r.stdout, /held by/);
    const json = JSON.parse(runCli(['--root', root, 'status', '--json']).stdout) as {
      lock: { stale: boolean };
    };
    assert.equal(json.lock.stale, true);
  });

  it('gc --dry-run lists without removing; with --yes it is a usage error', () => {
    const root = freshRoot();
    const r = runCli(['--root', root, 'gc', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing to remove/);
    const both = runCli(['--root', root, 'gc', '--dry-run', '--yes']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--dry-run.*cannot be used with.*--yes|--yes.*cannot be used with.*--dry-run/);
  });
});
