/**
 * scripts/setup.sh installs Debian packages through scripts/apt-install.sh, which waits for the
 * dpkg lock (with a message) instead of failing at once with "Could not get lock" (exit 100) while
 * another apt-get or unattended-upgrades holds it. The package installed is one that is already
 * there, so nothing is downloaded. Needs root and apt-get; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';
import { SLURM_PACKAGES } from './helpers/slurm-cluster.js';

const lock = '/var/lib/dpkg/lock-frontend';
const usable =
  process.getuid?.() === 0 && existsSync(lock) && spawnSync('apt-get', ['--version']).status === 0;

describe('scripts/apt-install.sh', () => {
  it('waits for a dpkg lock another process holds, says so, then installs', { skip: !usable }, async () => {
    // apt locks with fcntl(2) (flock(1) takes a lock apt does not see): hold one the same way.
    const holder = spawn('python3', [
      '-c',
      `import fcntl, time\nf = open(${JSON.stringify(lock)}, "w")\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint("held", flush=True)\ntime.sleep(3)\nprint("released", flush=True)`,
    ]);
    let holderOut = '';
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (d: Buffer) => {
        holderOut += d.toString();
        if (holderOut.includes('held')) resolve();
      }),
    );
    const run = spawnSync('bash', [path.join(packageRoot, 'scripts/apt-install.sh'), 'coreutils'], {
      encoding: 'utf8',
    });
    await new Promise((resolve) => holder.on('exit', resolve));
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stderr,
      /another package manager holds \/var\/lib\/dpkg\/lock-frontend \(pid \d+\); waiting up to 600s/,
    );
    assert.doesNotMatch(run.stderr, /Could not get lock/);
    assert.match(holderOut, /released/);
  });
});

describe('scripts/setup.sh --test', () => {
  it('installs the Slurm and munge packages test/slurm.test.ts starts its cluster from', () => {
    const setup = readFileSync(path.join(packageRoot, 'scripts/setup.sh'), 'utf8');
    const list = /\[ "\$want_test" = 1 \] && packages\+=\(([^)]*)\)/.exec(setup);
    assert.ok(list, 'the --test package list in scripts/setup.sh');
    const listed = list[1]!.split(/\s+/).filter(Boolean);
    const missing = SLURM_PACKAGES.split(' ').filter((p) => !listed.includes(p));
    assert.deepEqual(missing, [], `scripts/setup.sh --test lists ${listed.join(' ')}`);
  });
});
