import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set size in MB, from /proc/self/status VmHWM. Not getrusage's maxRSS:
 * Linux carries that across fork+exec, so a child spawned by a parent holding 1.5 GB reported 1.5 GB.
 */
export function peakRssMB(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}
