/**
 * Manifests written by the Python side (the plan's msgspec `VersionManifest`: no schema_version,
 * metric, index_checksum or files) are read, not rejected: status lists the version as `legacy`,
 * verify says it must be adopted and checks what it can, write-manifest adopts it. And the reverse:
 * every manifest indexctl writes decodes with the plan's struct (reimplemented in plain Python below,
 * since msgspec is not packaged by Debian bookworm).
 *
 * test/fixtures/legacy-manifest.json is written as msgspec.json.encode writes the struct (compact, in
 * field order, None as null); test/fixtures/legacy-manifest.adopted.json is what write-manifest makes
 * of it, with the values that depend on the build machine masked.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { writeManifest } from '../src/core/adopt/write-manifest.js';
import { build } from '../src/core/build/build.js';
import { InvariantViolationError } from '../src/core/errors.js';
import { status } from '../src/core/lifecycle/status.js';
import { LegacyManifestError, readManifest } from '../src/core/manifest/schema.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { packageRoot } from '../src/core/util/paths.js';
import { openIndex } from '../src/core/search/open-index.js';
import { verify, type CheckResult, type VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { runPython, writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const FIXTURES = path.join(packageRoot, 'test', 'fixtures');
const LEGACY_TEXT = readFileSync(path.join(FIXTURES, 'legacy-manifest.json'), 'utf8');
const ADOPTED_FIXTURE = path.join(FIXTURES, 'legacy-manifest.adopted.json');
const VERSION = 'py-legacy';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');

const PYTHON_PIPELINE = `
import sys, json, numpy as np, faiss
x = np.fromfile(sys.argv[1], dtype='float32').reshape(-1, 16)
ids = np.fromfile(sys.argv[2], dtype='int64')
index = faiss.IndexIDMap2(faiss.index_factory(16, 'Flat'))
index.add_with_ids(x, ids)
faiss.write_index(index, sys.argv[3])
print(json.dumps({"ntotal": int(index.ntotal)}))
`;

/**
 * The plan's structs, decoded with msgspec's rules: every field without a default is required, each
 * value has its declared type (an int is accepted for a float, bool is not an int), Optional accepts
 * null, unknown fields are ignored. Prints the decoded struct, or {"error": ...}.
 */
const PYTHON_STRUCT = `
import json, sys
from typing import Any, Optional, Union, get_args, get_origin

class TuningProfile:
    __annotations__ = {
        'family': str, 'k': int, 'nprobe': Optional[int], 'hnsw_efSearch': Optional[int],
        'refine_k_factor': Optional[float], 'notes': Optional[str], 'recall_at_k': Optional[float],
        'latency_ms_p50': Optional[float], 'measured_ts': Optional[float],
    }
    __defaults__ = {'nprobe': None, 'hnsw_efSearch': None, 'refine_k_factor': None, 'notes': None,
                    'recall_at_k': None, 'latency_ms_p50': None, 'measured_ts': None}

class VersionManifest:
    __annotations__ = {
        'version': str, 'created_ts': float, 'faiss_factory': str, 'vec_dim': int,
        'vectors_count': int, 'chunks_checksum': str, 'idmap_checksum': Optional[str],
        'tuning': Optional[TuningProfile], 'attrs': dict,
    }
    __defaults__ = {'idmap_checksum': None, 'tuning': None, 'attrs': {}}

def convert(value, typ, where):
    if get_origin(typ) is Union:
        if value is None and type(None) in get_args(typ):
            return None
        typ = [t for t in get_args(typ) if t is not type(None)][0]
    if isinstance(typ, type) and hasattr(typ, '__defaults__'):
        return decode(value, typ, where)
    if typ is float and type(value) in (int, float):
        return float(value)
    if typ is int and type(value) is int:
        return value
    if typ is str and type(value) is str:
        return value
    if typ is dict and type(value) is dict:
        return value
    raise ValueError(f'Expected \`{typ.__name__}\`, got \`{type(value).__name__}\` - at \`{where}\`')

def decode(obj, cls, where='$'):
    if type(obj) is not dict:
        raise ValueError(f'Expected \`object\`, got \`{type(obj).__name__}\` - at \`{where}\`')
    out = {}
    for name, typ in cls.__annotations__.items():
        if name in obj:
            out[name] = convert(obj[name], typ, f'{where}.{name}')
        elif name in cls.__defaults__:
            out[name] = cls.__defaults__[name]
        else:
            raise ValueError(f'Object missing required field \`{name}\` - at \`{where}\`')
    return out

try:
    print(json.dumps({'decoded': decode(json.loads(open(sys.argv[1], 'rb').read()), VersionManifest)}))
except ValueError as e:
    print(json.dumps({'error': str(e)}))
`;

