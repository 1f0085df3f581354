import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { IndexCorruptionError } from '../src/core/errors.js';
import {
  computeFileEntries,
  familyFromFactory,
  type Manifest,
  ManifestError,
  manifestPath,
  parseManifest,
  readManifest,
  serializeManifest,
  writeManifestAtomic,
} from '../src/core/manifest/schema.js';
import { tmpDir } from './helpers/tmp.js';

const sum = 'xxh64:0123456789abcdef';

/** The example manifest of the upstream format, with its `files` entries filled in. */
function example(): Record<string, unknown> {
  return {
    schema_version: 1,
    version: '20261123T193000Z-3f2a9c1b',
    created_ts: 1795460000.123,
    faiss_factory: 'IDMap2,HNSW32,Flat',
    metric: 'ip',
    vec_dim: 384,
    vectors_count: 1000000,
    chunks_checksum: sum,
    idmap_checksum: sum,
    index_checksum: sum,
    files: {
      'chunks.parquet': { bytes: 0, checksum: sum },
      'idmap.parquet': { bytes: 12, checksum: sum },
      'faiss.index': { bytes: 1536000045, checksum: sum },
    },
    tuning: {
      family: 'hnsw',
      k: 10,
      nprobe: null,
      hnsw_efSearch: 64,
      refine_k_factor: null,
      notes: null,
      recall_at_k: 0.97,
      latency_ms_p50: 0.41,
      measured_ts: 0,
    },
    attrs: { tool: 'indexctl 0.1.0' },
  };
}

const FILE = '/r/versions/v/manifest.json';

function problemOf(data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  try {
    parseManifest(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ManifestError, String(err));
    assert.ok(err instanceof IndexCorruptionError);
    assert.equal(err.exitCode, 4);
    assert.equal(err.file, FILE);
    assert.ok(err.message.startsWith(`${FILE}: `));
    return err.message.slice(FILE.length + 2);
  }
  assert.fail('expected a ManifestError');
}

function withField(path_: string[], value: unknown): Record<string, unknown> {
  const m = example();
  let o = m as Record<string, unknown>;
  for (const key of path_.slice(0, -1)) o = o[key] as Record<string, unknown>;
  if (value === undefined) delete o[path_.at(-1)!];
  else o[path_.at(-1)!] = value;
  return m;
}

describe('parseManifest: valid manifests', () => {
  it('parses the upstream example', () => {
    const m = parseManifest(JSON.stringify(example()), FILE);
    assert.equal(m.vectors_count, 1000000);
    assert.equal(m.tuning?.family, 'hnsw');
    assert.equal(m.files['faiss.index']?.bytes, 1536000045);
    assert.deepEqual(m, example());
  });

  it('accepts tuning null or absent and attrs absent', () => {
    parseManifest(JSON.stringify(withField(['tuning'], null)), FILE);
    const bare = withField(['tuning'], undefined);
    delete bare.attrs;
    assert.equal(parseManifest(JSON.stringify(bare), FILE).tuning, undefined);
  });

  it('accepts a tuning with only family and k', () => {
    const m = withField(['tuning'], { family: 'ivf_pq_refine', k: 10 });
    assert.equal(parseManifest(JSON.stringify(m), FILE).tuning?.family, 'ivf_pq_refine');
  });

  it('keeps unknown fields everywhere, through a write and a read', async () => {
    const dir = tmpDir();
    const data = example();
    data.python_only = { nested: [1, 2, 3] };
    (data.tuning as Record<string, unknown>).latency_ms_p99 = 1.7;
    (data.files as Record<string, Record<string, unknown>>)['faiss.index']!.mtime = 12345;
    (data.attrs as Record<string, unknown>).build = { host: 'h', n: 2 };
    const m = parseManifest(JSON.stringify(data), FILE);
    assert.deepEqual(m, data);
    await writeManifestAtomic(dir, m);
    assert.deepEqual(await readManifest(dir), data);
    assert.deepEqual(JSON.parse(readFileSync(manifestPath(dir), 'utf8')), data);
    assert.equal(readFileSync(manifestPath(dir), 'utf8'), serializeManifest(m));
    assert.deepEqual(readdirSync(dir), ['manifest.json'], 'no temp file left');
  });

  it('rewrites an existing manifest in place', async () => {
    const dir = tmpDir();
    const m = parseManifest(JSON.stringify(example()), FILE);
    await writeManifestAtomic(dir, m);
    const tuned: Manifest = { ...m, tuning: { family: 'hnsw', k: 10, hnsw_efSearch: 128 } };
    await writeManifestAtomic(dir, tuned);
    assert.equal((await readManifest(dir)).tuning?.hnsw_efSearch, 128);
  });
});

