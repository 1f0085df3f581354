/**
 * Parsers for flag values: raw string in, typed value out. A bad value throws commander's
 * InvalidArgumentError, which commander reports as `option '--k <n>' argument 'x' is invalid. <why>`
 * with exit 2, so every flag's error names the flag and the value the same way.
 */
import { InvalidArgumentError } from 'commander';

import { parseDuration, parseSeconds, parseSize } from '../core/util/units.js';
import { IndexctlError } from '../core/errors.js';

export type Parser<V> = (raw: string) => V;

/** Core parsers throw UsageError with the flag in the text; here commander names the flag. */
function rethrowAsInvalid<V>(parse: () => V): V {
  try {
    return parse();
  } catch (err) {
    if (err instanceof IndexctlError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

export const text: Parser<string> = (raw) => {
  if (raw === '') throw new InvalidArgumentError('must not be empty');
  return raw;
};

/** A string kept as given, empty included (an empty version name is the name checker's to refuse). */
export const verbatim: Parser<string> = (raw) => raw;

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
      throw new InvalidArgumentError(`must be an integer ${range}`);
    }
    return n;
  };
}

/** A finite number in [min, max]; `exclusiveMin` for "greater than". */
export function decimal(min: number, max: number, exclusiveMin = false): Parser<number> {
  return (raw) => {
    const n = Number(raw);
    const low = exclusiveMin ? n > min : n >= min;
    if (raw.trim() === '' || !Number.isFinite(n) || !low || n > max) {
      const range = `${exclusiveMin ? '(' : '['}${min}, ${max === Infinity ? '∞)' : `${max}]`}`;
      throw new InvalidArgumentError(`must be a number in ${range}`);
    }
    return n;
  };
}

/** One of the integers in `choices` ("--level 1|2|3"). */
export function intChoice<const C extends readonly number[]>(choices: C): Parser<C[number]> {
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !choices.includes(n)) {
      throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    }
    return n as C[number];
  };
}

/** One of the strings in `choices`. */
export function choice<const C extends readonly string[]>(choices: C): Parser<C[number]> {
  return (raw) => {
    if (!choices.includes(raw)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    return raw as C[number];
  };
}

export const seconds: Parser<number> = (raw) => rethrowAsInvalid(() => parseSeconds(raw, 'the value'));

/** "7d", "12h", "30m" -> milliseconds. */
export const durationMs: Parser<number> = (raw) => rethrowAsInvalid(() => parseDuration(raw, 'the value'));

/** "8G", "512M", "1.5GiB" -> bytes. */
export const sizeBytes: Parser<number> = (raw) => {
  const bytes = rethrowAsInvalid(() => parseSize(raw, 'the value'));
  if (bytes < 1) throw new InvalidArgumentError('must be at least 1 byte');
  return bytes;
};

const MAX_ID = (1n << 63n) - 1n;

/** A chunk id: an integer in [0, 2^63-1], kept exact as a BigInt. */
export const chunkId: Parser<bigint> = (raw) => {
  if (!/^\d{1,19}$/.test(raw) || BigInt(raw) > MAX_ID) {
    throw new InvalidArgumentError('must be a chunk id (an integer in [0, 2^63-1])');
  }
  return BigInt(raw);
};

/** `key=value`, repeatable: each occurrence adds one entry to the record. */
export function attrs(raw: string, previous: Record<string, string> | undefined): Record<string, string> {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(raw);
  if (!m) throw new InvalidArgumentError(`--attr expects key=value, got ${JSON.stringify(raw)}`);
  return { ...previous, [m[1]!]: m[2]! };
}

/** `HOST:PORT` for a listening socket (`[::1]:8080` for IPv6); port 0 picks a free one. */
export const hostPort: Parser<{ host: string; port: number }> = (raw) => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new InvalidArgumentError(
      'must be HOST:PORT, e.g. 127.0.0.1:8765 (port 0-65535, [::1]:PORT for IPv6)',
    );
  }
  return { host: m[1] ?? m[2]!, port };
};
