/**
 * Whether a process that left something behind (a lock, a staging dir) is still running on this
 * host. A pid alone can be reused after the process dies, so Linux's boot id and the process start
 * time (from /proc) identify a process instance; elsewhere only the pid is checked.
 */
import { readFileSync } from 'node:fs';

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process start time in clock ticks since boot (/proc/<pid>/stat field 22), if readable. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Changes on every reboot, so a pid recorded before a reboot is never mistaken for a live one. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

export interface ProcessIdentity {
  pid: number;
  /** Absent where /proc is not available. */
  pidStart?: string;
  bootId?: string;
}

export function selfIdentity(): ProcessIdentity {
  const start = processStartTicks(process.pid);
  const boot = bootId();
  return {
    pid: process.pid,
    ...(start === undefined ? {} : { pidStart: start }),
    ...(boot === undefined ? {} : { bootId: boot }),
  };
}

/**
 * Whether the process instance described by `who` (recorded on this host) is still running. Errs on
 * the side of "alive" when it cannot tell, since a wrong "dead" would let two writers in.
 */
export function isProcessAlive(who: ProcessIdentity): boolean {
  const boot = bootId();
  if (who.bootId !== undefined && boot !== undefined && who.bootId !== boot) return false;
  if (!isPidAlive(who.pid)) return false;
  if (who.pidStart !== undefined) {
    const start = processStartTicks(who.pid);
    if (start !== undefined && start !== who.pidStart) return false;
  }
  return true;
}