describe('parseManifest: invalid manifests are corruption (exit 4) naming the field', () => {
  const cases: [string, unknown, string | RegExp][] = [
    [
      'a string count',
      withField(['vectors_count'], '1000'),
      'vectors_count: expected number, got string "1000"',
    ],
    [
      'a fractional count',
      withField(['vectors_count'], 1.5),
      'vectors_count: expected integer, got number 1.5',
    ],
    ['a negative count', withField(['vectors_count'], -1), 'vectors_count: expected >= 0, got number -1'],
    ['a zero dimension', withField(['vec_dim'], 0), 'vec_dim: expected > 0, got number 0'],
    [
      'a missing field',
      withField(['index_checksum'], undefined),
      'index_checksum: missing (expected string)',
    ],
    ['a missing created_ts', withField(['created_ts'], undefined), 'created_ts: missing (expected number)'],
    [
      'created_ts in microseconds (issue 12 item 7)',
      withField(['created_ts'], 1795460000123000),
      'created_ts: expected seconds since the epoch in [946684800, 7258118400) (2000-01-01 .. 2200-01-01 UTC), ' +
        'got 1795460000123000 (looks like microseconds: 2026-11-23T18:53:20.123Z)',
    ],
    [
      'created_ts in milliseconds',
      withField(['created_ts'], 1795460000123),
      /^created_ts: expected seconds .*got 1795460000123 \(looks like milliseconds: 2026-11-23T18:53:20\.123Z\)$/,
    ],
    [
      'created_ts 0 (no unit fits)',
      withField(['created_ts'], 0),
      /^created_ts: expected seconds since the epoch in \[946684800, 7258118400\) \(2000-01-01 \.\. 2200-01-01 UTC\), got 0$/,
    ],
    ['created_ts negative', withField(['created_ts'], -5), /^created_ts: expected seconds .*got -5$/],
    [
      'an unknown metric',
      withField(['metric'], 'euclid'),
      'metric: expected "l2" | "ip" | "cosine", got string "euclid"',
    ],
    [
      'an upper-case checksum',
      withField(['chunks_checksum'], 'xxh64:0123456789ABCDEF'),
      /^chunks_checksum: expected xxh64:<16 lowercase hex>, got string/,
    ],
    ['a sha256 checksum', withField(['idmap_checksum'], 'sha256:00'), /^idmap_checksum: expected xxh64/],
    [
      'an empty factory',
      withField(['faiss_factory'], ''),
      'faiss_factory: expected length >= 1, got string ""',
    ],
    [
      'a hostile version',
      withField(['version'], '../x'),
      'version: expected a version name, got string "../x"',
    ],
    ['files as an array', withField(['files'], []), 'files: expected record, got array'],
    [
      'a file entry without checksum',
      withField(['files', 'faiss.index', 'checksum'], undefined),
      'files["faiss.index"].checksum: missing (expected string)',
    ],
    [
      'a file entry with string bytes',
      withField(['files', 'idmap.parquet', 'bytes'], '12'),
      'files["idmap.parquet"].bytes: expected number, got string "12"',
    ],
    [
      'a file name outside the version',
      withField(['files'], { '../../etc/passwd': { bytes: 1, checksum: sum } }),
      /^files\["\.\.\/\.\.\/etc\/passwd"\]: invalid key/,
    ],
    [
      'an unknown tuning family',
      withField(['tuning', 'family'], 'lsh'),
      /^tuning\.family: expected "flat" \| /,
    ],
    [
      'a recall above 1',
      withField(['tuning', 'recall_at_k'], 1.5),
      'tuning.recall_at_k: expected <= 1, got number 1.5',
    ],
    ['tuning without k', withField(['tuning', 'k'], undefined), 'tuning.k: missing (expected number)'],
    ['tuning as a string', withField(['tuning'], 'fast'), 'tuning: expected object, got string "fast"'],
    ['attrs as an array', withField(['attrs'], ['x']), 'attrs: expected record, got array'],
    [
      'schema_version 2',
      withField(['schema_version'], 2),
      'schema_version: 2 is not supported (this indexctl reads 1)',
    ],
    [
      'schema_version "1"',
      withField(['schema_version'], '1'),
      'schema_version: "1" is not supported (this indexctl reads 1)',
    ],
    ['no schema_version', withField(['schema_version'], undefined), 'schema_version: missing (expected 1)'],
    ['invalid JSON', '{"schema_version": 1,', /^not valid JSON: /],
    ['an empty file', '', /^not valid JSON: /],
    ['an array', '[]', 'expected a JSON object, got array'],
    ['null', 'null', 'expected a JSON object, got null'],
  ];
  for (const [label, data, expected] of cases) {
    it(label, () => {
      const problem = problemOf(data);
      if (typeof expected === 'string') assert.equal(problem, expected);
      else assert.match(problem, expected);
    });
  }

  it('lists every problem, not only the first', () => {
    const m = withField(['vec_dim'], 'x');
    m.metric = 'bad';
    delete m.files;
    const err = (() => {
      try {
        parseManifest(JSON.stringify(m), FILE);
      } catch (e) {
        return e as ManifestError;
      }
      assert.fail('no error');
    })();
    assert.equal(err.problems.length, 3);
    assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), ['files', 'metric', 'vec_dim']);
  });
});

