/**
 * Turning a factory string into an empty IndexIDMap2-wrapped index, with the failures a user can
 * cause (a string FAISS rejects, too few vectors to train) reported as bad input.
 */
import { BadInputError, FaissError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import type { BuildMetric } from './plan.js';

/** `IDMap2,` given by the user is dropped: indexctl always wraps in code (1.7.3 misplaces it). */
export function innerFactory(factory: string): string {
  return factory.replace(/^\s*IDMap2?\s*,\s*/i, '').trim();
}

export function createWrappedIndex(dim: number, factory: string, metric: BuildMetric): FaissIndex {
  try {
    return FaissIndex.fromFactory(dim, innerFactory(factory), metric === 'l2' ? 'l2' : 'ip').wrapIdMap2();
  } catch (err) {
    if (err instanceof FaissError) {
      throw new BadInputError(`--factory ${JSON.stringify(factory)}: FAISS rejected it: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** The fewest training vectors FAISS accepts for this factory: one per IVF list / PQ centroid. */
export function minimumTrainVectors(factory: string): number {
  let needed = 0;
  const ivf = /(?:^|,)\s*IVF(\d+)/.exec(factory);
  if (ivf) needed = Math.max(needed, Number(ivf[1]));
  const pq = /(?:^|,)\s*PQ(\d+)(?:x(\d+))?/.exec(factory);
  if (pq) needed = Math.max(needed, 2 ** Number(pq[2] ?? 8));
  return needed;
}

export function checkEnoughToTrain(factory: string, vectors: number, file: string): void {
  const needed = minimumTrainVectors(factory);
  if (vectors < needed) {
    throw new BadInputError(
      `${file}: ${vectors} vectors are too few to train ${factory} (needs at least ${needed}; FAISS recommends ` +
        `39 or more per centroid). Use a smaller index, e.g. --factory Flat or --factory auto`,
    );
  }
}
