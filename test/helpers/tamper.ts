/**
 * Damaging a built version the ways verify must catch: byte flips, truncation, rewritten files, and
 * resealing (recomputing the manifest's checksums) so that a tampered file gets past level 1 and
 * the logical checks are the ones that must find it.
 */
import { closeSync, cpSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';

import {
  computeFileEntries,
  readManifest,
  writeManifestAtomic,
  type Manifest,
} from '../../src/core/manifest/schema.js';

export function versionPath(root: string, version: string): string {
  return path.join(root, 'versions', version);
}

/**
 * Copies a version under a new name (real copies: build hard-links chunks.parquet to its input, and
 * a test must not damage a file another version shares) and renames it in its manifest.
 */
export async function cloneVersion(root: string, from: string, to: string): Promise<string> {
  const dir = versionPath(root, to);
  cpSync(versionPath(root, from), dir, { recursive: true });
  await editManifest(dir, (m) => ({ ...m, version: to }));
  return dir;
}

export async function editManifest(dir: string, edit: (m: Manifest) => Manifest): Promise<void> {
  await writeManifestAtomic(dir, edit(await readManifest(dir)));
}

/** Recomputes sizes and checksums of every listed file, as if the damage had been there at build. */
export async function reseal(dir: string): Promise<void> {
  const manifest = await readManifest(dir);
  const files = await computeFileEntries(dir, Object.keys(manifest.files));
  await writeManifestAtomic(dir, {
    ...manifest,
    files,
    chunks_checksum: files['chunks.parquet']!.checksum,
    idmap_checksum: files['idmap.parquet']!.checksum,
    index_checksum: files['faiss.index']!.checksum,
  });
}

/** XORs the byte at `at` (default: the middle of the file) with 0xff. */
export function flipByte(file: string, at = Math.floor(statSync(file).size / 2)): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

/** Cuts the file to `fraction` of its size. */
export function truncate(file: string, fraction = 0.5): void {
  truncateSync(file, Math.floor(statSync(file).size * fraction));
}

/**
 * The offset of `hnsw.entry_point` in a faiss.index holding IndexIDMap2<IndexHNSWFlat>, from the
 * FAISS 1.7.3 format: "IxM2" + index header, "IHNf" + index header, then the HNSW vectors
 * assign_probas (double), cum_nneighbor_per_level (int), levels (int), offsets (size_t) and
 * neighbors (int), each a uint64 count and the values; entry_point (int32) follows.
 */
export function hnswEntryPointOffset(bytes: Buffer): number {
  // fourcc + d int32 + ntotal int64 + 2 dummy int64 + is_trained uint8 + metric_type int32 (l2/ip).
  const HEADER = 4 + 4 + 8 + 8 + 8 + 1 + 4;
  const tag = (at: number) => bytes.toString('latin1', at, at + 4);
  if (tag(0) !== 'IxM2' || tag(HEADER) !== 'IHNf') {
    throw new Error(`not IndexIDMap2<IndexHNSWFlat>: ${tag(0)} ${tag(HEADER)}`);
  }
  let at = 2 * HEADER;
  for (const width of [8, 4, 4, 8, 4]) {
    const count = Number(bytes.readBigUInt64LE(at));
    at += 8 + count * width;
  }
  return at;
}
