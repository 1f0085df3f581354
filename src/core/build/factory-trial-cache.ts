/**
 * What a factory trial (factory-probe.ts) found, remembered per machine: constructing, adding to
 * and searching an index of a given factory, dimension and metric gives the same answer every time
 * with the same FAISS, so once a trial passed, the next build of that shape (a nightly rebuild)
 * does not start a child again. Only passes are remembered: a factory that failed is tried again
 * (and fails again, with its message). The key holds indexctl's version and the loaded FAISS build
 * (version, SIMD level, source), so a new FAISS or a new indexctl tries afresh.
 *
 * Entries are small JSON files under `$INDEXCTL_CACHE_DIR` or `$XDG_CACHE_HOME/indexctl`
 * (default `~/.cache/indexctl`), in `factory-trials/`. Any failure to read or write one (a read-only
 * home, a damaged entry) only means the trial runs: the cache can make a build faster, never fail it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { packageVersion } from '../build-info.js';
import { loadNative } from '../faiss/native.js';

export interface TrialOutcome {
  isTrained: boolean;
  className: string;
}

/** Where entries live; undefined when no home directory is known (nothing is cached). */
export function factoryTrialCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base =
    env.INDEXCTL_CACHE_DIR ??
    (env.XDG_CACHE_HOME ? path.join(env.XDG_CACHE_HOME, 'indexctl') : undefined) ??
    (os.homedir() ? path.join(os.homedir(), '.cache', 'indexctl') : undefined);
  return base === undefined ? undefined : path.join(base, 'factory-trials');
}

function entryFile(dim: number, factory: string, metric: string): string | undefined {
  const dir = factoryTrialCacheDir();
  if (dir === undefined) return undefined;
  const key = JSON.stringify({
    indexctl: packageVersion(),
    faiss: loadNative().buildInfo,
    dim,
    factory,
    metric,
  });
  return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
}

/** A remembered pass of this trial, or undefined (never seen, unreadable, or not a pass). */
export function cachedTrial(dim: number, factory: string, metric: string): TrialOutcome | undefined {
  try {
    const file = entryFile(dim, factory, metric);
    if (file === undefined) return undefined;
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<TrialOutcome> & { factory?: unknown };
    if (
      typeof entry.isTrained !== 'boolean' ||
      typeof entry.className !== 'string' ||
      entry.factory !== factory
    ) {
      return undefined;
    }
    return { isTrained: entry.isTrained, className: entry.className };
  } catch {
    return undefined;
  }
}

/** Remembers a pass (written next to its name and renamed, so a reader sees all of it or none). */
export function rememberTrial(dim: number, factory: string, metric: string, outcome: TrialOutcome): void {
  let temporary: string | undefined;
  try {
    const file = entryFile(dim, factory, metric);
    if (file === undefined) return;
    mkdirSync(path.dirname(file), { recursive: true });
    temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ factory, dim, metric, ...outcome })}\n`);
    renameSync(temporary, file);
  } catch {
    try {
      if (temporary) rmSync(temporary, { force: true });
    } catch {
      // nothing to do: a stray .tmp in a cache directory harms no build
    }
  }
}
