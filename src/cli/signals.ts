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
 * The deadline is kept by the exit guard (core/exit-guard.ts), a native thread: on a busy machine
 * the main thread can be held seconds by one synchronous stretch (a wasm encode, a native call), so
 * neither this handler nor a timer would run in time (measured: the handler ran 1.9 s after the
 * signal). At the deadline the guard removes the staging directory and the lock itself, writes the
 * line and exits; a second signal does the same at once. Without the addon, a timer here.
 *
 * The exit itself must not wait either: process.exit() runs libuv's shutdown, which joins the thread
 * pool, so it waits for whatever FAISS batch, DuckDB query or file copy is in flight (measured: a
 * cancelled 200k x 64 build spent 0.5 s in process.exit with six CPU burners beside it, a
 * thread-pool task of 1.3 s held it 1.3 s). After a cancellation the process runs its 'exit' hooks
 * (the writer lock's release) and then ends with _exit(2) (hardExit).
 */
import { CANCEL_SIGNALS, InterruptedError, type CancelSignal } from '../core/errors.js';
import { armExitGuard, exitNow, startExitGuard } from '../core/exit-guard.js';

/**
 * Cleanup time after the first signal; the process always ends within this plus its exit. 0.6 s:
 * an unloaded machine cleans up in tens of milliseconds, and past this the exit guard does the
 * cleanup that matters itself (staging, lock). The rest of the 2 s promise (docs/operations.md) is
 * for the exit on a busy machine: the guard's unlink of a file another thread is writing waits for
 * that write(2) and the journal (measured with six CPU burners: up to 0.3 s), and the kernel's end
 * of the process waits for each thread to be scheduled and for a flush in flight (0.2-0.25 s).
 */
export const GRACE_MS = 600;

/**
 * Ends the process now with `code`: the 'exit' listeners run (the lock's release), then _exit(2),
 * which does not wait for thread-pool work in flight (native/exit_guard.cc). process.exit() where
 * the checksum addon cannot load.
 */
export function hardExit(code: number): never {
  process.exitCode = code;
  process.emit('exit', code);
  exitNow(code);
  // No checksum addon (which carries _exit): the ordinary exit, which may wait for the thread pool.
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
      // The guard's thread keeps the deadline, and keeps it while this thread is busy. A signal
      // held while the modules loaded was not seen by it: started from here.
      if (guarded) {
        startExitGuard(CANCEL_SIGNALS[sig] - 128);
        return;
      }
      setTimeout(() => {
        const words = cancellation.lastWords?.();
        if (words) write(words);
        hardExit(CANCEL_SIGNALS[sig]);
      }, GRACE_MS);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
  // After the listeners: the guard chains onto the handlers libuv installed for them.
  const guarded = armExitGuard(GRACE_MS);
  return cancellation;
}
