/**
 * openIndex({ root, follow: true }) against real versions: publishes and rollbacks by the CLI in
 * another process while this process searches, a flip to a broken version, leases across a swap,
 * the poll without the watch, and close().
 */
import assert from 'node:assert/strict';
import { cpSync, truncateSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { IndexCorruptionError, UsageError } from '../src/core/errors.js';
import { flipCurrent, readCurrent } from '../src/core/layout.js';
import { FollowingIndex, type SwitchEvent } from '../src/core/search/follow.js';
import { openIndex } from '../src/core/search/open-index.js';
import { seededVectors } from '../src/core/util/random.js';
import { FLIP_DIM, buildFlipRoot, flipLoop, versionOfIds } from './helpers/flip-versions.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const root = path.join(dir, 'root');
const queries = seededVectors(4, FLIP_DIM, 3);

before(async () => {
  await buildFlipRoot(root);
  // A copy of b whose faiss.index no longer matches its manifest's size: it cannot be opened.
  cpSync(path.join(root, 'versions', 'b'), path.join(root, 'versions', 'broken'), { recursive: true });
  truncateSync(path.join(root, 'versions', 'broken', 'faiss.index'), 100);
});

/** Searches on the served version, returning the version each result set's ids belong to. */
async function searchOnce(following: FollowingIndex): Promise<{ served: string; found: string }> {
  return following.withHandle(async (handle) => {
    const hits = await handle.search(queries, 5);
    const sets = hits.map((h) => versionOfIds(h.map((x) => x.id)));
    assert.ok(
      sets.every((v) => v === sets[0]),
      `queries of one call answered by ${sets.join(', ')}`,
    );
    return { served: handle.version, found: sets[0]! };
  });
}

/** Resolves with the next switch event. */
function nextSwitch(following: FollowingIndex): Promise<SwitchEvent> {
  return once(following, 'switch').then(([event]) => event as SwitchEvent);
}

describe('openIndex({ root, follow: true })', () => {
  it('follows publishes and rollbacks from another process; every search succeeds on one version', async (t) => {
    await flipCurrent(root, 'a');
    const switches: SwitchEvent[] = [];
    const errors: Error[] = [];
    const following = await openIndex(
      { root, follow: true },
      { pollIntervalMs: 50, onSwitch: (e) => switches.push(e), onError: (e) => errors.push(e) },
    );
    try {
      assert.equal(following.version, 'a');
      const loop = flipLoop(root, 2);
      let finished = false;
      const ended = loop.done.then((r) => ((finished = true), r));
      const seen = new Set<string>();
      let searches = 0;
      while (!finished) {
        const { served, found } = await searchOnce(following);
        assert.equal(found, served, `a search served by ${served} returned ids of ${found}`);
        seen.add(served);
        searches++;
      }
      const result = await ended;
      assert.equal(result.code, 0, result.output);
      assert.equal(readCurrent(root), 'b');
      await following.refresh();
      assert.equal(following.version, 'b');
      const last = await searchOnce(following);
      assert.deepEqual(last, { served: 'b', found: 'b' });
      seen.add(last.served);
      assert.deepEqual([...seen].sort(), ['a', 'b']);
      assert.ok(searches > 0);
      t.diagnostic(`${searches} searches during 5 flips; ${switches.length} switches`);
      assert.deepEqual(errors, []);
      assert.equal(following.stats.errors, 0);
      assert.ok(switches.length >= 1);
      assert.equal(following.stats.switches, switches.length);
      // Each swap starts from the version served before it.
      switches.forEach((s, i) => i > 0 && assert.equal(s.from, switches[i - 1]!.to));
      assert.equal(switches.at(-1)!.to, 'b');
    } finally {
      await following.close();
    }
  });

  it('lets a search in flight finish on the old version, then closes it', async () => {
    await flipCurrent(root, 'a');
    const following = await openIndex({ root, follow: true }, { pollIntervalMs: 20 });
    try {
      const old = following.current;
      const swapped = nextSwitch(following);
      await following.withHandle(async (handle) => {
        await flipCurrent(root, 'b');
        assert.deepEqual(await swapped, { from: 'a', to: 'b' });
        assert.equal(following.version, 'b');
        // The lease still holds a: a second read on it works and answers from a.
        const hits = await handle.search(queries, 3);
        assert.equal(handle.version, 'a');
        assert.equal(versionOfIds(hits.flat().map((h) => h.id)), 'a');
      });
      // The last lease on a has ended: a is closed, b serves.
      await assert.rejects(old.search(queries, 1), UsageError);
      assert.equal((await searchOnce(following)).found, 'b');
    } finally {
      await following.close();
    }
  });

  it('keeps serving the old version when the new one fails to open, reports it once, recovers', async () => {
    await flipCurrent(root, 'a');
    const errors: Error[] = [];
    const events: Error[] = [];
    const following = await openIndex(
      { root, follow: true },
      { pollIntervalMs: 20, onError: (e) => errors.push(e) },
    );
    following.on('error', (e: Error) => events.push(e));
    try {
      await flipCurrent(root, 'broken');
      await following.refresh();
      assert.equal(following.version, 'a');
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof IndexCorruptionError, String(errors[0]));
      assert.match(errors[0]!.message, /broken\/faiss\.index: 100 bytes, the manifest records \d+/);
      assert.deepEqual(events, errors);
      assert.equal(following.stats.errors, 1);
      assert.equal(following.stats.lastError, errors[0]);
      // Searches go on, on a.
      assert.deepEqual(await searchOnce(following), { served: 'a', found: 'a' });
      // Polls that see the same broken CURRENT do not report it again.
      await following.refresh();
      await following.refresh();
      assert.equal(following.stats.errors, 1);
      // The next good publish is followed.
      const swapped = nextSwitch(following);
      await flipCurrent(root, 'b');
      assert.deepEqual(await swapped, { from: 'a', to: 'b' });
      assert.deepEqual(await searchOnce(following), { served: 'b', found: 'b' });
    } finally {
      await following.close();
    }
  });

  it('follows by polling alone when the watch is off', async () => {
    await flipCurrent(root, 'a');
    const following = await openIndex({ root, follow: true }, { pollIntervalMs: 10, watch: false });
    try {
      const swapped = nextSwitch(following);
      await flipCurrent(root, 'b');
      assert.deepEqual(await swapped, { from: 'a', to: 'b' });
    } finally {
      await following.close();
    }
  });

  it('close() stops following and refuses searches', async () => {
    await flipCurrent(root, 'a');
    const following = await openIndex({ root, follow: true }, { pollIntervalMs: 10 });
    const served = following.current;
    await following.close();
    await following.close();
    let switched = false;
    following.on('switch', () => (switched = true));
    await flipCurrent(root, 'b');
    await following.refresh();
    assert.equal(switched, false);
    assert.equal(following.version, 'a');
    await assert.rejects(following.search(queries, 1), UsageError);
    await assert.rejects(served.search(queries, 1), UsageError);
  });

  it('refuses follow together with a version, and a root without CURRENT', async () => {
    await assert.rejects(
      openIndex({ root, follow: true, version: 'a' } as never),
      (err: unknown) => err instanceof UsageError && /cannot be combined with a version/.test(err.message),
    );
    await assert.rejects(
      openIndex({ root: path.join(dir, 'nothing'), follow: true }),
      /index root not found/,
    );
  });
});
