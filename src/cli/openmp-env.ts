/**
 * The CLI runs FAISS with OpenMP threads that sleep instead of spinning while they wait
 * (`OMP_WAIT_POLICY=PASSIVE`), unless the operator chose a policy. libgomp's default busy-waits at
 * every barrier, and FAISS's training is thousands of short parallel regions (a PQ's sub-quantizer
 * k-means): with any other process on the box, the threads spin for a thread that is not running.
 * Measured here (docs/PERFORMANCE.md "OpenMP wait policy"): `train` of IVF1024,PQ32np on 10M x 128
 * took 42 s by default and 24 s passive on a quiet box, 460 s against ~25 s on a busy one; adds and
 * searches were no slower passive. libgomp reads the variable once, when the addon loads it, so this
 * runs at the process edge before any command; library callers keep their own environment.
 */
export const OPENMP_WAIT_POLICY = 'PASSIVE';

export function defaultOpenMpWaitPolicy(env: NodeJS.ProcessEnv): void {
  if (env.OMP_WAIT_POLICY === undefined || env.OMP_WAIT_POLICY === '')
    env.OMP_WAIT_POLICY = OPENMP_WAIT_POLICY;
}
