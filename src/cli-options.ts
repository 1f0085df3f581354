/**
 * Every command and flag, declared once as data: this table drives commander (parsers, defaults,
 * choices, conflicts, aliases), `--help`, docs/cli.md (scripts/gen-cli-doc.js) and each command's
 * typed options (`CommandOptions<typeof build>`). Command modules are imported lazily, so `--help`
 * and `--version` load no FAISS, DuckDB or wasm.
 */
import {
  defaulted,
  described,
  optional,
  required,
  switchFlag,
  type OptionSpec,
  type OptionsOf,
} from './cli/option-spec.js';
import {
  attrs,
  choice,
  chunkId,
  decimal,
  durationMs,
  hostPort,
  integer,
  intChoice,
  seconds,
  sizeBytes,
  text,
  verbatim,
} from './cli/parsers.js';
import type { CommandContext, CommandOutput } from './commands/context.js';

export type { OptionSpec } from './cli/option-spec.js';

/**
 * A command module. Its `run` takes `CommandContext<CommandOptions<typeof itsRow>>`; the row cannot
 * check that itself (the module's type refers back to the row), so the parameter is left open here.
 */
export interface CommandModule {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  run(ctx: CommandContext<any>): Promise<CommandOutput>;
}

export interface CommandSpec<O extends readonly OptionSpec[] = readonly OptionSpec[]> {
  name: string;
  /** Other names of the same command (`list` for `status`). */
  aliases?: readonly string[];
  args: readonly string[];
  summary: string;
  options: O;
  examples: readonly string[];
  load: () => Promise<CommandModule>;
}

/** The typed options a command's `run` receives. */
export type CommandOptions<C> = C extends CommandSpec<infer O> ? OptionsOf<O> : never;

function command<const O extends readonly OptionSpec[]>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

const METRICS = ['l2', 'ip', 'cosine'] as const;

export const globalOptions = [
  optional('--root <dir>', 'index root (default: $INDEXCTL_ROOT or ./index)', text),
  switchFlag(
    '--json',
    'print one JSON document on stdout (on failure {schema: "indexctl.error/1", exitCode, error, message}); logs stay on stderr',
  ),
  switchFlag('--quiet', 'no progress or informational output on stderr'),
  optional('--threads <n>', 'FAISS/OpenMP threads (default: all cores)', integer(1)),
  optional(
    '--duckdb-memory <size>',
    'DuckDB memory_limit for every connection (default: $INDEXCTL_DUCKDB_MEMORY, else 1 GiB or 1/4 of RAM; in a build with --memory-budget, what the FAISS plan leaves)',
    sizeBytes,
  ),
  optional(
    '--duckdb-threads <n>',
    'DuckDB threads for every connection (default: $INDEXCTL_DUCKDB_THREADS, else min(4, cores))',
    integer(1, 1024),
  ),
  switchFlag('--verbose', 'stack traces for internal errors; build: the seconds of each stage'),
] as const;

export type GlobalFlags = OptionsOf<typeof globalOptions>;

// Flags several commands share, declared once.
const wait = optional(
  '--wait <seconds>',
  'wait this long for another writer instead of exiting 75',
  integer(0),
);
const reason = optional('--reason <text>', 'why, recorded in publish.log', text);
const embeddingColumn = defaulted('--embedding-column <name>', 'embedding column', text, 'embedding');
const current = switchFlag('--current', 'the version CURRENT points to');
const k = defaulted('--k <n>', 'neighbours per query', integer(1), 10);
const metricsFile = optional(
  '--metrics-file <path>',
  'write Prometheus metrics of this run (exit code, duration, what it did) to this textfile-collector file, atomically, also when it fails',
  text,
);

export const doctor = command({
  name: 'doctor',
  args: [],
  summary: 'load the FAISS addon, build and search a small index, and report which FAISS is linked',
  options: [],
  examples: ['indexctl doctor', 'indexctl doctor --json'],
  load: () => import('./commands/doctor.js') as Promise<CommandModule>,
});

