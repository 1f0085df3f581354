/**
 * Named crash points for the crash tests (test/crash.test.ts): when INDEXCTL_FAILPOINT names one,
 * the process SIGKILLs itself there, exactly as a power cut or an OOM kill would stop it, so the
 * tests can prove that every such stop leaves CURRENT and versions/ intact. A no-op otherwise.
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
  | 'verify:probe-search';

export function failpoint(name: FailpointName): void {
  if (process.env.INDEXCTL_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
