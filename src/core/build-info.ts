/**
 * Facts about this installation that need no native code: the package version, and which FAISS the
 * addon was linked against (faiss-info.json, written by scripts/build-native.js next to a local build
 * and copied next to the prebuild by scripts/prepack.js). The facts are those of the addon the loader
 * will try first, so `--version` never describes one addon while another is loaded.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { firstPresentAddon, readFacts } from './faiss/addon-location.js';
import { packageRoot } from './util/paths.js';

export interface FaissBuildFacts {
  version: string;
  simd: string;
  source: string;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** undefined when no addon is present (neither built nor shipped as a usable prebuild). */
export function faissBuildFacts(): FaissBuildFacts | undefined {
  const addon = firstPresentAddon();
  return addon?.infoFile ? readFacts(addon.infoFile) : undefined;
}

export function versionLine(): string {
  const faiss = faissBuildFacts();
  const faissPart = faiss
    ? `FAISS ${faiss.version} ${faiss.simd} (${faiss.source})`
    : 'FAISS addon not built';
  return `indexctl ${packageVersion()}, ${faissPart}, Node ${process.versions.node}`;
}
