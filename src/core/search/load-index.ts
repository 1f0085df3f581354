/**
 * Loading a sealed version's faiss.index for searching: read-only, IVF lists mmapped, checked
 * against the manifest. The file's size is always compared with the manifest (a stat: free, and it
 * catches a truncated copy); its checksum only on request, because a service opening a 1.5 GB index
 * at every start should not hash it each time. Whatever the bytes, reading cannot crash the process:
 * readVersionIndex checks the header before FAISS reads it and walks the structure before anything
 * searches it (src/core/version/read-index.ts). `indexctl verify` remains the gate before publish.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

import { xxh64File } from '../checksum.js';
import { IndexCorruptionError, InvariantViolationError } from '../errors.js';
import type { FaissIndex } from '../faiss/index.js';
import { readVersionIndex } from '../version/read-index.js';
import { VERSION_FILES } from '../layout.js';
import type { Manifest } from '../manifest/schema.js';

export interface LoadIndexOptions {
  /** XXH64 the file and compare with the manifest before FAISS reads it (default false). */
  verifyChecksum?: boolean;
}

export async function loadVersionIndex(
  dir: string,
  manifest: Manifest,
  options: LoadIndexOptions = {},
): Promise<FaissIndex> {
  const file = path.join(dir, VERSION_FILES.index);
  const entry = manifest.files[VERSION_FILES.index];
  let bytes: number;
  try {
    bytes = statSync(file).size;
  } catch (err) {
    throw new IndexCorruptionError(`${file}: missing or unreadable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (entry && entry.bytes !== bytes) {
    throw new IndexCorruptionError(`${file}: ${bytes} bytes, the manifest records ${entry.bytes}`);
  }
  if (options.verifyChecksum) {
    const expected = entry?.checksum ?? manifest.index_checksum;
    const actual = await xxh64File(file);
    if (actual !== expected) {
      throw new IndexCorruptionError(`${file}: checksum ${actual}, the manifest records ${expected}`);
    }
  }
  // index.header, read_index, index.structure: IndexCorruptionError naming the check (read-index.ts).
  const index = await readVersionIndex(dir);
  const problems: string[] = [];
  if (index.d !== manifest.vec_dim)
    problems.push(`dimension ${index.d}, manifest vec_dim ${manifest.vec_dim}`);
  if (index.ntotal !== manifest.vectors_count) {
    problems.push(`${index.ntotal} vectors, manifest vectors_count ${manifest.vectors_count}`);
  }
  const expectedMetric = manifest.metric === 'l2' ? 'l2' : 'ip';
  if (index.metric !== expectedMetric)
    problems.push(`metric ${index.metric}, manifest metric ${manifest.metric}`);
  if (problems.length > 0) {
    index.dispose();
    throw new InvariantViolationError(`${file}: ${problems.join('; ')}`);
  }
  return index;
}
