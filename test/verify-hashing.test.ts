/**
 * verify with every file hashed through the checksum addon (the default), on checksum workers
 * (nativeHash: false, parallelHashFrom: 0; without the addon the CLI does this from 64 MiB) and on
 * the calling thread: the same report, for sound and damaged versions alike, and a cancelled verify
 * stops its hashing and throws the reason, whichever way it hashes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { hasNativeFileHash } from '../src/core/hash-addon.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { VersionHashing } from '../src/core/verify/hashing.js';
import { verify, type VerifyOptions, type VerifyReport } from '../src/core/verify/verify.js';
import { cloneVersion, flipByte, truncate } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions } from './helpers/versions.js';

const dir = tmpDir('indexctl-verify-hashing-');
const root = path.join(dir, 'root');
await buildVersions(root, [{ name: 'v1' }]);

const FILES = ['chunks.parquet', 'faiss.index', 'idmap.parquet', 'catalog.duckdb'];
let copies = 0;

/** Reports without their timings, which are all that may differ between the two ways of hashing. */
function untimed(report: VerifyReport): unknown {
  const { seconds: _s, checks, ...rest } = report;
  return {
    ...rest,
    checks: checks.map(({ ms: _ms, ...c }) => ({ ...c, detail: c.detail.replace(/\d+ ms\b/g, '<n> ms') })),
  };
}

/**
 * The same verify through the checksum addon, on workers and in place: the three reports, which
 * must agree.
 */
async function both(options: Omit<VerifyOptions, 'root'>): Promise<VerifyReport> {
  assert.ok(hasNativeFileHash(), 'the checksum addon (build/Release/indexctl_hash.node) is built');
  const native = await verify({ root, ...options });
  const onWorkers = await verify({ root, ...options, nativeHash: false, parallelHashFrom: 0 });
  const inPlace = await verify({ root, ...options, nativeHash: false, parallelHashFrom: Infinity });
  assert.deepEqual(untimed(onWorkers), untimed(inPlace));
  assert.deepEqual(untimed(native), untimed(inPlace));
  return native;
}

async function copy(): Promise<{ version: string; vdir: string }> {
  const version = `v1-${++copies}`;
  return { version, vdir: await cloneVersion(root, 'v1', version) };
}

function sumOf(report: VerifyReport, file: string) {
  return report.checks.find((c) => c.name === 'files.checksum' && c.target === file);
}

describe('verify through the checksum addon, on workers and in place', () => {
  it('a sound version: every check passes, each digest the manifest one, at levels 1 and 3', async () => {
    const manifest = await readManifest(path.join(root, 'versions', 'v1'));
    for (const level of [1, 3] as const) {
      const report = await both({ version: 'v1', level });
      assert.equal(report.exitCode, 0, JSON.stringify(report.checks, null, 1));
      for (const file of FILES) {
        const entry = manifest.files[file]!;
        assert.equal(sumOf(report, file)?.detail, `${entry.checksum} (${entry.bytes} bytes)`);
      }
    }
  });

  for (const file of FILES) {
    it(`${file}: a flipped byte is a checksum mismatch (4); truncated, a size mismatch (4)`, async () => {
      const flipped = await copy();
      flipByte(path.join(flipped.vdir, file));
      const a = await both({ version: flipped.version, level: 1 });
      assert.equal(a.exitCode, 4);
      assert.match(sumOf(a, file)?.detail ?? '', /checksum mismatch: expected xxh64:[0-9a-f]{16}, actual/);

      const cut = await copy();
      truncate(path.join(cut.vdir, file));
      const b = await both({ version: cut.version, level: 1 });
      assert.equal(b.exitCode, 4);
      assert.match(sumOf(b, file)?.detail ?? '', /bytes, manifest says \d+ \(truncated\)$/);
    });
  }

  it('a missing file fails files.present and its checksum is skipped', async () => {
    const { version, vdir } = await copy();
    rmSync(path.join(vdir, 'faiss.index'));
    const report = await both({ version, level: 1 });
    assert.equal(report.exitCode, 4);
    assert.match(sumOf(report, 'faiss.index')?.detail ?? '', /missing \(see files\.present\)/);
  });

  it('a FIFO in place of a file is not opened (it would block a worker): files.present fails (4)', async () => {
    const { version, vdir } = await copy();
    rmSync(path.join(vdir, 'chunks.parquet'));
    const made = spawnSync('mkfifo', [path.join(vdir, 'chunks.parquet')]);
    assert.equal(made.status, 0, String(made.stderr));
    const report = await both({ version, level: 1 });
    assert.equal(report.exitCode, 4);
    assert.match(report.checks[1]?.detail ?? '', /not regular files: chunks\.parquet$/);
    assert.match(sumOf(report, 'chunks.parquet')?.detail ?? '', /is not a regular file/);
  });

  it('a manifest that does not parse: the workers started before it are stopped, nothing hangs', async () => {
    const { version, vdir } = await copy();
    writeFileSync(path.join(vdir, 'manifest.json'), '{ not json');
    const report = await both({ version, level: 1 });
    assert.equal(report.exitCode, 4);
    assert.equal(report.checks[0]?.outcome, 'fail');
    const sums = report.checks.filter((c) => c.name === 'files.checksum');
    assert.deepEqual(
      sums.map((c) => c.outcome),
      ['skip'],
    );
  });

  it('cancelled before a check asks for its digest: no rejection is left unhandled', async () => {
    // publish's verify once exited 1 on SIGTERM: a check that returned before asking for its digest
    // (stat, a size mismatch) left the cancelled hash's rejection unhandled.
    const { vdir } = await copy();
    writeFileSync(path.join(vdir, 'chunks.parquet'), Buffer.alloc(256 << 20, 1));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const controller = new AbortController();
      const hashing = new VersionHashing(vdir, ['chunks.parquet'], { signal: controller.signal });
      hashing.of('chunks.parquet');
      controller.abort(new Error('cancelled by the test'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      hashing.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled, []);
  });

  for (const nativeHash of [true, false]) {
    it(`cancelled while hashing (${nativeHash ? 'checksum addon' : 'workers'}): verify throws the signal reason`, async () => {
      const controller = new AbortController();
      const reason = new Error('cancelled by the test');
      await assert.rejects(
        verify({
          root,
          version: 'v1',
          level: 1,
          nativeHash,
          parallelHashFrom: 0,
          signal: controller.signal,
          // The first file finished aborts the rest.
          onProgress: (e) => {
            if (e.phase === 'checksum') controller.abort(reason);
          },
        }),
        (err) => err === reason,
      );
    });
  }
});
