/**
 * Ctrl-C, SIGTERM and SIGHUP cancel the running command instead of killing the process outright, so
 * the command's cleanup runs: the first signal aborts the command's AbortSignal (reason: an
 * InterruptedError), core stops at its next check between batches, removes its staging directory
 * and releases the writer lock, and the runner prints one line and exits 128 + signo. A FAISS call
 * or a file copy in flight cannot be stopped, so if cleanup has not finished within GRACE_MS the
 * process exits anyway (the writer lock is released by its 'exit' hook; a staging directory left
 * behind belongs to a dead pid, which the next build or gc removes). A second signal exits at once.
 */
import { CANCEL_SIGNALS, InterruptedError, type CancelSignal } from '../core/errors.js';

/** Cleanup time after the first signal; the process always ends within this plus a little. */
export const GRACE_MS = 1_500;

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
        process.exit(CANCEL_SIGNALS[sig]);
      }
      controller.abort(new InterruptedError(sig));
      cancellation.onCancel?.(sig);
      setTimeout(() => {
        const words = cancellation.lastWords?.();
        if (words) write(words);
        process.exit(CANCEL_SIGNALS[sig]);
      }, GRACE_MS);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  return cancellation;
}
