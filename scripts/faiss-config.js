#!/usr/bin/env node
// scripts/faiss-config.js — a tiny pkg-config for the FAISS the addon links against.
//
//   node scripts/faiss-config.js <what>
//     cflags    include flags                   e.g. -I/root/.cache/indexctl/faiss-1.7.3-avx2/include
//     libs      linker flags                    e.g. -Wl,--exclude-libs,libfaiss_avx2.a /abs/libfaiss_avx2.a -lopenblas -lgomp
//     defines   gyp "defines" words             'INDEXCTL_FAISS_SIMD="avx2"' 'INDEXCTL_FAISS_SOURCE="..."'
//     header    the same defines as a C header  (alternative to `defines`)
//     describe  one human-readable line
//     json      everything above as JSON
//
// Choice of FAISS, first match wins:
//   1. INDEXCTL_FAISS=system            -> system libfaiss-dev
//   2. INDEXCTL_FAISS_PREFIX=<dir>      -> <dir>/include + <dir>/lib/libfaiss*.{a,so} (+ build-info.json if any)
//   3. INDEXCTL_FAISS_LEVEL=generic     -> system; =avx2|avx512 -> that cache dir, which must exist
//   4. ${INDEXCTL_CACHE:-~/.cache/indexctl}/faiss-1.7.3-avx2/build-info.json, if the CPU has avx2
//      (made by scripts/build-faiss.sh; avx2 is used even on avx512 CPUs, and FAISS 1.7.3 has no avx512 level)
//   5. system libfaiss-dev (/usr/include/faiss/Index.h); if absent: exit 1 with an apt-get hint.
//
// Output format: one line of space-separated words, shell-quoted where needed. That is what node-gyp's
// `<!@(...)` expects: gyp splits the output with Python's shlex.split (sh rules), so quoting survives
// exactly one level. Use in binding.gyp:
//
//   "cflags_cc": ["<!@(node scripts/faiss-config.js cflags)"],
//   "libraries": ["<!@(node scripts/faiss-config.js libs)"],
//   "defines":   ["<!@(node scripts/faiss-config.js defines)"],
//
// String defines: each word is printed as 'NAME="value"'. shlex.split removes the single quotes, gyp's
// make generator then re-quotes every define for the shell (EscapeCppDefine), so the compiler receives
// -DNAME="value" and NAME is a C string literal. Values are restricted to a safe character set (no quotes,
// backslashes, $ or #), so no other escaping is ever needed. If you prefer not to rely on that, generate a
// header instead: `node scripts/faiss-config.js header > build/faiss_config.h` (same macros, plus
// INDEXCTL_FAISS_VERSION and INDEXCTL_FAISS_STATIC).
//
// Link flags: the static lib is linked by absolute path, wrapped in -Wl,--exclude-libs,<archive> so the
// ~2,600 FAISS symbols stay out of the .node's dynamic symbol table (no interposition with any other FAISS
// in the process). A static FAISS needs BLAS+LAPACK and OpenMP at link time: -lopenblas (Debian's
// OpenBLAS includes LAPACK) and -lgomp. Debian bookworm's libfaiss-dev ships ONLY libfaiss.a (no .so), so
// the "system" case needs the same extra libs; a libfaiss.so, where present, is linked with -lfaiss alone.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FAISS_VERSION = '1.7.3';
const WHATS = ['cflags', 'libs', 'defines', 'header', 'describe', 'json'];
const MULTIARCH = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};
const STATIC_DEPS = ['-lopenblas', '-lgomp'];

class ConfigError extends Error {}

function cacheRoot() {
  return path.resolve(process.env.INDEXCTL_CACHE || path.join(os.homedir(), '.cache', 'indexctl'));
}

function cpuLevel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    const flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
    return flags.has('avx2') ? 'avx2' : 'generic';
  } catch {
    return 'generic';
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${err.message}`);
  }
}

/** FAISS_VERSION_MAJOR/MINOR/PATCH from <include>/faiss/Index.h, or null. */
function headerVersion(includeDir) {
  try {
    const text = readFileSync(path.join(includeDir, 'faiss', 'Index.h'), 'utf8');
    const get = (n) => text.match(new RegExp(`#define\\s+FAISS_VERSION_${n}\\s+(\\d+)`))?.[1];
    const [ma, mi, pa] = [get('MAJOR'), get('MINOR'), get('PATCH')];
    return ma && mi && pa ? `${ma}.${mi}.${pa}` : null;
  } catch {
    return null;
  }
}