function decodeWithStruct(file: string): { decoded?: Record<string, unknown>; error?: string } {
  return runPython(PYTHON_STRUCT, [file]);
}

/** A version directory as the Python pipeline leaves it: faiss.index, chunks.parquet, its manifest. */
function pythonVersion(root: string, manifest: string = LEGACY_TEXT, name = VERSION): string {
  const v = path.join(root, 'versions', name);
  mkdirSync(v, { recursive: true });
  copyFileSync(chunks, path.join(v, 'chunks.parquet'));
  runPython(PYTHON_PIPELINE, [
    path.join(dir, 'x.f32'),
    path.join(dir, 'ids.i64'),
    path.join(v, 'faiss.index'),
  ]);
  writeFileSync(path.join(v, 'manifest.json'), manifest);
  return v;
}

/** The fixture with a field changed, still written as msgspec would (compact). */
function legacyWith(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...(JSON.parse(LEGACY_TEXT) as Record<string, unknown>), ...changes });
}

const byName = (report: VerifyReport, name: string): CheckResult => {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `${name} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
};

/** The adopted manifest with what depends on the machine and the build masked. */
function masked(manifest: Record<string, unknown>): Record<string, unknown> {
  const mask = (v: unknown) =>
    typeof v === 'string' && /^xxh64:[0-9a-f]{16}$/.test(v) ? 'xxh64:<masked>' : v;
  const files = manifest.files as Record<string, { bytes: number; checksum: string }>;
  const attrs = manifest.attrs as Record<string, unknown>;
  return {
    ...manifest,
    chunks_checksum: mask(manifest.chunks_checksum),
    idmap_checksum: mask(manifest.idmap_checksum),
    index_checksum: mask(manifest.index_checksum),
    files: Object.fromEntries(
      Object.keys(files).map((name) => [name, { bytes: '<masked>', checksum: mask(files[name]!.checksum) }]),
    ),
    attrs: { ...attrs, tool: '<masked>', faiss: '<masked>' },
  };
}

before(async () => {
  await writeChunks(chunks, { rows: 2000 });
  const { ids, vectors } = await readAllChunks(chunks);
  writeRaw(path.join(dir, 'x.f32'), vectors);
  writeRaw(path.join(dir, 'ids.i64'), ids);
});

describe('legacy manifests: read, not rejected', () => {
  it('the fixture decodes with the plan struct (the Python reimplementation is checked on it first)', () => {
    const { decoded, error } = decodeWithStruct(path.join(FIXTURES, 'legacy-manifest.json'));
    assert.equal(error, undefined);
    assert.equal(decoded!.vec_dim, 16);
    // ... and refuses what msgspec refuses, so a pass below means something.
    const bad = path.join(dir, 'bad-struct.json');
    writeFileSync(bad, legacyWith({ vec_dim: '16' }));
    assert.match(decodeWithStruct(bad).error ?? '', /Expected `int`, got `str` - at `\$\.vec_dim`/);
    writeFileSync(bad, JSON.stringify({ version: 'v' }));
    assert.match(decodeWithStruct(bad).error ?? '', /missing required field `created_ts`/);
  });

  it('status lists the version as legacy, with its facts and the command that adopts it', async () => {
    const root = path.join(dir, 'status');
    pythonVersion(root);
    const report = await status(root);
    const [v] = report.versions;
    assert.equal(v!.state, 'legacy');
    assert.equal(v!.vectors, 2000);
    assert.equal(v!.dim, 16);
    assert.equal(v!.factory, 'Flat');
    assert.equal(v!.metric, null);
    assert.equal(v!.created, new Date(1764000000250).toISOString());
    assert.match(v!.tuningSummary ?? '', /^flat R@10=1\.000/);
    assert.match(v!.problem ?? '', /legacy manifest.*indexctl write-manifest py-legacy/);
    const cli = runCli(['--root', root, 'status']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /py-legacy +legacy +2,000 +16 +Flat/);
  });

  it('verify reports manifest.legacy (exit 3, the adopt command) and checks dim, count and factory against faiss.index', async () => {
    const root = path.join(dir, 'verify');
    pythonVersion(root);
    const report = await verify({ root, version: VERSION });
    assert.equal(report.exitCode, 3);
    const legacy = byName(report, 'manifest.legacy');
    assert.equal(legacy.outcome, 'fail');
    assert.match(legacy.detail, /is a legacy manifest.*Flat, 2000 x 16.*must be adopted/);
    assert.ok(legacy.detail.includes(`indexctl --root ${root} write-manifest ${VERSION}`), legacy.detail);
    for (const name of [
      'files.present',
      'index.load',
      'index.dim',
      'index.count',
      'index.factory',
      'index.idmap2',
    ]) {
      assert.equal(byName(report, name).outcome, 'pass', `${name}: ${byName(report, name).detail}`);
    }
    assert.match(byName(report, 'idmap.rows').detail, /no idmap\.parquet: write-manifest derives it/);
    assert.deepEqual(
      (await verify({ root, version: VERSION, level: 1 })).checks.map((c) => c.name),
      ['manifest.legacy', 'files.present'],
    );
    const cli = runCli(['--root', root, 'verify', VERSION, '--json']);
    assert.equal(cli.code, 3, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as VerifyReport).checks[0]!.name, 'manifest.legacy');
  });

  it('verify names both values when the legacy manifest disagrees with faiss.index, and checks an idmap against the index', async () => {
    const root = path.join(dir, 'verify-wrong');
    const v = pythonVersion(root, legacyWith({ vec_dim: 32, vectors_count: 1999, faiss_factory: 'HNSW32' }));
    const report = await verify({ root, version: VERSION, level: 2 });
    assert.equal(byName(report, 'index.dim').detail, 'faiss.index has d = 16, legacy manifest vec_dim is 32');
    assert.equal(
      byName(report, 'index.count').detail,
      'faiss.index holds 2000 vectors, legacy manifest vectors_count is 1999',
    );
    assert.match(
      byName(report, 'index.factory').detail,
      /faiss_factory HNSW32 builds IndexIDMap2<IndexHNSWFlat>, but faiss\.index is IndexIDMap2<IndexFlat/,
    );
    // An idmap the pipeline wrote is checked against the index: here, the rows shifted by one.
    const { writeIdMap } = await import('../src/core/parquet/idmap-writer.js');
    const ids = (await readAllChunks(chunks)).ids;
    await writeIdMap(
      path.join(v, 'idmap.parquet'),
      ids.map((id) => id + 1n),
    );
    const withIdmap = await verify({ root, version: VERSION, level: 2 });
    assert.equal(byName(withIdmap, 'idmap.matches_index').outcome, 'fail');
    assert.match(
      byName(withIdmap, 'idmap.matches_index').detail,
      /disagrees with faiss\.index id_map in 2000 rows/,
    );
  });

  it('openIndex and search refuse a legacy version with exit 3 and the adopt command', async () => {
    const root = path.join(dir, 'search');
    pythonVersion(root);
    await assert.rejects(
      openIndex({ root, version: VERSION }),
      (e: Error) => e instanceof LegacyManifestError && /indexctl write-manifest py-legacy/.test(e.message),
    );
    const cli = runCli(['--root', root, 'search', VERSION, '--id', '7']);
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(cli.stderr, /legacy manifest/);
  });
});

describe('write-manifest adopts a legacy manifest', () => {
  it('keeps created_ts, tuning and attrs, records the old checksums under attrs, and the result verifies', async () => {
    const root = path.join(dir, 'adopt');
    const v = pythonVersion(root);
    const cli = runCli(['--root', root, 'write-manifest', VERSION, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const adopted = await readManifest(v);
    const legacy = JSON.parse(LEGACY_TEXT) as Record<string, unknown>;
    assert.equal(adopted.schema_version, 1);
    assert.equal(adopted.created_ts, legacy.created_ts);
    assert.deepEqual(adopted.tuning, legacy.tuning);
    assert.equal(adopted.attrs?.pipeline, 'nightly-py');
    assert.equal(adopted.attrs?.legacy_chunks_checksum, legacy.chunks_checksum);
    assert.equal(adopted.attrs?.adopted, true);
    assert.equal(adopted.faiss_factory, 'IDMap2,Flat');
    const raw = JSON.parse(readFileSync(path.join(v, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    if (process.env.INDEXCTL_UPDATE_FIXTURES === '1') {
      writeFileSync(ADOPTED_FIXTURE, JSON.stringify(masked(raw), null, 2) + '\n');
    }
    assert.deepEqual(masked(raw), JSON.parse(readFileSync(ADOPTED_FIXTURE, 'utf8')));
    const report = await verify({ root, version: VERSION });
    assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => c.outcome !== 'pass')));
    assert.equal(report.level, 3);
    // The reverse stays true: what indexctl wrote decodes with the plan's struct.
    const { decoded, error } = decodeWithStruct(path.join(v, 'manifest.json'));
    assert.equal(error, undefined);
    assert.equal(decoded!.created_ts, legacy.created_ts);
    assert.deepEqual(decoded!.tuning, legacy.tuning);
  });

  it('a legacy manifest that disagrees with the files is exit 3 naming both values, and nothing is written', async () => {
    const root = path.join(dir, 'adopt-wrong');
    const text = legacyWith({ vectors_count: 1999 });
    const v = pythonVersion(root, text);
    await assert.rejects(
      writeManifest({ root, version: VERSION }),
      (e: Error) =>
        e instanceof InvariantViolationError &&
        /vectors_count 1999, but faiss\.index holds 2000 vectors/.test(e.message),
    );
    assert.equal(
      readFileSync(path.join(v, 'manifest.json'), 'utf8'),
      text,
      'the legacy manifest is untouched',
    );
    assert.equal(existsSync(path.join(v, 'idmap.parquet')), false, 'nothing derived');

    const factoryRoot = path.join(dir, 'adopt-factory');
    pythonVersion(factoryRoot, legacyWith({ faiss_factory: 'HNSW32' }));
    const cli = runCli(['--root', factoryRoot, 'write-manifest', VERSION]);
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(
      cli.stderr,
      /faiss_factory HNSW32 builds IndexIDMap2<IndexHNSWFlat>, but faiss\.index is IndexIDMap2<IndexFlat/,
    );
    // The operator who knows better says so: --factory overrides, and the old string is recorded.
    const fixed = runCli(['--root', factoryRoot, 'write-manifest', VERSION, '--factory', 'Flat']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(
      (await readManifest(path.join(factoryRoot, 'versions', VERSION))).attrs?.legacy_faiss_factory,
      'HNSW32',
    );

    const renamed = path.join(dir, 'adopt-renamed');
    pythonVersion(renamed, legacyWith({ version: 'other' }));
    await assert.rejects(
      writeManifest({ root: renamed, version: VERSION }),
      /names version other, but its directory is py-legacy/,
    );
  });

  it('a manifest indexctl builds decodes with the plan struct', async () => {
    const root = path.join(dir, 'built');
    await build({ root, chunks, factory: 'Flat', version: 'v1', metric: 'cosine' });
    const { decoded, error } = decodeWithStruct(path.join(root, 'versions', 'v1', 'manifest.json'));
    assert.equal(error, undefined);
    assert.equal(decoded!.vectors_count, 2000);
    assert.equal(decoded!.tuning, null);
  });
});
