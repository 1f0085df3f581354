/**
 * Every command and flag, declared once as data: this table drives commander, `--help` and
 * docs/cli.md (scripts/gen-cli-doc.js). Command modules are imported lazily, so `--help` and
 * `--version` load no FAISS, DuckDB or wasm.
 */
import type { CommandContext, CommandOutput } from './commands/context.js';

export interface OptionSpec {
  flags: string;
  description: string;
  defaultValue?: string | boolean;
}

export interface CommandSpec {
  name: string;
  args: string[];
  summary: string;
  options: OptionSpec[];
  examples: string[];
  load: () => Promise<{ run: (ctx: CommandContext) => Promise<CommandOutput> }>;
}

export const globalOptions: OptionSpec[] = [
  { flags: '--root <dir>', description: 'index root (default: $INDEXCTL_ROOT or ./index)' },
  { flags: '--json', description: 'print one JSON document on stdout; logs stay on stderr' },
  { flags: '--quiet', description: 'no progress or informational output on stderr' },
  { flags: '--threads <n>', description: 'FAISS/OpenMP threads (default: all cores)' },
  { flags: '--verbose', description: 'stack traces for internal errors' },
];

export const commands: CommandSpec[] = [
  {
    name: 'doctor',
    args: [],
    summary: 'load the FAISS addon, build and search a small index, and report which FAISS is linked',
    options: [],
    examples: ['indexctl doctor', 'indexctl doctor --json'],
    load: () => import('./commands/doctor.js'),
  },
  {
    name: 'build',
    args: [],
    summary:
      'build an immutable version directory (FAISS index, idmap, catalog, manifest) from a chunks Parquet file',
    options: [
      { flags: '--chunks <file>', description: 'chunks Parquet: id int64, embedding list<float> (required)' },
      {
        flags: '--factory <string>',
        description: 'FAISS factory string (wrapped in IndexIDMap2 in code), or auto',
        defaultValue: 'auto',
      },
      {
        flags: '--metric <metric>',
        description: 'l2, ip or cosine (normalizes, then inner product)',
        defaultValue: 'l2',
      },
      { flags: '--version <name>', description: 'version name (default: YYYYMMDDTHHMMSSZ-<8 hex>)' },
      {
        flags: '--train-sample <n>',
        description: 'vectors to train on (default: per FAISS guidance for the index)',
      },
      {
        flags: '--memory-budget <size>',
        description: 'refuse plans whose peak memory exceeds this (e.g. 8G); guides --factory auto',
      },
      {
        flags: '--materialize',
        description: 'also store the idmap as a DuckDB table indexed on external_id',
      },
      {
        flags: '--dry-run',
        description: 'print the plan (factory, estimated bytes, peak memory, time) and stop',
      },
      { flags: '--id-column <name>', description: 'id column', defaultValue: 'id' },
      { flags: '--embedding-column <name>', description: 'embedding column', defaultValue: 'embedding' },
      { flags: '--dim <n>', description: 'expected embedding dimension; a file with another is refused' },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
      { flags: '--seed <n>', description: 'seed of the training sample', defaultValue: '0' },
    ],
    examples: [
      'indexctl build --chunks chunks.parquet --factory HNSW32 --metric cosine',
      'indexctl build --chunks chunks.parquet --factory auto --memory-budget 8G --dry-run',
      'indexctl build --chunks chunks.parquet --factory IVF1024,PQ48x4fs,RFlat --version nightly-001 --json',
    ],
    load: () => import('./commands/build.js'),
  },
  {
    name: 'export-idmap',
    args: ['<version>'],
    summary: "re-derive idmap.parquet (faiss_row -> external_id, in row order) from a version's faiss.index",
    options: [
      {
        flags: '--out <file>',
        description: 'write here (required once the version has a manifest: versions are immutable)',
      },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: [
      'indexctl export-idmap 20261123T193000Z-3f2a9c1b --out /tmp/idmap.parquet',
      'indexctl export-idmap adopted-v1',
    ],
    load: () => import('./commands/export-idmap.js'),
  },
  {
    name: 'write-manifest',
    args: ['<version>'],
    summary:
      '(re)compute counts and checksums and write manifest.json; adopts a version made by another tool',
    options: [
      {
        flags: '--factory <string>',
        description: 'the factory string the index was built with (derived for Flat)',
      },
      { flags: '--metric <metric>', description: 'l2, ip or cosine (default: the index metric)' },
      { flags: '--attr <key=value...>', description: 'extra attrs to record (repeatable)' },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: [
      'indexctl write-manifest py-20261124 --factory HNSW32 --metric cosine --attr pipeline=nightly',
    ],
    load: () => import('./commands/write-manifest.js'),
  },
  {
    name: 'sample',
    args: [],
    summary:
      'make a chunks Parquet file from a source tree, embedded by a deterministic feature-hashing embedder',
    options: [
      {
        flags: '--from <dir>',
        description: 'source tree to read (skips node_modules, .git, dist, build, binaries)',
      },
      { flags: '--out <file>', description: 'chunks Parquet file to write' },
      { flags: '--dim <n>', description: 'embedding dimension (default: 384)' },
    ],
    examples: [
      'indexctl sample --from src --out chunks.parquet',
      'indexctl sample --from . --out demo.parquet --dim 128 --json',
    ],
    load: () => import('./commands/sample.js'),
  },
];