function linkFlags(lib) {
  if (lib.endsWith('.a')) return [`-Wl,--exclude-libs,${path.basename(lib)}`, lib, ...STATIC_DEPS];
  const dir = path.dirname(lib);
  const name = path
    .basename(lib)
    .replace(/^lib/, '')
    .replace(/\.so.*$/, '');
  return [`-L${dir}`, `-Wl,-rpath,${dir}`, `-l${name}`];
}

function fromPrefix(prefix, why) {
  prefix = path.resolve(prefix);
  const infoFile = path.join(prefix, 'build-info.json');
  const info = existsSync(infoFile) ? readJson(infoFile) : {};
  const includeDir = path.join(prefix, 'include');
  if (!existsSync(path.join(includeDir, 'faiss', 'Index.h'))) {
    throw new ConfigError(`${why}: ${includeDir}/faiss/Index.h not found`);
  }
  let lib = info.lib ? path.resolve(prefix, info.lib) : null;
  if (!lib || !existsSync(lib)) {
    lib = null;
    for (const dir of ['lib', 'lib64'].map((d) => path.join(prefix, d))) {
      if (!existsSync(dir)) continue;
      const files = readdirSync(dir);
      const pick =
        files.find((f) => /^libfaiss_[a-z0-9]+\.a$/.test(f)) ??
        files.find((f) => f === 'libfaiss.a') ??
        files.find((f) => f === 'libfaiss.so');
      if (pick) {
        lib = path.join(dir, pick);
        break;
      }
    }
  }
  if (!lib) throw new ConfigError(`${why}: no libfaiss*.a or libfaiss.so under ${prefix}/lib`);
  const level = info.level ?? path.basename(lib).match(/^libfaiss_([a-z0-9]+)\.a$/)?.[1] ?? 'generic';
  const isStatic = lib.endsWith('.a');
  return {
    kind: 'prefix',
    version: info.version ?? headerVersion(includeDir) ?? 'unknown',
    level,
    static: isStatic,
    prefix,
    lib,
    includeDir,
    source: info.source ?? `prefix ${prefix}`,
    built: info.built ?? null,
    cflags: [`-I${includeDir}`],
    libs: linkFlags(lib),
    describeWhere: `${isStatic ? 'static' : 'shared'}, ${prefix}`,
  };
}

function dpkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

