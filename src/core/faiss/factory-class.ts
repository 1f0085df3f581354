/**
 * Which FAISS class a factory string builds: how write-manifest and verify tell whether a recorded
 * factory (a `--factory` flag, or a Python manifest's `faiss_factory`) is the one an index was built
 * with. FAISS files do not record their factory string, but the class they hold is the next best.
 */
import { innerFactory } from '../build/factory.js';
import { parseFactory } from '../build/factory-check.js';
import { tryFactory } from '../build/factory-probe.js';
import { BadInputError, UsageError } from '../errors.js';

/** IndexFlat, IndexFlatL2 and IndexFlatIP are one structure; the rest of a class name must agree. */
export function sameStructure(a: string, b: string): boolean {
  const norm = (className: string) => className.replace(/\bIndexFlat(L2|IP)\b/g, 'IndexFlat');
  return norm(a) === norm(b);
}

/** `IDMap2,<factory>` as indexctl records it (a Python manifest may leave the wrapper out). */
export function withIdMap2(factory: string): string {
  return /^IDMap2?,/i.test(factory) ? factory : `IDMap2,${factory}`;
}

/**
 * The class name of an empty `IDMap2,<factory>` index of dimension `d` (e.g. `IndexIDMap2<IndexHNSWFlat>`).
 * The string passes build's grammar first and is built in a bounded child process (factory-probe.ts),
 * as build does: a recorded factory comes from a file (a Python manifest, a flag in a script) and
 * `IVF0,Flat` or `PQ0` would crash FAISS in this process. Throws BadInputError when the grammar or
 * FAISS rejects it.
 */
export async function factoryClassName(factory: string, d: number, metric: 'l2' | 'ip'): Promise<string> {
  const inner = innerFactory(factory);
  try {
    parseFactory(inner);
  } catch (err) {
    if (err instanceof UsageError) throw new BadInputError(err.message, { cause: err });
    throw err;
  }
  return (await tryFactory(d, inner, metric)).className;
}