describe('readManifest / writeManifestAtomic', () => {
  it('a missing or unreadable manifest is corruption naming the file', async () => {
    const dir = tmpDir();
    await assert.rejects(readManifest(dir), (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.equal(err.message, `${path.join(dir, 'manifest.json')}: missing`);
      return true;
    });
    mkdirSync(path.join(dir, 'manifest.json'));
    await assert.rejects(readManifest(dir), /manifest\.json: unreadable: /);
  });

  it('refuses to write a manifest that would not read back, leaving the old one', async () => {
    const dir = tmpDir();
    const good = parseManifest(JSON.stringify(example()), FILE);
    await writeManifestAtomic(dir, good);
    const bad = { ...good, vec_dim: -3 };
    await assert.rejects(writeManifestAtomic(dir, bad), /refusing to write an invalid manifest.*vec_dim/);
    assert.equal((await readManifest(dir)).vec_dim, 384);
    assert.deepEqual(readdirSync(dir), ['manifest.json']);
  });
});

describe('computeFileEntries', () => {
  it('sizes and checksums each file as xxhsum does', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'faiss.index'), Buffer.alloc(3 << 20, 7));
    writeFileSync(path.join(dir, 'idmap.parquet'), '');
    const progress: string[] = [];
    const files = await computeFileEntries(dir, ['faiss.index', 'idmap.parquet'], {
      onProgress: (name, done, total) => progress.push(`${name} ${done}/${total}`),
    });
    for (const name of ['faiss.index', 'idmap.parquet']) {
      const out = spawnSync('xxhsum', ['-H1', path.join(dir, name)], { encoding: 'utf8' }).stdout;
      assert.equal(files[name]?.checksum, 'xxh64:' + out.split(' ')[0]);
    }
    assert.equal(files['faiss.index']?.bytes, 3 << 20);
    assert.equal(files['idmap.parquet']?.bytes, 0);
    assert.ok(progress.includes(`faiss.index ${3 << 20}/${3 << 20}`));
  });

  it('a missing file or a directory is corruption naming it; a path is refused', async () => {
    const dir = tmpDir();
    await assert.rejects(computeFileEntries(dir, ['faiss.index']), (err: unknown) => {
      assert.ok(err instanceof IndexCorruptionError);
      assert.equal(err.message, `${path.join(dir, 'faiss.index')}: missing`);
      return true;
    });
    mkdirSync(path.join(dir, 'sub'));
    await assert.rejects(computeFileEntries(dir, ['sub']), /sub: not a regular file/);
    await assert.rejects(computeFileEntries(dir, ['../x']), TypeError);
  });
});

describe('familyFromFactory', () => {
  const table: [string, string][] = [
    ['Flat', 'flat'],
    ['IDMap2,Flat', 'flat'],
    ['HNSW32', 'hnsw'],
    ['HNSW32,Flat', 'hnsw'],
    ['IDMap2,HNSW32,Flat', 'hnsw'],
    ['HNSW32_SQ8', 'hnsw'],
    ['IVF1024,Flat', 'ivf_flat'],
    ['IVF1024_HNSW32,Flat', 'ivf_flat'],
    ['IVF1024,PQ48', 'ivf_pq'],
    ['IVF1024,PQ48np', 'ivf_pq'],
    ['IVF1024,PQ32x4fs', 'ivf_pq'],
    ['IVF1024_HNSW32,PQ48', 'ivf_pq'],
    ['OPQ48,IVF1024,PQ48', 'ivf_pq'],
    ['OPQ16_64,IVF4096,PQ16x4fsr', 'ivf_pq'],
    ['PCAR64,IVF256,Flat', 'ivf_flat'],
    ['IMI2x10,PQ16', 'ivf_pq'],
    ['IVF1024,PQ32x4fs,RFlat', 'ivf_pq_refine'],
    ['OPQ48,IVF1024_HNSW32,PQ48,RFlat', 'ivf_pq_refine'],
    ['IVF1024,PQ32,Refine(SQfp16)', 'ivf_pq_refine'],
    ['IVF1024,SQ8', 'other'],
    ['IVF1024,Flat,RFlat', 'other'],
    ['LSH', 'other'],
    ['PQ16', 'other'],
    ['NSG32,Flat', 'other'],
    ['Flat,Flat', 'other'],
    ['IVF1024', 'other'],
    ['', 'other'],
  ];
  for (const [factory, family] of table) {
    it(`${JSON.stringify(factory)} -> ${family}`, () => assert.equal(familyFromFactory(factory), family));
  }
});
