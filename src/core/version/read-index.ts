/**
 * Reading a faiss.index into this process, safely on any bytes: every in-process reader (search,
 * openIndex, tune, follow swaps and serve, build --base, merge, write-manifest, export-idmap) comes
 * through here, so none can be crashed by a file that `verify` rejects (docs/verify.md#readers).
 *
 * FAISS 1.7.3 trusts what a file says. read_index sizes vectors from the counts it reads (a resealed
 * ntotal of 2^63-1 crashes it or makes it allocate without end), and it accepts an HNSW link or an
 * IVF list size that points outside its arrays: the first search that follows one reads memory FAISS
 * never allocated (SIGSEGV). So, in order, each a failure as IndexCorruptionError naming the check:
 * 1. `index.header`: the serialization's counts against the file's size and each other (JS, no FAISS);
 * 2. where the header walk met a type it does not know, `index.load` in the bounded probe child
 *    first (a crash there is reported, not suffered);
 * 3. read_index, then `index.structure`: the native walk of links, lists and codes (FaissIndex.
 *    checkStructure), before anything can search what was read.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { FaissError, IndexCorruptionError, InvariantViolationError, NotFoundError } from '../errors.js';
import { checkIndexFile } from '../faiss/file-header.js';
import { FaissIndex, type ReadOptions } from '../faiss/index.js';
import { IndexProbe, ProbeCrash, probeBounds } from '../verify/probe-client.js';

/** `file: check: detail`, with the detail's own leading `file: ` dropped. */
function corruption(file: string, check: string, detail: string, cause?: unknown): IndexCorruptionError {
  const text = detail.startsWith(`${file}: `) ? detail.slice(file.length + 2) : detail;
  return new IndexCorruptionError(`${file}: ${check}: ${text}`, cause === undefined ? undefined : { cause });
}

/** read_index and the structure walk in the probe child: a file that crashes FAISS kills the child. */
async function loadInProbe(file: string): Promise<void> {
  const probe = new IndexProbe(probeBounds(statSync(file).size));
  try {
    const facts = await probe.load(file);
    if (!facts.structure.ok) {
      throw corruption(file, 'index.structure', facts.structure.firstProblem ?? 'no detail');
    }
  } catch (err) {
    if (err instanceof ProbeCrash)
      throw corruption(file, 'index.load', `crashed the FAISS reader (${err.message})`, err);
    if (err instanceof FaissError)
      throw corruption(file, 'index.load', `FAISS cannot read it: ${err.message}`, err);
    throw err;
  } finally {
    probe.close();
  }
}

/**
 * Reads `file` (read_index with `options`' flags) after index.header, and returns it only once
 * index.structure passed. Throws NotFoundError or IndexCorruptionError (`<file>: index.header: ...`,
 * `index.load`, `index.structure`).
 */
export async function readIndexChecked(file: string, options: ReadOptions = {}): Promise<FaissIndex> {
  if (!existsSync(file)) throw new NotFoundError(`${file}: missing`);
  let unknown: string | undefined;
  try {
    const shape = await checkIndexFile(file);
    if (shape.unknown) unknown = shape.unknown.fourcc;
  } catch (err) {
    if (err instanceof IndexCorruptionError) throw corruption(file, 'index.header', err.message, err);
    throw err;
  }
  if (unknown !== undefined) await loadInProbe(file);
  let index: FaissIndex;
  try {
    index = await FaissIndex.readAsync(file, options);
  } catch (err) {
    if (err instanceof FaissError)
      throw corruption(file, 'index.load', `FAISS cannot read it: ${err.message}`, err);
    throw err;
  }
  const structure = index.checkStructure();
  if (!structure.ok) {
    index.dispose();
    throw corruption(file, 'index.structure', structure.firstProblem ?? 'no detail');
  }
  return index;
}

/**
 * Reads a version's faiss.index for searching (IVF lists mmapped, read-only) through
 * readIndexChecked, and checks it is an IDMap2 whose rows carry ids.
 */
export async function readVersionIndex(versionDir: string): Promise<FaissIndex> {
  const file = path.join(versionDir, 'faiss.index');
  const index = await readIndexChecked(file, { mmap: true, readOnly: true });
  if (!index.className.startsWith('IndexIDMap2<')) {
    const className = index.className;
    index.dispose();
    throw new InvariantViolationError(
      `${file}: is ${className}, not an IndexIDMap2: its rows carry no external ids (wrap it with faiss.IndexIDMap2)`,
    );
  }
  return index;
}
