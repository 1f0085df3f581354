/** Turning commander's raw option values into typed ones, with usage errors (exit 2) that name the flag. */
import { UsageError } from '../core/errors.js';
import { parseSize } from '../core/build/plan.js';
import { parseSeconds } from '../core/lifecycle/duration.js';

export function requiredString(options: Record<string, unknown>, name: string, command: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '')
    throw new UsageError(`${command}: --${flagName(name)} is required`);
  return value;
}

export function optionalString(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A non-negative integer flag (`min` 1 unless said otherwise). */
export function optionalInt(options: Record<string, unknown>, name: string, min = 1): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flagName(name)} must be an integer >= ${min}, got ${String(value)}`);
  }
  return n;
}

/** A positive number of seconds, fractions allowed (`--probe-timeout 0.5`). */
export function optionalSeconds(options: Record<string, unknown>, name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  return parseSeconds(String(value), `--${flagName(name)}`);
}

/** A size in bytes, with an optional unit (`--probe-memory 8G`). */
export function optionalSize(options: Record<string, unknown>, name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const bytes = parseSize(String(value), `--${flagName(name)}`);
  if (bytes < 1)
    throw new UsageError(`--${flagName(name)} must be at least 1 byte, got ${JSON.stringify(value)}`);
  return bytes;
}

export function oneOf<T extends string>(
  options: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = options[name] ?? fallback;
  if (!allowed.includes(value as T)) {
    throw new UsageError(`--${flagName(name)} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** commander camel-cases flags: trainSample -> train-sample. */
function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
