/** Ids as the catalog binds them: 64-bit, exact, never Number. */
import { BadInputError } from '../errors.js';

const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;

/** The ids in the caller's order; anything that is not a 64-bit signed integer is refused. */
export function checkIds(ids: BigInt64Array | readonly bigint[]): bigint[] {
  if (ids instanceof BigInt64Array) return Array.from(ids);
  if (!Array.isArray(ids)) {
    throw new BadInputError('ids must be a BigInt64Array or an array of bigint');
  }
  for (const [index, id] of ids.entries()) {
    if (typeof id !== 'bigint' || id < MIN_INT64 || id > MAX_INT64) {
      throw new BadInputError(`ids[${index}] is not a 64-bit integer id: ${String(id)}`);
    }
  }
  return [...ids];
}

/** Each id once, in order of first appearance: what a query binds and what `missing` reports. */
export function distinct(ids: readonly bigint[]): bigint[] {
  return [...new Set(ids)];
}
