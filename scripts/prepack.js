#!/usr/bin/env node
// The npm `prepack` script (runs on `npm pack` and `npm publish`): compiles the library and copies
// the local addons (FAISS; the checksum addon when built) into prebuilds/<platform>-<arch>/ with
// faiss-info.json, stripped of debug symbols. The FAISS addon must exist (bash scripts/setup.sh or
// npm run build:native), be newer than its sources, and link FAISS statically: a prebuild that needs libfaiss.so would not load on a machine
// without libfaiss-dev, which is the machine a prebuild is for. What it still needs dynamically is
// recorded in faiss-info.json ("needs") and in docs/building.md.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(root, 'build/Release/indexctl_faiss.node');
const info = path.join(root, 'build/faiss-info.json');
const target = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function fail(message) {
  process.stderr.write(`prepack: ${message}\n`);
  process.exit(1);
}

// INDEXCTL_PREPACK_SKIP_TSC=1 (test/pack-install.test.ts) packs the dist/ already compiled: the test
// suite runs from dist/, and recompiling it under running tests would rewrite their files.
if (process.env.INDEXCTL_PREPACK_SKIP_TSC === '1') {
  if (!existsSync(path.join(root, 'dist/src/index.js')))
    fail('dist/src/index.js missing: run npm run build:ts');
} else {
  // tsc, then the zod/mini bundle (scripts/build-ts.js).
  execFileSync(process.execPath, [path.join(root, 'scripts/build-ts.js')], { cwd: root, stdio: 'inherit' });
}

if (!existsSync(addon) || !existsSync(info)) {
  fail(
    `${path.relative(root, addon)} or build/faiss-info.json missing: run bash scripts/setup.sh or npm run build:native`,
  );
}
const sources = [
  'binding.gyp',
  ...readdirSync(path.join(root, 'native'))
    .filter((f) => /\.(cc|h)$/.test(f))
    .map((f) => `native/${f}`),
];
const stale = sources.filter((f) => statSync(path.join(root, f)).mtimeMs > statSync(addon).mtimeMs);
if (stale.length > 0) fail(`the addon is older than ${stale.join(', ')}: run npm run build:native`);

const ldd = spawnSync('ldd', [addon], { encoding: 'utf8' });
if (ldd.status !== 0) fail(`ldd ${addon} failed: ${ldd.stderr.trim()}`);
const needed = [...ldd.stdout.matchAll(/^\s*(\S+\.so[.\d]*) =>/gm)].map((m) => m[1]);
if (needed.some((lib) => lib.startsWith('libfaiss'))) {
  fail(
    `the addon links ${needed.find((l) => l.startsWith('libfaiss'))} dynamically; a prebuild needs FAISS linked statically`,
  );
}

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
const out = path.join(target, 'indexctl_faiss.node');
// Debug symbols are a fifth of the file and no user of the prebuild reads them.
if (spawnSync('strip', ['--strip-unneeded', '-o', out, addon]).status !== 0) copyFileSync(addon, out);
// The checksum addon (verify's level 1, native/hash_addon.cc) links nothing but libc and libstdc++;
// an install without it hashes through xxhash-wasm.
const hashAddon = path.join(root, 'build/Release/indexctl_hash.node');
if (existsSync(hashAddon)) {
  const hashOut = path.join(target, 'indexctl_hash.node');
  if (spawnSync('strip', ['--strip-unneeded', '-o', hashOut, hashAddon]).status !== 0)
    copyFileSync(hashAddon, hashOut);
}
const facts = JSON.parse(readFileSync(info, 'utf8'));
writeFileSync(
  path.join(target, 'faiss-info.json'),
  `${JSON.stringify({ ...facts, needs: needed }, null, 2)}\n`,
);
process.stderr.write(
  `prepack: ${path.relative(root, out)} (FAISS ${facts.version} ${facts.simd}; needs ${needed.join(', ')})\n`,
);
