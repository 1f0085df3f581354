/** Deterministic pseudo-random data (mulberry32), for samples, tests and self-checks. */

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n x d vectors, uniform in [-1, 1), the same for the same seed. */
export function seededVectors(n: number, d: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}