export const build = command({
  name: 'build',
  args: [],
  summary:
    'build an immutable version directory (FAISS index, idmap, catalog, manifest) from a chunks Parquet file',
  options: [
    required(
      '--chunks <path>',
      "chunks Parquet: id int64, embedding list<float>; a file, a directory (its *.parquet, in byte order of names) or a quoted glob ('parts/*.parquet')",
      text,
    ),
    defaulted(
      '--factory <string>',
      'FAISS factory string (wrapped in IndexIDMap2 in code), or auto',
      text,
      'auto',
    ),
    defaulted(
      '--metric <metric>',
      'l2, ip or cosine (normalizes, then inner product)',
      choice(METRICS),
      'l2',
      {
        choices: METRICS,
      },
    ),
    optional('--version <name>', 'version name (default: YYYYMMDDTHHMMSSZ-<8 hex>)', verbatim),
    optional(
      '--train-sample <n>',
      'vectors to train on (default: per FAISS guidance for the index)',
      integer(1),
    ),
    optional(
      '--memory-budget <size>',
      'refuse plans whose peak memory exceeds this (e.g. 8G); guides --factory auto',
      sizeBytes,
    ),
    switchFlag('--materialize', 'also store the idmap as a DuckDB table indexed on external_id'),
    switchFlag('--dry-run', 'print the plan (factory, estimated bytes, peak memory, time) and stop'),
    switchFlag(
      '--publish',
      'then publish the new version (level-3 verify, flip CURRENT), as `indexctl publish V`',
      { conflicts: ['dryRun'] },
    ),
    switchFlag(
      '--link-chunks',
      'hard-link the chunks file into the version instead of copying it (only if nothing ever rewrites that file in place; a dataset of several files is always written as one)',
    ),
    defaulted('--id-column <name>', 'id column', text, 'id'),
    embeddingColumn,
    defaulted('--uri-column <name>', 'uri column (hydration)', text, 'uri'),
    defaulted('--lang-column <name>', 'lang column (hydration)', text, 'lang'),
    defaulted('--start-line-column <name>', 'start_line column (hydration)', text, 'start_line'),
    defaulted('--end-line-column <name>', 'end_line column (hydration)', text, 'end_line'),
    optional('--dim <n>', 'expected embedding dimension; a file with another is refused', integer(1)),
    described(
      wait,
      'the build takes the writer lock only to seal the version: wait this long for it (default 600; 0: exit 75 at once)',
    ),
    metricsFile,
    defaulted('--seed <n>', 'seed of the training sample', integer(0), 0),
    optional(
      '--trained <file>',
      'start from this trained index (indexctl train) instead of training; factory and metric come from its sidecar',
      text,
    ),
    optional(
      '--base <version>',
      "build incrementally from this version: its index minus the removed and changed chunks (by id and embedding hash) plus the added and changed; factory and metric are the base's",
      verbatim,
      { conflicts: ['trained', 'shard'] },
    ),
    optional(
      '--drift-threshold <ratio>',
      "with --base: warn when the new vectors lie this many times as far from their coarse centroids as the base's (default 1.15)",
      decimal(1, 1000),
    ),
    switchFlag(
      '--retrain-on-drift',
      'with --base: above the drift threshold, train afresh (a full build of --chunks)',
    ),
    optional(
      '--shard <I/N>',
      'build shard I of N (0-based; row group g goes to shard g mod N) into --out, for indexctl merge; needs --trained',
      text,
      { conflicts: ['version', 'publish', 'dryRun'] },
    ),
    optional('--out <dir>', 'the shard directory to write (with --shard)', text),
  ],
  examples: [
    'indexctl build --chunks chunks.parquet --factory HNSW32 --metric cosine',
    'indexctl build --chunks chunks.parquet --factory auto --memory-budget 8G --dry-run',
    'indexctl build --chunks chunks.parquet --factory IVF1024,PQ48x4fs,RFlat --version nightly-001 --json',
    'indexctl build --chunks chunks.parquet --trained trained.faiss --shard 0/4 --out shards/0',
    'indexctl build --chunks new.parquet --base v1 --version v2',
  ],
  load: () => import('./commands/build.js') as Promise<CommandModule>,
});

