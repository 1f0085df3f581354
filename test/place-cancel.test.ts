/**
 * The version's chunks file is placed under the build's (or merge's) AbortSignal: the addon's hashed
 * copy stops between two blocks, a dataset's COPY through DuckDB is interrupted, and either throws
 * the signal's reason, leaving no partial copy. Before, a cancellation waited for the whole copy
 * (seconds for gigabytes on a busy machine: signals-load's "merge, Ctrl-C mid-way" once ran out of
 * its grace period and left the staging directory).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { placeChunks, placeDataset } from '../src/core/build/place.js';
import { loadNative } from '../src/core/faiss/native.js';
import { writeChunks } from './helpers/chunks.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-place-cancel-');

describe('placing the chunks file stops when the signal aborts', () => {
  const skip = loadNative().copyFileHashedAsync ? false : 'addon built without libxxhash-dev';

  it('the hashed copy: rejects with the reason, no partial copy left', { skip }, async () => {
    const from = path.join(dir, 'big.bin');
    // 256 MiB: far more blocks than can be copied before the abort below is seen.
    writeFileSync(from, Buffer.alloc(256 << 20, 3));
    const to = path.join(dir, 'copy.bin');
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const placing = placeChunks(from, to, false, controller.signal);
    controller.abort(reason);
    await assert.rejects(placing, (err) => err === reason);
    assert.equal(existsSync(to), false, 'the part copied was removed');
  });

  it('an uncancelled copy is whole, with its digest', { skip }, async () => {
    const from = path.join(dir, 'small.bin');
    writeFileSync(from, Buffer.alloc(5 << 20, 9));
    const to = path.join(dir, 'small-copy.bin');
    const digest = await placeChunks(from, to, false, new AbortController().signal);
    assert.equal(digest?.bytes, 5 << 20);
    assert.equal(existsSync(to), true);
  });

  it("a dataset's COPY: DuckDB is interrupted, the reason thrown", async () => {
    const part = path.join(dir, 'part.parquet');
    await writeChunks(part, { rows: 100_000, dim: 64, rowGroupSize: 8192 });
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    // Eight times the same file: seconds of COPY, which the abort lands in.
    const placing = placeDataset(Array(8).fill(part), path.join(dir, 'dataset.parquet'), {
      linkChunks: false,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(reason), 150);
    await assert.rejects(placing, (err) => err === reason);
  });

  it('an aborted signal stops before any work', async () => {
    const controller = new AbortController();
    const reason = new Error('already cancelled');
    controller.abort(reason);
    const to = path.join(dir, 'never.parquet');
    await assert.rejects(
      placeChunks(path.join(dir, 'small.bin'), to, false, controller.signal),
      (err) => err === reason,
    );
    await assert.rejects(
      placeDataset([path.join(dir, 'part.parquet'), path.join(dir, 'part.parquet')], to, {
        linkChunks: false,
        signal: controller.signal,
      }),
      (err) => err === reason,
    );
    assert.equal(existsSync(to), false);
  });
});
