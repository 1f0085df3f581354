/**
 * Issue 12 item 3: no factory string can crash or wedge a build. Before the factory check, the
 * strings below killed the build with SIGSEGV (IVF0,Flat, HNSW0, IVF4_HNSW0,Flat) or SIGFPE (PQ0,
 * IVF4,PQ8x0, OPQ0,PQ8), spun at 100% CPU past 3 GB (HNSW1, NSG0,Flat, NSG2), or ended in an
 * unhandled rejection with staging/ left behind (SQ8, HNSW32,SQ8, PCA64,Flat, SQ4, LSHrt, RQ0x8,
 * LSQ8x8, IMI2x0,Flat). Each run here is bounded (spawnSync `timeout`), so a hang fails the test
 * instead of wedging the suite; the bound is not a timing assertion.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { faissReason, parseFactory } from '../src/core/build/factory-check.js';
import { tryFactory } from '../src/core/build/factory-probe.js';
import { BadInputError, UsageError } from '../src/core/errors.js';
import { writeChunks } from './helpers/chunks.js';
import { bin, runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks96.parquet');
await writeChunks(chunks, { rows: 3000, dim: 96 });

/** Generous: a hang is minutes of CPU; these builds take seconds. */
const HANG_BOUND_MS = 180_000;

function buildBounded(root: string, factory: string) {
  const res = spawnSync(
    process.execPath,
    [bin, '--root', root, 'build', '--chunks', chunks, '--factory', factory, '--version', 'v1'],
    {
      encoding: 'utf8',
      timeout: HANG_BOUND_MS,
      killSignal: 'SIGKILL',
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  return { code: res.status, signal: res.signal, stderr: res.stderr };
}

function entries(root: string, sub: string): string[] {
  return existsSync(path.join(root, sub)) ? readdirSync(path.join(root, sub)) : [];
}

const refused: { factory: string; code: 2 | 5; reason: RegExp }[] = [
  { factory: 'IVF0,Flat', code: 2, reason: /IVF0: number of lists is 0; it must be at least 1/ },
  { factory: 'HNSW0', code: 2, reason: /HNSW0: links per node \(M\) is 0; it must be at least 2/ },
  { factory: 'IVF4_HNSW0,Flat', code: 2, reason: /IVF4_HNSW0: HNSW links per node \(M\) is 0/ },
  { factory: 'PQ0', code: 2, reason: /PQ0: sub-quantizers is 0/ },
  { factory: 'PQ384x0', code: 2, reason: /PQ384x0: bits per code is 0/ },
  { factory: 'IVF4,PQ8x0', code: 2, reason: /PQ8x0: bits per code is 0/ },
  { factory: 'OPQ0,PQ8', code: 2, reason: /OPQ0: sub-quantizers is 0/ },
  {
    factory: 'HNSW1',
    code: 2,
    reason: /HNSW1: links per node \(M\) is 1.*loops allocating without bound on M = 1/,
  },
  { factory: 'NSG0,Flat', code: 2, reason: /NSG0: NSG is not accepted/ },
  { factory: 'NSG2', code: 2, reason: /NSG2: NSG is not accepted/ },
  { factory: 'RQ0x8', code: 2, reason: /RQ0x8: codebooks is 0/ },
  { factory: 'LSQ8x8', code: 2, reason: /LSQ8x8: LSQ is not accepted: .*trains it for minutes/ },
  { factory: 'IMI2x0,Flat', code: 2, reason: /IMI2x0: bits per sub-quantizer is 0/ },
  { factory: 'IVF16,Bogus', code: 2, reason: /Bogus: after IVF16 comes Flat, PQ/ },
  // Fine strings, but not for 96-dimensional vectors: bad input.
  {
    factory: 'PQ7',
    code: 5,
    reason: /dimension 96 cannot be indexed by PQ7: PQ7: 7 sub-quantizers do not divide/,
  },
  { factory: 'PCA128,Flat', code: 5, reason: /PCA128 outputs 128 dimensions, more than the 96 it gets/ },
  { factory: 'OPQ8_64,PQ7', code: 5, reason: /PQ7: 7 sub-quantizers do not divide the dimension 64/ },
];

describe('build --factory: every string from issue 12 ends with an exit code and a reason', () => {
  for (const c of refused) {
    it(`${c.factory}: exit ${c.code}, no signal, no staging, no lock`, () => {
      const root = path.join(dir, `refused-${c.factory.replace(/[^A-Za-z0-9]/g, '_')}`);
      const res = buildBounded(root, c.factory);
      assert.equal(res.signal, null, `${c.factory} died of ${res.signal}: ${res.stderr}`);
      assert.equal(res.code, c.code, res.stderr);
      assert.match(res.stderr, c.reason);
      assert.doesNotMatch(res.stderr, /\.cpp:\d+|unhandled|triggerUncaughtException/i);
      assert.deepEqual(entries(root, 'staging'), []);
      assert.deepEqual(entries(root, 'versions'), []);
      assert.equal(existsSync(path.join(root, '.lock')), false, 'lock released');
    });
  }

  for (const factory of ['SQ8', 'HNSW32,SQ8', 'PCA64,Flat', 'SQ4', 'LSHrt']) {
    it(`${factory} (needs training: FAISS's is_trained says so) builds and passes verify --level 3`, () => {
      const root = path.join(dir, `ok-${factory.replace(/[^A-Za-z0-9]/g, '_')}`);
      const res = buildBounded(root, factory);
      assert.equal(res.signal, null, res.stderr);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(entries(root, 'staging'), []);
      const verify = runCli(['--root', root, 'verify', 'v1', '--level', '3']);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  }
});

describe('the factory trial child: what the grammar would miss is still contained', () => {
  // Unvalidated strings go straight to tryFactory here: real FAISS crashes and loops, in the child.
  it('a SIGFPE while constructing (PQ0) is "FAISS cannot build", exit 5', async () => {
    await assert.rejects(tryFactory(96, 'PQ0', 'l2', { file: chunks }), (err: unknown) => {
      assert.ok(err instanceof BadInputError);
      assert.match(err.message, /^FAISS cannot build PQ0: FAISS died of SIGFPE .* while constructing it/);
      assert.match(err.message, /chunks96\.parquet/);
      return true;
    });
  });

  it('a SIGSEGV while adding (IVF0,Flat, which FAISS calls trained) is caught too', async () => {
    await assert.rejects(
      tryFactory(96, 'IVF0,Flat', 'l2'),
      /FAISS cannot build IVF0,Flat: FAISS died of SIGSEGV .*adding 64 vectors/,
    );
  });

  it('an allocating loop (HNSW1) is killed at the memory bound', async () => {
    await assert.rejects(
      tryFactory(96, 'HNSW1', 'l2', { memoryBytes: 512 * 1024 ** 2 }),
      /FAISS cannot build HNSW1: its memory grew past 512\.0 MiB while adding 64 vectors to it; it was killed/,
    );
  });

  it('a trial that does not answer in time is killed at the time bound', async () => {
    // HNSW1 again, under a memory bound it cannot reach within a tenth of a second.
    await assert.rejects(
      tryFactory(96, 'HNSW1', 'l2', { timeoutSeconds: 0.1, memoryBytes: 64 * 1024 ** 3 }),
      /FAISS cannot build HNSW1: no result within 0\.1 s while .*; it was killed/,
    );
  });

  it("FAISS's own refusal is shown without its C++ source location", async () => {
    await assert.rejects(tryFactory(96, 'PQ7', 'l2'), (err: unknown) => {
      assert.ok(err instanceof BadInputError);
      assert.match(err.message, /FAISS cannot build PQ7: 'd % M == 0' failed/);
      assert.doesNotMatch(err.message, /\.cpp|Error in/);
      return true;
    });
  });

  it('reports is_trained as FAISS sees it', async () => {
    assert.deepEqual(await tryFactory(96, 'HNSW32', 'l2'), {
      isTrained: true,
      className: 'IndexIDMap2<IndexHNSWFlat>',
    });
    assert.equal((await tryFactory(96, 'SQ8', 'l2')).isTrained, false);
    assert.equal((await tryFactory(96, 'PCA64,Flat', 'ip')).isTrained, false);
  });
});

describe('parseFactory: the grammar', () => {
  it('accepts the documented forms', () => {
    for (const f of [
      'Flat',
      'HNSW32',
      'HNSW32,Flat',
      'HNSW32_SQ8',
      'HNSW16,PQ8x4',
      'IVF1024,Flat',
      'IVF1024_HNSW32,PQ48x4fs,RFlat',
      'OPQ48_384,IVF1024,PQ48np',
      'IMI2x8,PQ8',
      'IVF64,SQfp16',
      'IVF64,PQ8,Refine(SQ8)',
      'PQ48x4fs',
      'SQ6',
      'L2norm,PCAR64,ITQ,LSHrt',
      'RR128,Flat',
      'Pad128,Flat',
      'RQ4x8',
      'PRQ2x4x8',
    ]) {
      assert.equal(parseFactory(f).factory, f);
    }
  });

  it('refuses malformed strings with exit 2', () => {
    for (const f of [
      '',
      'IVF64',
      'IVF64,Flat,Flat',
      'Flat,RFlat,RFlat',
      'PQ8x8fs',
      'IVF64,PQ8x4fs(',
      'IMI4x8,Flat',
      'HNSW32,PQ8x4fs',
      'IVF99999999999,Flat',
    ]) {
      assert.throws(() => parseFactory(f), UsageError, f);
    }
  });

  it('derives the training minimum from the parse', () => {
    assert.equal(parseFactory('IVF1024,PQ8x4').minTrainVectors, 1024);
    assert.equal(parseFactory('PQ8x10').minTrainVectors, 1024);
    assert.equal(parseFactory('HNSW32').minTrainVectors, 0);
    assert.equal(parseFactory('OPQ8,IVF16,PQ8').minTrainVectors, 256);
  });

  it('faissReason strips the C++ location', () => {
    assert.equal(
      faissReason(
        "Error in void faiss::ProductQuantizer::set_derived_values() at /root/src/faiss/impl/ProductQuantizer.cpp:59: Error: 'd % M == 0' failed: bad",
      ),
      "'d % M == 0' failed: bad",
    );
  });
});

describe('a recorded factory string is checked the same way (write-manifest, legacy manifests)', () => {
  it('write-manifest --factory IVF0,Flat is refused (exit 2), not built in process (it SIGSEGVed)', () => {
    const root = path.join(dir, 'adopt-ivf0');
    const built = buildBounded(root, 'Flat');
    assert.equal(built.code, 0, built.stderr);
    const version = entries(root, 'versions')[0]!;
    for (const factory of ['IVF0,Flat', 'PQ0']) {
      const res = runCli(['--root', root, 'write-manifest', version, '--factory', factory]);
      // A signal death shows as code null.
      assert.equal(res.code, 2, `${factory}: ${res.stderr}`);
      assert.match(res.stderr, /is 0/);
    }
  });
});
