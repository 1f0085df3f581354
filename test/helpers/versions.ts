/** Roots with real versions for lifecycle tests: each built by build() from its own chunks file. */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

import { build } from '../../src/core/build/build.js';
import { ensureRoot } from '../../src/core/layout.js';
import { writeChunks, type ChunkFixture } from './chunks.js';

export interface VersionSpec extends ChunkFixture {
  name: string;
}

/** Builds each version (Flat, small) into `root`; chunks files go next to the root. */
export async function buildVersions(root: string, specs: VersionSpec[]): Promise<void> {
  await ensureRoot(root);
  for (const { name, ...fixture } of specs) {
    const chunks = path.join(path.dirname(root), `${path.basename(root)}-${name}.parquet`);
    await writeChunks(chunks, { rows: 200, dim: 8, ...fixture });
    await build({ root, chunks, factory: 'Flat', version: name });
  }
}

/** Flips one byte in the middle of a file: its checksum no longer matches the manifest. */
export { flipByte as corruptByte } from './tamper.js';

export function logLines(root: string): Record<string, unknown>[] {
  try {
    return readFileSync(path.join(root, 'publish.log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export function currentTarget(root: string): string | undefined {
  try {
    return readlinkSync(path.join(root, 'CURRENT'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every path under `dir` with its size and mtime: "nothing was written" is "the snapshot is equal". */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      // lstat: a symlink is described by itself; following it (CURRENT -> /tmp) made the snapshot
      // change whenever anything else wrote to the target.
      const s = lstatSync(p, { throwIfNoEntry: false });
      out.push(
        `${path.relative(dir, p)} ${e.isSymbolicLink() ? readlinkSync(p) : ''} ${s?.size ?? '-'} ${s?.mtimeMs ?? '-'}`,
      );
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}
