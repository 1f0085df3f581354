/**
 * Facts about this installation that need no native code: the package version, and which FAISS the
 * addon was linked against (written by scripts/build-native.js next to the addon at build time).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from './paths.js';

export interface FaissBuildFacts {
  version: string;
  simd: string;
  source: string;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** undefined when the addon has not been built. */
export function faissBuildFacts(): FaissBuildFacts | undefined {
  try {
    return JSON.parse(
      readFileSync(path.join(packageRoot, 'build/faiss-info.json'), 'utf8'),
    ) as FaissBuildFacts;
  } catch {
    return undefined;
  }
}

export function versionLine(): string {
  const faiss = faissBuildFacts();
  const faissPart = faiss
    ? `FAISS ${faiss.version} ${faiss.simd} (${faiss.source})`
    : 'FAISS addon not built';
  return `indexctl ${packageVersion()}, ${faissPart}, Node ${process.versions.node}`;
}
