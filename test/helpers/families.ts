/** Small real versions, one per index family, for the search and tune tests. */
import path from 'node:path';

import { build } from '../../src/core/build/build.js';
import { readManifest, writeManifestAtomic, type ManifestTuning } from '../../src/core/manifest/schema.js';
import { writeChunks } from './chunks.js';

/** Version name -> factory: every family openIndex and tune must handle. */
export const FAMILIES = {
  flat: 'Flat',
  hnsw: 'HNSW16',
  ivf: 'IVF16,Flat',
  pqr: 'IVF16,PQ4x4fs,RFlat',
} as const;

export type FamilyVersion = keyof typeof FAMILIES;

export const DIM = 16;

/** chunks.parquet (3000 x 16, ids i*1000+7) and one version per family under `<dir>/root`. */
export async function buildFamilies(dir: string): Promise<{ root: string; chunks: string }> {
  const chunks = path.join(dir, 'chunks.parquet');
  await writeChunks(chunks, { rows: 3000, dim: DIM });
  const root = path.join(dir, 'root');
  for (const [version, factory] of Object.entries(FAMILIES)) {
    await build({ root, chunks, factory, version });
  }
  return { root, chunks };
}

/** Sets a version's manifest tuning directly (what tune --write or a Python tool would store). */
export async function setTuning(root: string, version: string, tuning: ManifestTuning | null): Promise<void> {
  const dir = path.join(root, 'versions', version);
  await writeManifestAtomic(dir, { ...(await readManifest(dir)), tuning });
}
