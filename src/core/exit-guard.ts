/**
 * The exit guard (native/exit_guard.cc): once armed by the CLI, a cancel signal starts a deadline
 * kept by a native thread, so the process ends within the grace period even while the main thread
 * is stuck in a synchronous stretch (wasm, a native call, JavaScript) that a busy machine stretches
 * to seconds. At the deadline, or at a second signal, the thread removes what was registered here
 * (staging directories, the writer lock if it is still ours), writes the command's line and exits
 * 128 + signo. When JavaScript's own cleanup finishes first, nothing changes.
 *
 * Core registers what must not outlive a cancelled process; registering is a no-op until the CLI
 * arms the guard (a library caller is never exited behind its back) or where the addon is missing.
 */
import { exitGuardAddon, type ExitGuardAddon } from './hash-addon.js';

let armed: ExitGuardAddon | undefined;

/**
 * Arms the guard for this process: call after the process's signal listeners are installed (the
 * guard chains onto them). False where the addon is missing: the caller keeps its own timer.
 */
export function armExitGuard(graceMs: number): boolean {
  const guard = exitGuardAddon();
  if (guard === undefined || !guard.armExitGuard(graceMs)) return false;
  armed = guard;
  return true;
}

/**
 * Starts the guard's grace period for signal number `signo` if no signal has (one delivered by
 * hand, as bin/indexctl.js does with those that came while the modules loaded).
 */
export function startExitGuard(signo: number): void {
  armed?.exitGuardStart(signo);
}

/** The line the guard writes at its deadline ("%SIGNAL%" becomes SIGINT, ...); '' for none. */
export function setExitGuardLine(text: string): void {
  armed?.exitGuardLine(text);
}

/**
 * Registers `dir` for removal if the process is ended by the guard; returns the deregistration
 * (call it once the directory is removed or renamed away).
 */
export function removeDirOnForcedExit(dir: string): () => void {
  return register('dir', dir, '');
}

/** Registers the lock file `file`, unlinked at a forced exit only while it still holds `token`. */
export function releaseLockOnForcedExit(file: string, token: string): () => void {
  return register('lock', file, token);
}

function register(kind: 'dir' | 'lock', file: string, token: string): () => void {
  const guard = armed;
  if (guard === undefined) return () => undefined;
  const id = guard.exitGuardRemove(kind, file, token);
  return () => guard.exitGuardForget(id);
}

/**
 * _exit(2) with `code` through the light addon (no FAISS to load on the way out); returns only
 * where the addon is missing.
 */
export function exitNow(code: number): void {
  exitGuardAddon()?.exitNow(code);
}