export const train = command({
  name: 'train',
  args: [],
  summary:
    'train an empty index once (IndexIDMap2-wrapped, with a sidecar T.json) for shard builds, merge and build --trained',
  options: [
    required(
      '--chunks <path>',
      'chunks Parquet to sample the training vectors from: a file, a directory or a quoted glob (as build)',
      text,
    ),
    required(
      '--factory <string>',
      'FAISS factory string; must be mergeable (IVF or flat codes, not HNSW)',
      text,
    ),
    defaulted(
      '--metric <metric>',
      'l2, ip or cosine (normalizes, then inner product)',
      choice(METRICS),
      'l2',
      {
        choices: METRICS,
      },
    ),
    optional(
      '--train-sample <n>',
      'vectors to train on (default: per FAISS guidance for the index)',
      integer(1),
    ),
    defaulted('--seed <n>', 'seed of the training sample', integer(0), 0),
    required('--out <file>', 'the trained index to write (its sidecar is <file>.json)', text),
    defaulted('--id-column <name>', 'id column', text, 'id'),
    embeddingColumn,
    optional('--dim <n>', 'expected embedding dimension; a file with another is refused', integer(1)),
  ],
  examples: [
    'indexctl train --chunks chunks.parquet --factory IVF1024,PQ48x4fs --out trained.faiss',
    'indexctl train --chunks chunks.parquet --factory Flat --metric cosine --out trained.faiss --json',
  ],
  load: () => import('./commands/train.js') as Promise<CommandModule>,
});

export const merge = command({
  name: 'merge',
  args: ['<shard-dir...>'],
  summary:
    'check shard directories (build --shard) against each other and their checksums, merge them and seal an ordinary version',
  options: [
    optional('--version <name>', 'version name (default: YYYYMMDDTHHMMSSZ-<8 hex>)', verbatim),
    optional(
      '--chunks <path>',
      "the chunks the version holds: a file, a directory or a quoted glob (default: the files recorded in the shards' shard.json)",
      text,
    ),
    switchFlag('--materialize', 'also store the idmap as a DuckDB table indexed on external_id'),
    switchFlag(
      '--link-chunks',
      'hard-link the chunks file into the version instead of copying it (only if nothing ever rewrites that file in place; a dataset of several files is always written as one)',
    ),
    described(
      wait,
      'the merge takes the writer lock only to seal the version: wait this long for it (default 600)',
    ),
  ],
  examples: [
    'indexctl --root /srv/index merge shards/0 shards/1 shards/2 shards/3 --version nightly-001',
    'indexctl merge shards/* --chunks chunks.parquet --version v2 --json',
  ],
  load: () => import('./commands/merge.js') as Promise<CommandModule>,
});

export const exportIdmap = command({
  name: 'export-idmap',
  args: ['<version>'],
  summary: "re-derive idmap.parquet (faiss_row -> external_id, in row order) from a version's faiss.index",
  options: [
    optional(
      '--out <file>',
      'write here (required once the version has a manifest: versions are immutable)',
      text,
    ),
    wait,
  ],
  examples: [
    'indexctl export-idmap 20261123T193000Z-3f2a9c1b --out /tmp/idmap.parquet',
    'indexctl export-idmap adopted-v1',
  ],
  load: () => import('./commands/export-idmap.js') as Promise<CommandModule>,
});

export const writeManifest = command({
  name: 'write-manifest',
  args: ['<version>'],
  summary: '(re)compute counts and checksums and write manifest.json; adopts a version made by another tool',
  options: [
    optional('--factory <string>', 'the factory string the index was built with (derived for Flat)', text),
    optional('--metric <metric>', 'l2, ip or cosine (default: the index metric)', choice(METRICS), {
      choices: METRICS,
    }),
    optional('--attr <key=value...>', 'extra attrs to record (repeatable)', attrs),
    wait,
  ],
  examples: ['indexctl write-manifest py-20261124 --factory HNSW32 --metric cosine --attr pipeline=nightly'],
  load: () => import('./commands/write-manifest.js') as Promise<CommandModule>,
});

