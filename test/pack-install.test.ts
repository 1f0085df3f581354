/**
 * The package as a user gets it (issue 14 item 1): `npm pack`, then `npm install ./indexctl-<v>.tgz`
 * into a fresh project with the real npm and registry, then the three checks: `npx indexctl doctor`
 * exits 0, `npx indexctl --version` names the FAISS it links, and `import { openIndex, build, verify }
 * from 'indexctl'` works and type-checks. Then a failed install: it says what it tried and what to
 * install, leaves no half-built addon, and `--version` stops naming a FAISS it cannot load.
 *
 * Before the prebuild, npm's implicit `node-gyp rebuild` ("gypfile": true) compiled the addon at
 * install time, wrote no build/faiss-info.json, and `--version` said "FAISS addon not built".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { faissBuildFacts } from '../src/core/build-info.js';
import { packageRoot } from '../src/core/util/paths.js';
import { tmpDir } from './helpers/tmp.js';

interface Run {
  code: number | null;
  out: string;
}

/** No INDEXCTL_* and no npm_* from a surrounding `npm run`: the consumer is a fresh project. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('INDEXCTL_') && !k.toLowerCase().startsWith('npm_')) env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): Run {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(extra) });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

const npmQuiet = ['--no-audit', '--no-fund', '--foreground-scripts'];
const ours = faissBuildFacts();

describe('npm pack, then npm install into a fresh project', () => {
  const work = tmpDir('indexctl-pack-');
  const project = path.join(work, 'consumer');
  const installed = path.join(project, 'node_modules/indexctl');
  const prebuild = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`);
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
  let install: Run;

  before(() => {
    // The suite runs from dist/, already compiled: prepack must not rewrite it under running tests.
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: packageRoot,
      encoding: 'utf8',
      env: cleanEnv({ INDEXCTL_PREPACK_SKIP_TSC: '1' }),
    });
    assert.equal(pack.status, 0, pack.stderr);
    packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
    const tarball = path.join(work, packed.filename);

    mkdirSync(project, { recursive: true });
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const started = performance.now();
    install = run('npm', ['install', tarball, ...npmQuiet], project);
    const seconds = (performance.now() - started) / 1000;
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    process.stderr.write(
      `pack-install: tarball ${mb(statSync(tarball).size)} MB (${mb(packed.unpackedSize)} MB unpacked, ` +
        `${packed.files.length} files), npm install ${seconds.toFixed(1)} s\n`,
    );
  });

  it('the tarball holds the library, types, bin, prebuild and the source-build fallback; no tests or benches', () => {
    const files = packed.files.map((f) => f.path);
    for (const want of [
      'bin/indexctl.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/core/faiss/native.js',
      `prebuilds/${process.platform}-${process.arch}/indexctl_faiss.node`,
      `prebuilds/${process.platform}-${process.arch}/indexctl_hash.node`,
      `prebuilds/${process.platform}-${process.arch}/faiss-info.json`,
      'binding.gyp',
      'native/addon.cc',
      'scripts/install.js',
      'scripts/build-native.js',
      'scripts/faiss-config.js',
    ]) {
      assert.ok(files.includes(want), `${want} missing from ${packed.filename}`);
    }
    const unwanted = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|build)\/|\.map$/.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('installs with the prebuild: nothing compiled, no build/ directory', () => {
    assert.equal(install.code, 0, install.out);
    assert.match(install.out, /indexctl install: using prebuilds\/linux-x64\/indexctl_faiss\.node/);
    assert.doesNotMatch(install.out, /gyp/);
    assert.equal(existsSync(path.join(installed, 'build')), false);
  });

  it('npx indexctl --version names the FAISS the addon links', () => {
    const res = run('npx', ['--no', '--', 'indexctl', '--version'], project);
    assert.equal(res.code, 0, res.out);
    assert.ok(ours, 'this checkout has no build/faiss-info.json');
    assert.match(res.out, new RegExp(`FAISS ${ours.version} ${ours.simd} \\(`));
    assert.doesNotMatch(res.out, /not built/);
  });

  it('npx indexctl doctor exits 0 with the same FAISS', () => {
    const res = run('npx', ['--no', '--', 'indexctl', 'doctor', '--json'], project);
    assert.equal(res.code, 0, res.out);
    const report = JSON.parse(res.out) as { faiss: { faissVersion: string; simd: string } };
    assert.equal(`${report.faiss.faissVersion} ${report.faiss.simd}`, `${ours?.version} ${ours?.simd}`);
  });

  it('import { openIndex, build, verify } works from ESM and type-checks with the shipped types', () => {
    writeFileSync(
      path.join(project, 'check.mjs'),
      "import { build, openIndex, verify } from 'indexctl';\n" +
        'console.log([build, openIndex, verify].map((f) => typeof f).join(" "));\n',
    );
    const esm = run(process.execPath, ['check.mjs'], project);
    assert.equal(esm.code, 0, esm.out);
    assert.equal(esm.out.trim(), 'function function function');

    // The @ts-expect-error line fails the check if the types were missing or `any`.
    writeFileSync(
      path.join(project, 'check.ts'),
      [
        "import { build, openIndex, verify } from 'indexctl';",
        "import type { OpenIndexOptions, VerifyReport } from 'indexctl';",
        'export const used: unknown[] = [build, openIndex, verify];',
        'export type Used = [OpenIndexOptions, VerifyReport];',
        '// @ts-expect-error openIndex takes a root or an options object, not a number',
        'void openIndex(42);',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false, // our .d.ts files are checked too
          types: ['node'],
          typeRoots: [path.join(packageRoot, 'node_modules/@types')],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = path.join(packageRoot, 'node_modules/typescript/bin/tsc');
    const res = run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    assert.equal(res.code, 0, res.out);
  });

  it('a failed install says what it tried and what to install, leaves nothing half-built, and recovers', () => {
    const addon = path.join(prebuild, 'indexctl_faiss.node');
    const good = path.join(work, 'good.node');
    copyFileSync(addon, good);
    writeFileSync(addon, 'not an ELF file\n');
    // A source build that gets as far as build/ and the compiler, then fails.
    for (const f of readdirSync(path.join(installed, 'native')).filter((n) => n.endsWith('.cc'))) {
      writeFileSync(path.join(installed, 'native', f), '#error broken on purpose by the test\n');
    }
    const failed = run('npm', ['rebuild', 'indexctl', ...npmQuiet], project, { INDEXCTL_FAISS: 'system' });
    assert.notEqual(failed.code, 0, failed.out);
    assert.match(failed.out, /no working FAISS addon/);
    assert.match(
      failed.out,
      /prebuilds\/linux-x64\/indexctl_faiss\.node: .*(invalid ELF header|file too short)/,
    );
    assert.match(failed.out, /source build: failed/);
    assert.match(failed.out, /apt-get install libopenblas0 libgomp1/);
    assert.match(failed.out, /apt-get install libfaiss-dev libopenblas-dev libxxhash-dev g\+\+ make python3/);
    assert.equal(existsSync(path.join(installed, 'build')), false, 'half-built build/ left behind');
    assert.equal(existsSync(path.join(installed, 'node-addon-api')), false, "gyp's makefiles left behind");

    const version = run('npx', ['--no', '--', 'indexctl', '--version'], project);
    assert.match(version.out, /FAISS addon not built/);
    const doctor = run('npx', ['--no', '--', 'indexctl', 'doctor'], project);
    assert.equal(doctor.code, 1, doctor.out);
    assert.match(doctor.out, /did not load at install time/);

    // The fix it names, then `npm rebuild indexctl`: the prebuild is retried and used again.
    copyFileSync(good, addon);
    const fixed = run('npm', ['rebuild', 'indexctl', ...npmQuiet], project);
    assert.equal(fixed.code, 0, fixed.out);
    assert.match(
      run('npx', ['--no', '--', 'indexctl', '--version'], project).out,
      /FAISS \d+\.\d+\.\d+ \w+ \(/,
    );
    assert.equal(run('npx', ['--no', '--', 'indexctl', 'doctor'], project).code, 0);
  });
});
