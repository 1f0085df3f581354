/**
 * Sizes and durations, read from flags and the environment and written in messages, tables and
 * progress lines: sizes ("8G", "512MiB"), `gc --older-than` durations (a whole number and one unit,
 * e.g. 30m, 12h, 7d, 2w) and plain seconds (`--probe-timeout`, INDEXCTL_PROBE_TIMEOUT). Kept apart
 * from any command so verify, build and the CLI parsers share them without importing each other.
 */
import { UsageError } from '../errors.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export function parseDuration(text: string, flag = '--older-than'): number {
  const m = /^(\d{1,9})([smhdw])$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `${flag} expects a number and a unit (s, m, h, d, w), e.g. 7d, 12h or 30m; got ${JSON.stringify(text)}`,
    );
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** 90061000 -> "1d 1h 1m": for messages and tables. */
export function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 60_000);
  for (const [unit, size] of [
    ['d', 1440],
    ['h', 60],
    ['m', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(' ');
}

/** A positive, finite number of seconds, fractions allowed ("0.5", "600"); `what` names the source. */
export function parseSeconds(text: string, what: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`${what} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** "8G", "512MiB", "1.5gb", "1000000" -> bytes. */
export function parseSize(text: string, what = '--memory-budget'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*?)(?:i?b)?\s*$/i.exec(text);
  const unit = m ? m[2]!.toLowerCase() : undefined;
  if (!m || unit === undefined || !(unit in UNITS)) {
    throw new UsageError(`${what}: cannot read ${JSON.stringify(text)} as a size (e.g. 8G, 512M, 1.5GiB)`);
  }
  return Math.floor(Number(m[1]) * UNITS[unit]!);
}

/** 1536 -> "1.5 KiB": binary units, one decimal above bytes. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
