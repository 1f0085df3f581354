/** Running lifecycle work under the writer lock (src/core/lock.ts), released however the work ends. */
import { acquireWriterLock } from '../lock.js';

export interface Locked<T> {
  result: T;
  /** How long the lock took to get: a cron log shows whether --wait was needed. */
  lockWaitSeconds: number;
}

export async function underWriterLock<T>(
  root: string,
  command: string,
  waitSeconds: number | undefined,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<Locked<T>> {
  const start = performance.now();
  const lock = await acquireWriterLock(root, {
    command,
    waitSeconds: waitSeconds ?? 0,
    ...(signal ? { signal } : {}),
  });
  const lockWaitSeconds = (performance.now() - start) / 1000;
  try {
    return { result: await work(), lockWaitSeconds };
  } finally {
    lock.release();
  }
}
