/**
 * Where the FAISS addon may be, in the order the loader tries it, shared by the loader (native.ts),
 * `--version`/`status` (build-info.ts, which must name the FAISS of the addon that will actually be
 * loaded) and the package's install script (scripts/install.js). No native code is loaded here.
 *
 * Order (node-gyp-build's): INDEXCTL_ADDON alone when set; else a local build (build/Release,
 * build/Debug), then the prebuild shipped in the npm package (prebuilds/<platform>-<arch>/). An
 * installed package has a local build only when its install script compiled one because the prebuild
 * did not load, so the local build winning is what makes that fallback take effect; in a checkout the
 * local build is the one a developer just compiled, while prebuilds/ is a copy made by `npm pack`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../util/paths.js';

export const ADDON_FILE = 'indexctl_faiss.node';
export const INFO_FILE = 'faiss-info.json';
/** Written by scripts/install.js next to a prebuild that did not load on this machine. */
export const LOAD_FAILED_FILE = 'load-failed.txt';

export type AddonKind = 'env' | 'build' | 'prebuild';

export interface AddonCandidate {
  kind: AddonKind;
  file: string;
  /** The faiss-info.json describing this file (written when it was built), or undefined. */
  infoFile: string | undefined;
  /** Why this candidate is not tried on this machine, if so. */
  skip?: string;
}

export function prebuildDir(): string {
  return path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
}

/** build/Release/x.node is described by build/faiss-info.json; a prebuild by its sibling file. */
function infoFileFor(file: string): string | undefined {
  const dir = path.dirname(file);
  const nearby = [path.join(dir, INFO_FILE)];
  if (['Release', 'Debug'].includes(path.basename(dir))) nearby.push(path.join(dir, '..', INFO_FILE));
  return nearby.find((f) => existsSync(f));
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/**
 * A prebuild compiled for AVX2 dies with SIGILL on a CPU without it, after loading fine, so the
 * check has to happen before loading. A recorded load failure (from the install script) also skips
 * it, so `--version` does not name a FAISS that cannot be loaded here.
 */
function prebuildSkipReason(dir: string, infoFile: string | undefined): string | undefined {
  const failed = path.join(dir, LOAD_FAILED_FILE);
  if (existsSync(failed)) {
    return `did not load at install time (${readFileSync(failed, 'utf8').trim()}); see ${failed}`;
  }
  const facts = infoFile ? readFacts(infoFile) : undefined;
  if (facts?.simd === 'avx2' && process.platform === 'linux' && !cpuFlags().has('avx2')) {
    return 'built for AVX2, which this CPU lacks';
  }
  return undefined;
}

export function readFacts(infoFile: string): { version: string; simd: string; source: string } | undefined {
  try {
    return JSON.parse(readFileSync(infoFile, 'utf8')) as { version: string; simd: string; source: string };
  } catch {
    return undefined;
  }
}

export function addonCandidates(): AddonCandidate[] {
  // Read here, not at the edge: the loader runs for the library, the CLI, the probe children and
  // scripts/install.js alike, and all of them must load the same addon.
  const fromEnv = process.env.INDEXCTL_ADDON;
  // An explicit choice must not fall back silently to another addon.
  if (fromEnv) return [{ kind: 'env', file: fromEnv, infoFile: infoFileFor(fromEnv) }];
  const local = ['Release', 'Debug'].map((dir): AddonCandidate => {
    const file = path.join(packageRoot, 'build', dir, ADDON_FILE);
    return { kind: 'build', file, infoFile: infoFileFor(file) };
  });
  const dir = prebuildDir();
  const file = path.join(dir, ADDON_FILE);
  const infoFile = infoFileFor(file);
  const skip = existsSync(file) ? prebuildSkipReason(dir, infoFile) : undefined;
  return [...local, { kind: 'prebuild', file, infoFile, ...(skip ? { skip } : {}) }];
}

/** The candidate the loader will try first: present on disk and not skipped. */
export function firstPresentAddon(): AddonCandidate | undefined {
  return addonCandidates().find((c) => !c.skip && existsSync(c.file));
}
