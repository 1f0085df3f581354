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
  {
    flags: '--json',
    description:
      'print one JSON document on stdout (on failure {schema: "indexctl.error/1", exitCode, error, message}); logs stay on stderr',
  },
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
      {
        flags: '--publish',
        description: 'then publish the new version (level-3 verify, flip CURRENT), as `indexctl publish V`',
      },
      {
        flags: '--link-chunks',
        description:
          'hard-link the chunks file into the version instead of copying it (only if nothing ever rewrites that file in place)',
      },
      { flags: '--id-column <name>', description: 'id column', defaultValue: 'id' },
      { flags: '--embedding-column <name>', description: 'embedding column', defaultValue: 'embedding' },
      { flags: '--uri-column <name>', description: 'uri column (hydration)', defaultValue: 'uri' },
      { flags: '--lang-column <name>', description: 'lang column (hydration)', defaultValue: 'lang' },
      {
        flags: '--start-line-column <name>',
        description: 'start_line column (hydration)',
        defaultValue: 'start_line',
      },
      {
        flags: '--end-line-column <name>',
        description: 'end_line column (hydration)',
        defaultValue: 'end_line',
      },
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
    name: 'verify',
    args: ['[version]'],
    summary:
      'check a version: 1 manifest and checksums; 2 (default) + index, idmap and catalog structure and counts; 3 + 1-NN smoke',
    options: [
      { flags: '--current', description: 'verify the version CURRENT points to' },
      {
        flags: '--level <n>',
        description: '1 manifest + checksums, 2 + index/idmap/catalog, 3 + smoke search',
        defaultValue: '2',
      },
      {
        flags: '--smoke <n>',
        description: 'stored embeddings the level-3 smoke search samples',
        defaultValue: '200',
      },
      { flags: '--seed <n>', description: "seed of the smoke search's sample", defaultValue: '0' },
      {
        flags: '--probe-timeout <seconds>',
        description:
          'kill the index probe and report corruption (4) when FAISS takes longer than this on one step (default: $INDEXCTL_PROBE_TIMEOUT, else 120 s + 30 s per GiB of faiss.index)',
      },
      {
        flags: '--probe-memory <size>',
        description:
          'kill the index probe and report corruption (4) when it holds more memory than this, e.g. 16G (default: $INDEXCTL_PROBE_MEMORY, else 1 GiB + 8 x the faiss.index size)',
      },
    ],
    examples: [
      'indexctl verify --current',
      'indexctl verify 20261123T193000Z-3f2a9c1b --level 3 --json',
      'indexctl verify nightly-001 --level 1',
    ],
    load: () => import('./commands/verify.js'),
  },
  {
    name: 'publish',
    args: ['<version>'],
    summary:
      'verify a version (level 3) and point CURRENT at it with one atomic rename, under the writer lock; logs the flip to publish.log',
    options: [
      {
        flags: '--expect-current <version>',
        description:
          'compare-and-swap: publish only if CURRENT is this version now ("none": nothing published yet); otherwise exit 3',
      },
      { flags: '--reason <text>', description: 'why, recorded in publish.log' },
      {
        flags: '--dry-run',
        description:
          'verify and check --expect-current, say what would happen, change nothing (takes no lock)',
      },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: [
      'indexctl publish 20261123T193000Z-3f2a9c1b --expect-current 20261122T193000Z-9b1e22c0 --reason nightly',
      'indexctl publish v2 --expect-current none --wait 600',
      'indexctl publish v2 --dry-run --json',
    ],
    load: () => import('./commands/publish.js'),
  },
  {
    name: 'rollback',
    args: [],
    summary:
      'publish the version CURRENT replaced (the "from" of the last flip to it in publish.log), with the same checks',
    options: [
      { flags: '--to <version>', description: 'publish this version instead of the previous one' },
      { flags: '--reason <text>', description: 'why, recorded in publish.log as "rollback: <text>"' },
      { flags: '--dry-run', description: 'verify and say what would happen, change nothing' },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: [
      'indexctl rollback',
      'indexctl rollback --to 20261120T193000Z-0c4d1a2b --reason "bad results"',
    ],
    load: () => import('./commands/rollback.js'),
  },
  {
    name: 'status',
    args: [],
    summary:
      'versions with size, vectors, factory, tuning, created and pins; CURRENT, the rollback target, the lock holder, the FAISS build',
    options: [],
    examples: ['indexctl status', 'indexctl status --json'],
    load: () => import('./commands/status.js'),
  },
  {
    name: 'list',
    args: [],
    summary: 'the same as status',
    options: [],
    examples: ['indexctl list --root /srv/index'],
    load: () => import('./commands/status.js'),
  },
  {
    name: 'diff',
    args: ['<a>', '<b>'],
    summary:
      'how version b differs from a: factory, dimension, counts, checksums, tuning, and the chunk ids added and removed',
    options: [{ flags: '--limit <n>', description: 'chunk ids to list each way', defaultValue: '10' }],
    examples: [
      'indexctl diff 20261122T193000Z-9b1e22c0 20261123T193000Z-3f2a9c1b',
      'indexctl diff v1 v2 --json',
    ],
    load: () => import('./commands/diff.js'),
  },
  {
    name: 'pin',
    args: ['<version>'],
    summary: 'protect a version from gc (recorded in <root>/pins)',
    options: [
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: ['indexctl pin 20261123T193000Z-3f2a9c1b'],
    load: () => import('./commands/pin.js'),
  },
  {
    name: 'unpin',
    args: ['<version>'],
    summary: 'remove the gc protection of a version',
    options: [
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: ['indexctl unpin 20261123T193000Z-3f2a9c1b'],
    load: () => import('./commands/unpin.js'),
  },
  {
    name: 'gc',
    args: [],
    summary:
      'list (and with --yes remove) old versions and stale staging dirs; never CURRENT, the rollback target or a pinned version',
    options: [
      {
        flags: '--keep <n>',
        description: 'keep the n newest versions besides the protected ones (0: only the protected)',
        defaultValue: '3',
      },
      {
        flags: '--older-than <duration>',
        description: 'remove only versions created longer ago than this (e.g. 7d, 12h, 30m)',
      },
      { flags: '--yes', description: 'remove; without it gc only lists what it would remove' },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: ['indexctl gc', 'indexctl gc --keep 5 --older-than 14d --yes'],
    load: () => import('./commands/gc.js'),
  },
  {
    name: 'tune',
    args: ['<version>'],
    summary:
      'sweep search-time knobs (nprobe, efSearch, k_factor_rf, ...), measure recall@k, latency and QPS, pick the fastest setting meeting a target',
    options: [
      { flags: '--k <n>', description: 'neighbours per query for recall@k', defaultValue: '10' },
      {
        flags: '--target-recall <r>',
        description: 'the chosen setting is the fastest with recall@k >= r; none reaching it exits 3',
        defaultValue: '0.95',
      },
      {
        flags: '--queries <file>',
        description: 'held-out query vectors: Parquet (embedding column), .npy float32 or raw float32',
      },
      {
        flags: '--sample <n>',
        description:
          "without --queries: sample n stored vectors as queries, each query's own id excluded (default 1000)",
      },
      { flags: '--seed <n>', description: 'seed of the query sample', defaultValue: '0' },
      {
        flags: '--params <spec>',
        description:
          'settings to sweep, e.g. "nprobe=1,4,16,64;efSearch=16,64,256" (default: ParameterSpace ranges of the index)',
      },
      { flags: '--runs <n>', description: 'timed runs per setting; the best is reported', defaultValue: '3' },
      {
        flags: '--max-seconds <s>',
        description: 'time budget of the sweep; settings that would overrun it are cut and listed',
        defaultValue: '60',
      },
      { flags: '--plot <file.svg>', description: 'also write a recall-vs-QPS chart as SVG' },
      {
        flags: '--write',
        description: "store the chosen setting as the manifest's tuning (atomic, under the writer lock)",
      },
      {
        flags: '--embedding-column <name>',
        description: 'embedding column of a Parquet --queries file',
        defaultValue: 'embedding',
      },
      { flags: '--wait <seconds>', description: 'wait this long for another writer instead of exiting 75' },
    ],
    examples: [
      'indexctl tune 20261123T193000Z-3f2a9c1b',
      'indexctl tune nightly-001 --params "nprobe=1,4,16,64,256" --target-recall 0.9 --plot tune.svg',
      'indexctl tune nightly-001 --queries heldout.parquet --k 10 --write --json',
    ],
    load: () => import('./commands/tune.js'),
  },
  {
    name: 'search',
    args: ['[version]'],
    summary:
      'k-NN on a version (default CURRENT) with its tuning applied, hydrated from the catalog (id, uri, lang, lines, score, faiss_row)',
    options: [
      {
        flags: '--current',
        description: 'search the CURRENT version (the default when no version is given)',
      },
      { flags: '--id <id>', description: "query with this chunk's stored embedding" },
      {
        flags: '--vector-file <file>',
        description: 'query vectors: .npy float32, raw float32 (n x d), or Parquet (embedding column)',
      },
      { flags: '--k <n>', description: 'hits per query', defaultValue: '10' },
      {
        flags: '--pool-out <file>',
        description:
          'append rows (query_id, channel, rank, chunk_id, score, explanations) to this Parquet pool file',
      },
      {
        flags: '--embedding-column <name>',
        description: 'embedding column of a Parquet --vector-file',
        defaultValue: 'embedding',
      },
    ],
    examples: [
      'indexctl search --id 42',
      'indexctl search nightly-001 --vector-file queries.npy --k 20 --json',
      'indexctl search --current --vector-file q.f32 --pool-out pool.parquet',
    ],
    load: () => import('./commands/search.js'),
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
