/**
 * Library readers run in a child, so that a crash is a signal the test can see rather than the end
 * of the test process: `open ROOT VERSION QUERY.f32` opens the version with openIndex and searches
 * it; `follow ROOT TO QUERY.f32` follows CURRENT, flips it by hand (as an operator's `ln -sfn` would,
 * past publish's gate) to TO and searches after the follower looked. Prints one JSON line.
 */
import { readFileSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { openIndex } from '../../src/core/search/open-index.js';

const [op, root, version, queryFile] = process.argv.slice(2) as [string, string, string, string];
const raw = readFileSync(queryFile);
const query = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);

function errorOf(err: unknown): { name: string; message: string } {
  return err instanceof Error
    ? { name: err.name, message: err.message }
    : { name: 'unknown', message: String(err) };
}

try {
  if (op === 'open') {
    const handle = await openIndex({ root, version });
    const hits = await handle.search(query, 5);
    await handle.close();
    console.log(JSON.stringify({ opened: true, hits: hits[0]!.length }));
  } else if (op === 'follow') {
    const following = await openIndex({ root, follow: true }, { watch: false, pollIntervalMs: 60_000 });
    const from = following.version;
    const tmp = path.join(root, `CURRENT.by-hand`);
    symlinkSync(path.join('versions', version), tmp);
    renameSync(tmp, path.join(root, 'CURRENT'));
    await following.refresh();
    const hits = await following.search(query, 5);
    const { errors, lastError } = following.stats;
    await following.close();
    console.log(
      JSON.stringify({
        from,
        serving: following.version,
        errors,
        lastError: lastError && errorOf(lastError),
        hits: hits[0]!.length,
      }),
    );
  } else throw new Error(`unknown op ${op}`);
} catch (err) {
  console.log(JSON.stringify({ error: errorOf(err) }));
}