export const verify = command({
  name: 'verify',
  args: ['[version]'],
  summary:
    'check a version: 1 manifest and checksums; 2 + index, idmap and catalog structure and counts; 3 (default) + 1-NN smoke',
  options: [
    described(current, 'verify the version CURRENT points to'),
    defaulted(
      '--level <n>',
      '1 manifest + checksums, 2 + index/idmap/catalog, 3 + smoke search',
      intChoice([1, 2, 3] as const),
      3,
      { choices: ['1', '2', '3'] },
    ),
    defaulted('--smoke <n>', 'stored embeddings the level-3 smoke search samples', integer(1), 200),
    defaulted('--seed <n>', "seed of the smoke search's sample", integer(0), 0),
    optional(
      '--probe-timeout <seconds>',
      'kill the index probe and report corruption (4) when FAISS takes longer than this on one step (default: $INDEXCTL_PROBE_TIMEOUT, else 120 s + 30 s per GiB of faiss.index)',
      seconds,
    ),
    optional(
      '--probe-memory <size>',
      'kill the index probe and report corruption (4) when it holds more memory than this, e.g. 16G (default: $INDEXCTL_PROBE_MEMORY, else 1 GiB + 8 x the faiss.index size)',
      sizeBytes,
    ),
    metricsFile,
  ],
  examples: [
    'indexctl verify --current',
    'indexctl verify 20261123T193000Z-3f2a9c1b --level 3 --json',
    'indexctl verify nightly-001 --level 1',
  ],
  load: () => import('./commands/verify.js') as Promise<CommandModule>,
});

export const publish = command({
  name: 'publish',
  args: ['<version>'],
  summary:
    'verify a version (level 3) and point CURRENT at it with one atomic rename, under the writer lock; logs the flip to publish.log',
  options: [
    optional(
      '--expect-current <version>',
      'compare-and-swap: publish only if CURRENT is this version now ("none": nothing published yet); otherwise exit 3',
      verbatim,
    ),
    reason,
    switchFlag(
      '--dry-run',
      'verify and check --expect-current, say what would happen, change nothing (takes no lock)',
    ),
    wait,
    metricsFile,
  ],
  examples: [
    'indexctl publish 20261123T193000Z-3f2a9c1b --expect-current 20261122T193000Z-9b1e22c0 --reason nightly',
    'indexctl publish v2 --expect-current none --wait 600',
    'indexctl publish v2 --dry-run --json',
  ],
  load: () => import('./commands/publish.js') as Promise<CommandModule>,
});

export const rollback = command({
  name: 'rollback',
  args: [],
  summary:
    'publish the version CURRENT replaced (the "from" of the last flip to it in publish.log), with the same checks',
  options: [
    optional('--to <version>', 'publish this version instead of the previous one', verbatim),
    described(reason, 'why, recorded in publish.log as "rollback: <text>"'),
    switchFlag('--dry-run', 'verify and say what would happen, change nothing'),
    wait,
    metricsFile,
  ],
  examples: ['indexctl rollback', 'indexctl rollback --to 20261120T193000Z-0c4d1a2b --reason "bad results"'],
  load: () => import('./commands/rollback.js') as Promise<CommandModule>,
});

export const status = command({
  name: 'status',
  aliases: ['list'],
  args: [],
  summary:
    'versions with size, vectors, factory, tuning, created and pins; CURRENT, the rollback target, the lock holder, the FAISS build',
  options: [],
  examples: ['indexctl status', 'indexctl status --json', 'indexctl list --root /srv/index'],
  load: () => import('./commands/status.js') as Promise<CommandModule>,
});

export const diff = command({
  name: 'diff',
  args: ['<a>', '<b>'],
  summary:
    'how version b differs from a: factory, dimension, counts, checksums, tuning, and the chunk ids added and removed',
  options: [defaulted('--limit <n>', 'chunk ids to list each way', integer(0), 10)],
  examples: [
    'indexctl diff 20261122T193000Z-9b1e22c0 20261123T193000Z-3f2a9c1b',
    'indexctl diff v1 v2 --json',
  ],
  load: () => import('./commands/diff.js') as Promise<CommandModule>,
});

