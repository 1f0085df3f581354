/**
 * Ctrl-C, SIGTERM and SIGHUP cancel the running command instead of killing the process outright, so
 * the command's cleanup runs: the first signal aborts the command's AbortSignal (reason: an
 * InterruptedError), core stops at its next check between batches, removes its staging directory
 * and releases the writer lock, and the runner prints one line and exits 128 + signo. A FAISS call
 * in flight cannot be stopped (file copies and hashes stop between blocks), so if cleanup has not
 * finished within GRACE_MS the process exits anyway (the writer lock is released by its 'exit'
 * hook; a staging directory left behind belongs to a dead pid, which the next build or gc removes).
 * A second signal exits at once.
 *
 * The exit itself must not wait either: process.exit() runs libuv's shutdown, which joins the thread
 * pool, so it waits for whatever FAISS batch, DuckDB query or file copy is in flight (measured: a
 * cancelled 200k x 64 build spent 0.5 s in process.exit with six CPU burners beside it, a
 * thread-pool task of 1.3 s held it 1.3 s). After a cancellation the process runs its 'exit' hooks
 * (the writer lock's release) and then ends with _exit(2) (hardExit).
 */
import { CANCEL_SIGNALS, InterruptedError, type CancelSignal } from '../core/errors.js';
import { loadNative } from '../core/faiss/native.js';

/**
 * Cleanup time after the first signal; the process always ends within this plus a little. 1.2 s
 * leaves the 2 s promise (docs/operations.md) room for a timer that fires late on a busy machine.
 */
export const GRACE_MS = 1_200;

/**
 * Ends the process now with `code`: the 'exit' listeners run (the lock's release), then _exit(2),
 * which does not wait for thread-pool work in flight. process.exit() where the addon cannot load.
 */
export function hardExit(code: number): never {
  process.exitCode = code;
  process.emit('exit', code);
  try {
    loadNative().exitNow(code);
  } catch {
    // No addon: the ordinary exit, which may wait for the thread pool.
  }
  process.exit(code);
}

export interface Cancellation {
  readonly signal: AbortSignal;
  /** Called once, when the first signal arrives (the runner says what is being stopped). */
  onCancel?: (signal: CancelSignal) => void;
  /** The message to print if the grace period runs out before the command stopped. */
  lastWords?: () => string;
  dispose(): void;
}

export function installSignalHandlers(write: (text: string) => void): Cancellation {
  const controller = new AbortController();
  const handlers = new Map<CancelSignal, () => void>();
  const cancellation: Cancellation = {
    signal: controller.signal,
    dispose() {
      for (const [sig, handler] of handlers) process.removeListener(sig, handler);
    },
  };
  for (const sig of Object.keys(CANCEL_SIGNALS) as CancelSignal[]) {
    const handler = (): void => {
      if (controller.signal.aborted) {
        // The second signal: the operator means it.
        hardExit(CANCEL_SIGNALS[sig]);
      }
      controller.abort(new InterruptedError(sig));
      cancellation.onCancel?.(sig);
      setTimeout(() => {
        const words = cancellation.lastWords?.();
        if (words) write(words);
        hardExit(CANCEL_SIGNALS[sig]);
      }, GRACE_MS);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  return cancellation;
}
