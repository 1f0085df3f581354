/**
 * Turning a factory string into an empty IndexIDMap2-wrapped index, with the failures a user can
 * cause (a string FAISS rejects, too few vectors to train) reported as bad input.
 */
import { BadInputError, FaissError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { faissReason, type FactoryShape } from './factory-check.js';
import type { BuildMetric } from './plan.js';

/** `IDMap2,` given by the user is dropped: indexctl always wraps in code (1.7.3 misplaces it). */
export function innerFactory(factory: string): string {
  return factory.replace(/^\s*IDMap2?\s*,\s*/i, '').trim();
}

/** Call only with a string that passed parseFactory and tryFactory (factory-check, factory-probe). */
export function createWrappedIndex(dim: number, factory: string, metric: BuildMetric): FaissIndex {
  try {
    return FaissIndex.fromFactory(dim, innerFactory(factory), metric === 'l2' ? 'l2' : 'ip').wrapIdMap2();
  } catch (err) {
    if (err instanceof FaissError) {
      throw new BadInputError(
        `--factory ${JSON.stringify(factory)}: FAISS rejected it: ${faissReason(err.message)}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/**
 * The fewest training vectors FAISS accepts for this factory on `dim`-dimensional data: one per
 * IVF list or k-means centroid (from the parse), and for OPQ at least as many as its input
 * dimension (FAISS 1.7.3 corrupts its heap training OPQ48 at d=384 on 256 vectors).
 */
export function minimumTrainVectors(shape: FactoryShape, dim: number): number {
  let needed = shape.minTrainVectors;
  let d = dim;
  for (const c of shape.components) {
    if (c.kind !== 'transform') continue;
    if (c.text.startsWith('OPQ')) needed = Math.max(needed, d);
    d = c.dOut ?? d;
  }
  return needed;
}

export function checkEnoughToTrain(shape: FactoryShape, dim: number, vectors: number, file: string): void {
  const needed = minimumTrainVectors(shape, dim);
  if (vectors < needed) {
    throw new BadInputError(
      `${file}: ${vectors} vectors are too few to train ${shape.factory} (needs at least ${needed}; FAISS recommends ` +
        `39 or more per centroid). Use a smaller index, e.g. --factory Flat or --factory auto`,
    );
  }
}
