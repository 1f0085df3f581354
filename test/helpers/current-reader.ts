/**
 * A reader in another process, for test/publish-concurrency.test.ts: `node current-reader.js ROOT`.
 * Loops as a search service does — resolve CURRENT once, then open that version's files by their
 * own paths: read faiss.index, search one vector, and check that the manifest, the index and the
 * hits all belong to the version CURRENT named. Version `cK` has ids ≡ K (mod 1000), so a hit from
 * another version is caught. Prints {"event":"seen","version"} the first time it reads each version
 * (the first one before the test starts publishing), and one JSON line when stdin says "stop" (or
 * closes): {iterations, errors, seen}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setImmediate as tick } from 'node:timers/promises';

import { FaissIndex } from '../../src/core/faiss/index.js';
import { readCurrent } from '../../src/core/layout.js';

const root = process.argv[2]!;
let stop = false;
const lines = createInterface({ input: process.stdin });
lines.on('line', (l) => {
  if (l.trim() === 'stop') stop = true;
});
lines.on('close', () => (stop = true));

let iterations = 0;
const errors: string[] = [];
const seen = new Set<string>();
while (!stop && errors.length < 20) {
  try {
    const version = readCurrent(root);
    if (version !== undefined) {
      const dir = path.join(root, 'versions', version);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
        version: string;
        vectors_count: number;
        vec_dim: number;
      };
      const index = FaissIndex.read(path.join(dir, 'faiss.index'));
      try {
        if (manifest.version !== version)
          errors.push(`CURRENT ${version} but manifest says ${manifest.version}`);
        if (index.ntotal !== manifest.vectors_count) {
          errors.push(`${version}: index has ${index.ntotal} rows, manifest ${manifest.vectors_count}`);
        }
        const k = BigInt(version.slice(1));
        const { labels } = index.search(new Float32Array(manifest.vec_dim).fill(0.1), 3);
        for (const id of labels) {
          if (id % 1000n !== k) errors.push(`${version}: hit ${id} belongs to another version`);
        }
        if (!seen.has(version)) console.log(JSON.stringify({ event: 'seen', version }));
        seen.add(version);
        iterations++;
      } finally {
        index.dispose();
      }
    }
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  await tick();
}
console.log(JSON.stringify({ iterations, errors, seen: [...seen].sort() }));
lines.close();
process.stdin.destroy();