export const pin = command({
  name: 'pin',
  args: ['<version>'],
  summary: 'protect a version from gc (recorded in <root>/pins)',
  options: [wait],
  examples: ['indexctl pin 20261123T193000Z-3f2a9c1b'],
  load: () => import('./commands/pin.js') as Promise<CommandModule>,
});

export const unpin = command({
  name: 'unpin',
  args: ['<version>'],
  summary: 'remove the gc protection of a version',
  options: [wait],
  examples: ['indexctl unpin 20261123T193000Z-3f2a9c1b'],
  load: () => import('./commands/unpin.js') as Promise<CommandModule>,
});

export const gc = command({
  name: 'gc',
  args: [],
  summary:
    'list (and with --yes remove) old versions and stale staging dirs; never CURRENT, the rollback target or a pinned version',
  options: [
    defaulted(
      '--keep <n>',
      'keep the n newest versions besides the protected ones (0: only the protected)',
      integer(0),
      3,
    ),
    optional(
      '--older-than <duration>',
      'remove only versions created longer ago than this (e.g. 7d, 12h, 30m)',
      durationMs,
    ),
    switchFlag('--yes', 'remove; without it gc only lists what it would remove'),
    switchFlag('--dry-run', 'only list what would be removed (the default without --yes)', {
      conflicts: ['yes'],
    }),
    wait,
    metricsFile,
  ],
  examples: ['indexctl gc', 'indexctl gc --dry-run --keep 5', 'indexctl gc --keep 5 --older-than 14d --yes'],
  load: () => import('./commands/gc.js') as Promise<CommandModule>,
});

export const tune = command({
  name: 'tune',
  args: ['<version>'],
  summary:
    'sweep search-time knobs (nprobe, efSearch, k_factor_rf, ...), measure recall@k, latency and QPS, pick the fastest setting meeting a target',
  options: [
    described(k, 'neighbours per query for recall@k'),
    defaulted(
      '--target-recall <r>',
      'the chosen setting is the fastest with recall@k >= r; none reaching it exits 3',
      decimal(0, 1, true),
      0.95,
    ),
    optional(
      '--queries <file>',
      'held-out query vectors: Parquet (embedding column), .npy float32 or raw float32',
      text,
      { conflicts: ['sample'] },
    ),
    optional(
      '--sample <n>',
      "without --queries: sample n stored vectors as queries, each query's own id excluded (default 1000)",
      integer(1),
    ),
    defaulted('--seed <n>', 'seed of the query sample', integer(0), 0),
    optional(
      '--params <spec>',
      'settings to sweep, e.g. "nprobe=1,4,16,64;efSearch=16,64,256" (default: ParameterSpace ranges of the index)',
      text,
    ),
    defaulted('--runs <n>', 'timed runs per setting; the best is reported', integer(1), 3),
    defaulted(
      '--max-seconds <s>',
      'time budget of the sweep; settings that would overrun it are cut and listed',
      decimal(0, Infinity, true),
      60,
    ),
    optional('--plot <file.svg>', 'also write a recall-vs-QPS chart as SVG', text),
    switchFlag(
      '--write',
      "store the chosen setting as the manifest's tuning (atomic, under the writer lock)",
    ),
    described(embeddingColumn, 'embedding column of a Parquet --queries file'),
    wait,
    metricsFile,
  ],
  examples: [
    'indexctl tune 20261123T193000Z-3f2a9c1b',
    'indexctl tune nightly-001 --params "nprobe=1,4,16,64,256" --target-recall 0.9 --plot tune.svg',
    'indexctl tune nightly-001 --queries heldout.parquet --k 10 --write --json',
  ],
  load: () => import('./commands/tune.js') as Promise<CommandModule>,
});

