/** Opening a version's faiss.index in this process: shared by search, export-idmap and write-manifest. */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { InvariantViolationError, NotFoundError } from '../errors.js';
import { checkIndexFile } from '../faiss/file-header.js';
import { FaissIndex } from '../faiss/index.js';

/**
 * Reads a version's faiss.index (IVF lists mmapped) and checks it is an IDMap2 whose rows carry ids.
 * FAISS reads it in this process, so its counts are first checked against its size
 * (checkIndexFile: IndexCorruptionError): a resealed header claiming 2^63-1 vectors crashes
 * read_index (SIGSEGV) or makes it allocate without end.
 */
export async function readVersionIndex(versionDir: string): Promise<FaissIndex> {
  const file = path.join(versionDir, 'faiss.index');
  if (!existsSync(file)) throw new NotFoundError(`${file}: missing`);
  await checkIndexFile(file);
  const index = await FaissIndex.readAsync(file, { mmap: true, readOnly: true });
  if (!index.className.startsWith('IndexIDMap2<')) {
    const className = index.className;
    index.dispose();
    throw new InvariantViolationError(
      `${file}: is ${className}, not an IndexIDMap2: its rows carry no external ids (wrap it with faiss.IndexIDMap2)`,
    );
  }
  return index;
}
