#!/usr/bin/env node
// The npm `install` script (package.json; "gypfile": false so npm never runs its implicit
// `node-gyp rebuild`, which compiled over a working prebuild and left no build/faiss-info.json).
//
//   1. In a git checkout: nothing (scripts/setup.sh and `npm run build:native` build the addon).
//   2. Each addon the loader would try (src/core/faiss/addon-location.ts: INDEXCTL_ADDON, a local
//      build, the shipped prebuild) is loaded in a child process and made to answer a search; the
//      first that works ends the install. A child, because a wrong CPU or library can crash it.
//   3. Else build from source (scripts/build-native.js against the FAISS scripts/faiss-config.js
//      finds) and check the result the same way.
//   4. Else remove build/ (no half-built addon left to report a FAISS that is not there), mark the
//      prebuild as not loading here (so `--version` says "addon not built"), say what was tried and
//      which Debian packages to install, and exit 1.
//
// `npm install --build-from-source` (npm_config_build_from_source) or INDEXCTL_BUILD_FROM_SOURCE=1
// skips the prebuild, as for better-sqlite3 and sharp.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`indexctl install: ${line}\n`);

const PROBE = `
const addon = require(process.argv[1]);
const index = addon.NativeIndex.fromFactory(4, 'Flat', 'l2');
index.add(new Float32Array([0, 0, 0, 0, 1, 1, 1, 1]));
const { labels } = index.search(new Float32Array([1, 1, 1, 1]), 1);
if (labels[0] !== 1n) throw new Error('self-search returned row ' + labels[0] + ', expected 1');
process.stdout.write(JSON.stringify(addon.buildInfo));
`;

/** undefined when the addon loads and searches correctly, else why not (one line). */
function probe(file) {
  const res = spawnSync(process.execPath, ['-e', PROBE, file], { encoding: 'utf8', timeout: 60_000 });
  if (res.status === 0) return { ok: true, info: JSON.parse(res.stdout) };
  const why = res.signal
    ? `killed by ${res.signal}`
    : (res.stderr.split('\n').find((l) => /Error|error:/.test(l)) ?? `exit ${res.status}`).trim();
  return { ok: false, why };
}

function fromSource() {
  return (
    ['1', 'true'].includes(process.env.npm_config_build_from_source ?? '') ||
    process.env.INDEXCTL_BUILD_FROM_SOURCE === '1'
  );
}

const APT_RUNTIME = 'sudo apt-get install libopenblas0 libgomp1';
const APT_BUILD = 'sudo apt-get install libfaiss-dev libopenblas-dev libxxhash-dev g++ make python3';

async function main() {
  if (existsSync(path.join(root, '.git'))) {
    say('a git checkout: not building here (bash scripts/setup.sh or npm run build:native does)');
    return 0;
  }
  const location = await import(pathToFileURL(path.join(root, 'dist/src/core/faiss/addon-location.js')).href);
  const tried = [];
  const failedPrebuilds = [];

  for (const c of location.addonCandidates()) {
    if (c.kind === 'prebuild' && fromSource()) {
      tried.push(`${c.file}: skipped, a source build was asked for`);
      continue;
    }
    if (!existsSync(c.file)) {
      tried.push(`${c.file}: not found`);
      continue;
    }
    // A load failure recorded by an earlier install is retried: the libraries may be there now.
    if (c.skip && !c.skip.startsWith('did not load at install time')) {
      tried.push(`${c.file}: skipped, ${c.skip}`);
      continue;
    }
    const res = probe(c.file);
    if (res.ok) {
      if (c.kind === 'prebuild')
        rmSync(path.join(path.dirname(c.file), location.LOAD_FAILED_FILE), { force: true });
      say(
        `using ${path.relative(root, c.file)} (FAISS ${res.info.faissVersion} ${res.info.simd}, ${res.info.source})`,
      );
      return 0;
    }
    tried.push(`${c.file}: ${res.why}`);
    if (c.kind === 'prebuild') failedPrebuilds.push({ dir: path.dirname(c.file), why: res.why });
    if (c.kind === 'env') break; // INDEXCTL_ADDON is the only candidate, and no build replaces it
  }

  let built = 'not attempted: INDEXCTL_ADDON is set';
  // gyp writes node-addon-api's makefiles to build/<path from here to node-addon-api>, which in an
  // installed package is ./node-addon-api, outside build/.
  const gypLeftover = path.join(root, 'node-addon-api');
  const hadLeftover = existsSync(gypLeftover);
  if (!process.env.INDEXCTL_ADDON) {
    say('no usable prebuilt addon; building from source (needs FAISS 1.7.3, a C++ compiler, a few minutes)');
    const res = spawnSync(process.execPath, [path.join(root, 'scripts/build-native.js')], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const file = path.join(root, 'build/Release', location.ADDON_FILE);
    if (res.status === 0) {
      const check = probe(file);
      if (check.ok) {
        say(
          `built ${path.relative(root, file)} (FAISS ${check.info.faissVersion} ${check.info.simd}, ${check.info.source})`,
        );
        return 0;
      }
      built = `built, but it does not load: ${check.why}`;
    } else {
      built = res.signal ? `killed by ${res.signal}` : `failed with exit ${res.status} (messages above)`;
    }
    rmSync(path.join(root, 'build'), { recursive: true, force: true });
    if (!hadLeftover) rmSync(gypLeftover, { recursive: true, force: true });
  }
  for (const { dir, why } of failedPrebuilds)
    writeFileSync(path.join(dir, location.LOAD_FAILED_FILE), `${why}\n`);

  process.stderr.write(
    [
      'indexctl install: no working FAISS addon.',
      'Tried:',
      ...tried.map((t) => `  - ${t}`),
      `  - source build: ${built}`,
      'To fix, then run `npm rebuild indexctl`:',
      `  - the prebuilt addon (linux-x64, glibc >= 2.34, AVX2) needs OpenBLAS and OpenMP: ${APT_RUNTIME}`,
      `  - a source build needs FAISS and a compiler: ${APT_BUILD}`,
      '    (for AVX2 kernels: bash node_modules/indexctl/scripts/build-faiss.sh first)',
      'Nothing half-built was left behind; see docs/building.md in the indexctl package.',
      '',
    ].join('\n'),
  );
  return 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  rmSync(path.join(root, 'build'), { recursive: true, force: true });
  process.stderr.write(`indexctl install: ${err.stack ?? err}\n`);
  process.exitCode = 1;
}