export const search = command({
  name: 'search',
  args: ['[version]'],
  summary:
    'k-NN on a version (default CURRENT) with its tuning applied, hydrated from the catalog (id, uri, lang, lines, score, faiss_row)',
  options: [
    described(current, 'search the CURRENT version (the default when no version is given)'),
    optional('--id <id>', "query with this chunk's stored embedding", chunkId, {
      conflicts: ['vectorFile', 'text'],
    }),
    optional(
      '--vector-file <file>',
      'query vectors: .npy float32, raw float32 (n x d), or Parquet (embedding column)',
      text,
      { conflicts: ['text'] },
    ),
    optional(
      '--text <words>',
      'query with these words, embedded by the built-in embedder (versions built from `indexctl sample` chunks only; others exit 2)',
      text,
    ),
    described(k, 'hits per query'),
    optional(
      '--pool-out <dir>',
      'append rows (query_id, channel, rank, chunk_id, score, explanations) to this pool directory, as one new Parquet part',
      text,
    ),
    described(embeddingColumn, 'embedding column of a Parquet --vector-file'),
    switchFlag(
      '--verify-checksum',
      'XXH64 faiss.index against the manifest before FAISS reads it (exit 4 on a mismatch); costs a read of the whole file',
    ),
  ],
  examples: [
    'indexctl search --text "parse the factory string"',
    'indexctl search --id 42',
    'indexctl search v1 --id 42 --verify-checksum',
    'indexctl search nightly-001 --vector-file queries.npy --k 20 --json',
    'indexctl search --current --vector-file q.f32 --pool-out pools/eval-2026-11',
  ],
  load: () => import('./commands/search.js') as Promise<CommandModule>,
});

export const chunks = command({
  name: 'chunks',
  args: ['[version]'],
  summary:
    'list the chunks of a version (default CURRENT): id, uri, lines, lang, filtered by uri glob and language; ids to search with',
  options: [
    described(current, 'list the CURRENT version (the default when no version is given)'),
    optional(
      '--uri <glob>',
      'only uris matching this glob (* any characters, / included; ? one; [abc] a class)',
      verbatim,
    ),
    optional('--lang <lang>', 'only chunks of this language, e.g. typescript', text),
    defaulted(
      '--limit <n>',
      'chunks to list (ordered by uri and line); the total is always counted',
      integer(1),
      20,
    ),
  ],
  examples: [
    "indexctl chunks --uri 'src/core/*' --limit 5",
    'indexctl chunks nightly-001 --lang python --json',
  ],
  load: () => import('./commands/chunks.js') as Promise<CommandModule>,
});

export const sample = command({
  name: 'sample',
  args: [],
  summary:
    'make a chunks Parquet file from a source tree, embedded by a deterministic feature-hashing embedder',
  options: [
    required('--from <dir>', 'source tree to read (skips node_modules, .git, dist, build, binaries)', text),
    required('--out <file>', 'chunks Parquet file to write', text),
    optional('--dim <n>', 'embedding dimension (default: 384)', integer(1)),
  ],
  examples: [
    'indexctl sample --from src --out chunks.parquet',
    'indexctl sample --from . --out demo.parquet --dim 128 --json',
  ],
  load: () => import('./commands/sample.js') as Promise<CommandModule>,
});

export const serve = command({
  name: 'serve',
  args: [],
  summary:
    'an MCP server (tools search, fetch, status) over the root, read-only, following CURRENT across publishes and rollbacks; stdio unless --http',
  options: [
    optional(
      '--http <host:port>',
      'streamable HTTP on this address (endpoint /mcp; port 0 picks a free one) instead of stdio',
      hostPort,
    ),
    defaulted(
      '--poll-interval <ms>',
      'how often CURRENT is read besides the directory watch',
      integer(1),
      1000,
    ),
    switchFlag('--verify-checksum', "checksum each version's faiss.index before serving it"),
  ],
  examples: ['indexctl --root /srv/index serve', 'indexctl --root /srv/index serve --http 127.0.0.1:8765'],
  load: () => import('./commands/serve.js') as Promise<CommandModule>,
});

export const commands: readonly CommandSpec[] = [
  doctor,
  build,
  train,
  merge,
  exportIdmap,
  writeManifest,
  verify,
  publish,
  rollback,
  status,
  diff,
  pin,
  unpin,
  gc,
  tune,
  search,
  chunks,
  sample,
  serve,
];