function fromSystem() {
  const includeDir = '/usr/include';
  if (!existsSync(path.join(includeDir, 'faiss', 'Index.h'))) {
    throw new ConfigError(
      'FAISS not found: no /usr/include/faiss/Index.h and no usable build in ' +
        `${cacheRoot()} (scripts/build-faiss.sh makes one).\n` +
        'Install the system library with: sudo apt-get install libfaiss-dev libopenblas-dev',
    );
  }
  const ma = MULTIARCH[process.arch];
  const dirs = [ma && `/usr/lib/${ma}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'].filter(Boolean);
  const find = (name) => dirs.map((d) => path.join(d, name)).find((f) => existsSync(f));
  const so = find('libfaiss.so');
  const lib = so ?? find('libfaiss.a');
  if (!lib) {
    throw new ConfigError(
      'FAISS headers are in /usr/include/faiss but libfaiss.so/libfaiss.a was not found in ' +
        `${dirs.join(', ')}.\nReinstall with: sudo apt-get install --reinstall libfaiss-dev libopenblas-dev`,
    );
  }
  const deb = dpkgVersion('libfaiss-dev');
  return {
    kind: 'system',
    version: headerVersion(includeDir) ?? 'unknown',
    level: 'generic',
    static: !so,
    prefix: '/usr',
    lib,
    includeDir,
    source: deb ? `system libfaiss-dev ${deb}` : 'system libfaiss-dev',
    built: null,
    cflags: [], // /usr/include is searched by default; -I/usr/include would only reorder system dirs
    libs: so ? ['-lfaiss'] : [`-Wl,--exclude-libs,${path.basename(lib)}`, '-lfaiss', ...STATIC_DEPS],
    describeWhere: `system libfaiss-dev, ${lib}`,
  };
}

function resolveFaiss() {
  const env = process.env;
  const mode = env.INDEXCTL_FAISS ?? '';
  if (mode === 'system') return fromSystem();
  if (mode !== '' && mode !== 'auto') {
    throw new ConfigError(`INDEXCTL_FAISS must be "system" or "auto" (got "${mode}")`);
  }
  if (env.INDEXCTL_FAISS_PREFIX) return fromPrefix(env.INDEXCTL_FAISS_PREFIX, 'INDEXCTL_FAISS_PREFIX');

  const forced = env.INDEXCTL_FAISS_LEVEL ?? '';
  if (forced && !['avx2', 'avx512', 'generic'].includes(forced)) {
    throw new ConfigError(`INDEXCTL_FAISS_LEVEL must be avx2, avx512 or generic (got "${forced}")`);
  }
  const level = forced || cpuLevel();
  if (level === 'generic') return fromSystem();
  const dir = path.join(cacheRoot(), `faiss-${FAISS_VERSION}-${level}`);
  if (existsSync(path.join(dir, 'build-info.json'))) return fromPrefix(dir, `cache ${dir}`);
  if (forced) {
    throw new ConfigError(
      `INDEXCTL_FAISS_LEVEL=${forced} but ${dir}/build-info.json does not exist; ` +
        'run scripts/build-faiss.sh first (or unset INDEXCTL_FAISS_LEVEL to use the system libfaiss-dev)',
    );
  }
  return fromSystem();
}

// ---- output ---------------------------------------------------------------------------------------

/** sh-quote one word (gyp's <!@ runs shlex.split over our output). */
function shQuote(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Keep define values inside a set that needs no escaping for C, sh, make or gyp. */
function safeValue(v) {
  return String(v).replace(/[^A-Za-z0-9 ._:/+,()@~-]/g, '_');
}

function defineMap(f) {
  return {
    INDEXCTL_FAISS_SIMD: `"${safeValue(f.level)}"`,
    INDEXCTL_FAISS_SOURCE: `"${safeValue(f.kind === 'system' ? f.source : `${f.source}, ${f.static ? 'static' : 'shared'} ${f.level}`)}"`,
  };
}

function describe(f) {
  return `FAISS ${f.version} ${f.level} (${f.describeWhere})`;
}

function header(f) {
  const lines = [
    '/* generated by scripts/faiss-config.js — do not edit */',
    '#pragma once',
    ...Object.entries(defineMap(f)).map(([k, v]) => `#define ${k} ${v}`),
    `#define INDEXCTL_FAISS_VERSION "${safeValue(f.version)}"`,
    `#define INDEXCTL_FAISS_STATIC ${f.static ? 1 : 0}`,
  ];
  return lines.join('\n');
}

function main(argv) {
  const what = argv[0];
  if (!WHATS.includes(what) || argv.length !== 1) {
    process.stderr.write(`usage: node scripts/faiss-config.js <${WHATS.join('|')}>\n`);
    return 2;
  }
  let f;
  try {
    f = resolveFaiss();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`faiss-config: ${err.message}\n`);
    return 1;
  }
  if (f.version !== FAISS_VERSION && f.version !== 'unknown') {
    process.stderr.write(
      `faiss-config: warning: found FAISS ${f.version}; indexctl targets ${FAISS_VERSION}\n`,
    );
  }
  const defines = Object.entries(defineMap(f)).map(([k, v]) => `${k}=${v}`);
  const out = {
    cflags: () => f.cflags.map(shQuote).join(' '),
    libs: () => f.libs.map(shQuote).join(' '),
    defines: () => defines.map(shQuote).join(' '),
    header: () => header(f),
    describe: () => describe(f),
    json: () =>
      JSON.stringify(
        {
          version: f.version,
          level: f.level,
          static: f.static,
          kind: f.kind,
          prefix: f.prefix,
          lib: f.lib,
          includeDir: f.includeDir,
          source: f.source,
          built: f.built,
          cflags: f.cflags,
          libs: f.libs,
          defines,
          describe: describe(f),
        },
        null,
        2,
      ),
  }[what]();
  process.stdout.write(`${out}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
