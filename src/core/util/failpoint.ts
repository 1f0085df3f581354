/**
 * Named crash points for the crash tests (test/crash.test.ts): when INDEXCTL_FAILPOINT names one,
 * the process SIGKILLs itself there, exactly as a power cut or an OOM kill would stop it, so the
 * tests can prove that every such stop leaves CURRENT and versions/ intact. A no-op otherwise.
 *
 * The one variable core reads itself (the others are read by src/cli.ts and passed as options): a
 * test hook must reach the exact point deep in build, publish and the probe child without every
 * caller in between carrying an option that production never sets.
 */
export type FailpointName =
  | 'lock:acquired'
  | 'build:index-written'
  | 'build:idmap-written'
  | 'build:catalog-written'
  | 'build:manifest-written'
  | 'build:before-rename'
  | 'build:after-rename'
  | 'publish:symlink-made'
  | 'publish:renamed'
  | 'publish:before-log'
  | 'publish:logged'
  /** In the index probe, before a search: a search that kills the probe, for verify's crash report. */
  | 'verify:probe-search'
  /** In the index probe, before read_index: a read that kills the probe (readers' probe route). */
  | 'probe:read'
  /** Holdpoints (`:hold` only): mid-work, where a signal must cancel the command. */
  | 'build:adding'
  | 'tune:sweeping'
  | 'verify:hashing';

/**
 * `INDEXCTL_FAILPOINT=<name>` SIGKILLs the process there; `<name>:stop` SIGSTOPs it instead, so a
 * test can hold a writer mid-work (a build that has not sealed) for as long as it needs, then SIGCONT it.
 */
export function failpoint(name: FailpointName): void {
  const wanted = process.env.INDEXCTL_FAILPOINT;
  if (wanted === name) process.kill(process.pid, 'SIGKILL');
  else if (wanted === `${name}:stop`) process.kill(process.pid, 'SIGSTOP');
}

/**
 * `INDEXCTL_FAILPOINT=<name>:hold` parks the caller at `name` (the event loop keeps turning, so
 * signals are handled) until `signal` aborts, or 120 s pass; `<name>:hold=<ms>` parks it that long,
 * then lets it go on. The signal and progress tests cancel or watch a build, tune or verify that is
 * certainly mid-work, whatever the machine's speed. A no-op otherwise.
 */
export async function holdpoint(name: FailpointName, signal: AbortSignal | undefined): Promise<void> {
  const wanted = process.env.INDEXCTL_FAILPOINT ?? '';
  const m = new RegExp(`^${name.replace(/[.:]/g, '\\$&')}:hold(?:=(\\d+))?$`).exec(wanted);
  if (!m) return;
  const ms = m[1] !== undefined ? Number(m[1]) : 120_000;
  // A cancellation that came before the hold (an 'abort' listener added now would never fire): the
  // command stops here as it would have at its next check, instead of holding past the grace period.
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
