/**
 * Which FAISS class a factory string builds: how write-manifest and verify tell whether a recorded
 * factory (a `--factory` flag, or a Python manifest's `faiss_factory`) is the one an index was built
 * with. FAISS files do not record their factory string, but the class they hold is the next best.
 */
import { createWrappedIndex } from '../build/factory.js';

/** IndexFlat, IndexFlatL2 and IndexFlatIP are one structure; the rest of a class name must agree. */
export function sameStructure(a: string, b: string): boolean {
  const norm = (className: string) => className.replace(/\bIndexFlat(L2|IP)\b/g, 'IndexFlat');
  return norm(a) === norm(b);
}

/**
 * The class name of an empty `IDMap2,<factory>` index of dimension `d` (e.g. `IndexIDMap2<IndexHNSWFlat>`).
 * Throws BadInputError when FAISS rejects the factory string.
 */
export function factoryClassName(factory: string, d: number, metric: 'l2' | 'ip'): string {
  const built = createWrappedIndex(d, factory, metric);
  try {
    return built.className;
  } finally {
    built.dispose();
  }
}
