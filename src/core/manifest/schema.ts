/**
 * manifest.json (docs/format.md "manifest.json"): field names follow the upstream Python `VersionManifest`,
 * so both sides read the same file. Parsing validates the schema; unknown fields are kept and
 * written back unchanged, so a newer writer's additions survive a `tune --write`.
 *
 * A manifest that is not valid JSON or breaks the schema is IndexCorruptionError (exit 4): it is
 * a damaged file of the version, found by verify's `manifest.schema` check, like a bad checksum.
 * Exit 3 is kept for files that are each well-formed but disagree with one another.
 *
 * A manifest the Python pipeline wrote (its VersionManifest: no schema_version, metric,
 * index_checksum or files) is a legacy manifest: parseAnyManifest/readAnyManifest return it for
 * status, verify and write-manifest (which adopts it); readManifest refuses it with
 * LegacyManifestError (exit 3) and the command that adopts it.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as z from '../../vendor/zod-mini.js';

import { checksumPattern, xxh64File } from '../checksum.js';
import { IndexCorruptionError, InvariantViolationError } from '../errors.js';
import { TUNING_FAMILIES } from '../faiss/family.js';
import { writeFileDurable } from '../util/fsync.js';
import { VERSION_FILES, versionNamePattern } from '../layout.js';

export { familyFromFactory, INDEX_FAMILIES, TUNING_FAMILIES } from '../faiss/family.js';
export type { IndexFamily, TuningFamily } from '../faiss/family.js';

export const MANIFEST_SCHEMA_VERSION = 1;
export const METRICS = ['l2', 'ip', 'cosine'] as const;

const versionName = z.string().check(z.regex(versionNamePattern, 'a version name'));
const count = z.int().check(z.nonnegative());
const checksum = z.string().check(z.regex(checksumPattern, 'xxh64:<16 lowercase hex>'));
/** A plain name inside the version directory: a hostile manifest cannot point verify elsewhere. */
const fileName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file name inside the version directory'));

export const fileEntrySchema = z.looseObject({
  bytes: z.int().check(z.nonnegative()),
  checksum,
});

/**
 * created_ts is seconds since the epoch (Python's time.time()), between 2000-01-01 and 2200-01-01
 * UTC. Fixed bounds, not "now + slack": a clock that runs behind must not make a fresh manifest
 * invalid. The range is what keeps a writer's unit mistake out: now in milliseconds (1.8e12) or
 * microseconds (1.8e15) is far above 2200, and such a value, accepted, breaks every command that
 * turns it into a date.
 */
export const CREATED_TS_MIN = 946_684_800; // 2000-01-01T00:00:00Z
export const CREATED_TS_MAX = 7_258_118_400; // 2200-01-01T00:00:00Z

const isSeconds = (v: number): boolean => v >= CREATED_TS_MIN && v < CREATED_TS_MAX;

/** Names the unit a wrong created_ts was probably written in, with the date it would then be. */
function createdTsHint(v: number): string {
  for (const [unit, per] of [
    ['milliseconds', 1e3],
    ['microseconds', 1e6],
    ['nanoseconds', 1e9],
  ] as const) {
    if (isSeconds(v / per)) return ` (looks like ${unit}: ${new Date((v / per) * 1000).toISOString()})`;
  }
  return '';
}

const createdTs = z.number().check(
  z.superRefine((v, ctx) => {
    if (isSeconds(v)) return;
    ctx.addIssue({
      code: 'custom',
      message:
        `expected seconds since the epoch in [${CREATED_TS_MIN}, ${CREATED_TS_MAX}) ` +
        `(2000-01-01 .. 2200-01-01 UTC), got ${v}${createdTsHint(v)}`,
    });
  }),
);

export const tuningSchema = z.looseObject({
  family: z.enum(TUNING_FAMILIES),
  k: z.int().check(z.positive()),
  nprobe: z.nullish(z.int().check(z.positive())),
  hnsw_efSearch: z.nullish(z.int().check(z.positive())),
  refine_k_factor: z.nullish(z.number().check(z.positive())),
  notes: z.nullish(z.string()),
  recall_at_k: z.nullish(z.number().check(z.minimum(0), z.maximum(1))),
  latency_ms_p50: z.nullish(z.number().check(z.nonnegative())),
  measured_ts: z.nullish(z.number().check(z.nonnegative())),
});

/** What `build --base` changed against its base version (docs/spec.md "Incremental builds"). */
export const incrementalSchema = z.object({
  removed: count,
  added: count,
  changed: count,
  unchanged: count,
  retrained: z.boolean(),
  drift: z.nullable(
    z.object({
      base_mean: z.number().check(z.nonnegative()),
      new_mean: z.number().check(z.nonnegative()),
      ratio: z.number().check(z.nonnegative()),
      threshold: z.number().check(z.positive()),
      exceeded: z.boolean(),
      base_rows: count,
      new_rows: count,
    }),
  ),
});

export type IncrementalManifest = z.infer<typeof incrementalSchema>;

export const manifestSchema = z.looseObject({
  schema_version: z.literal(MANIFEST_SCHEMA_VERSION),
  version: versionName,
  /** Seconds since the epoch, fractional (Python's time.time()), 2000-01-01 .. 2200-01-01. */
  created_ts: createdTs,
  faiss_factory: z.string().check(z.minLength(1)),
  metric: z.enum(METRICS),
  vec_dim: z.int().check(z.positive()),
  vectors_count: count,
  chunks_checksum: checksum,
  idmap_checksum: checksum,
  index_checksum: checksum,
  files: z.record(fileName, fileEntrySchema),
  tuning: z.nullish(tuningSchema),
  /** The version an incremental build started from, and what it changed. */
  base_version: z.optional(versionName),
  incremental: z.optional(incrementalSchema),
  attrs: z.optional(z.record(z.string(), z.unknown())),
});

export type Manifest = z.infer<typeof manifestSchema>;

/**
 * The upstream Python `VersionManifest` (a msgspec struct) as that pipeline writes it: exactly these
 * fields, no schema_version, metric, index_checksum or files, and checksums in whatever format the
 * pipeline used (kept verbatim, never compared). Read so that a Python-built version can be listed,
 * checked and adopted (`write-manifest`), never used as a sealed version.
 */
export const legacyManifestSchema = z.looseObject({
  version: versionName,
  created_ts: createdTs,
  faiss_factory: z.string().check(z.minLength(1)),
  vec_dim: z.int().check(z.positive()),
  vectors_count: count,
  chunks_checksum: z.string(),
  idmap_checksum: z.nullish(z.string()),
  tuning: z.nullish(tuningSchema),
  attrs: z._default(z.record(z.string(), z.unknown()), {}),
});

export type LegacyManifest = z.infer<typeof legacyManifestSchema>;

/** Fields only indexctl's schema has: a manifest with any of them is ours, damaged, not a legacy one. */
const SCHEMA_ONLY_FIELDS = ['schema_version', 'metric', 'index_checksum', 'files'] as const;

/** True for an object shaped like the Python struct's output: none of the schema-1-only fields. */
export function looksLegacy(data: Record<string, unknown>): boolean {
  return SCHEMA_ONLY_FIELDS.every((f) => !(f in data)) && 'faiss_factory' in data && 'vec_dim' in data;
}

/** The command that adopts a legacy version, for messages. */
export function adoptCommand(version: string): string {
  return `indexctl write-manifest ${version}`;
}

/**
 * A valid legacy manifest where a schema-1 one is needed (openIndex, publish, tune): the version is
 * well-formed but not sealed by indexctl. Exit 3, not 4: nothing is damaged, it must be adopted.
 */
export class LegacyManifestError extends InvariantViolationError {
  constructor(
    readonly file: string,
    readonly legacy: LegacyManifest,
  ) {
    super(
      `${file}: a legacy manifest (the Python VersionManifest: no schema_version, metric, index_checksum ` +
        `or files): adopt the version first with \`${adoptCommand(legacy.version)}\` (add --metric cosine ` +
        `for a cosine index, --factory when faiss_factory is not the one the index was built with)`,
    );
  }
}
export type ManifestTuning = z.infer<typeof tuningSchema>;
export type ManifestFileEntry = z.infer<typeof fileEntrySchema>;
export type Metric = (typeof METRICS)[number];

/** A manifest that cannot be used; `problems` lists each as `<field path>: <what is wrong>`. */
export class ManifestError extends IndexCorruptionError {
  constructor(
    readonly file: string,
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problems.join('; ')}`, options);
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `files["chunks.parquet"].bytes`: brackets where a key has dots, so the path is unambiguous. */
function fieldPath(keys: readonly PropertyKey[]): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENT.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(data: unknown, keys: readonly PropertyKey[]): unknown {
  let v = data;
  for (const key of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A short rendering of a bad value: its type, and the value itself when it is a short scalar. */
function shown(v: unknown): string {
  const kind = kindOf(v);
  if (kind === 'object' || kind === 'array') return kind;
  const text = JSON.stringify(v) ?? String(v);
  return text.length <= 60 ? `${kind} ${text}` : `${kind} ${text.slice(0, 57)}...`;
}

function describe(issue: z.$ZodIssue, data: unknown): string {
  const where = fieldPath(issue.path);
  const actual = valueAt(data, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'integer' : issue.expected;
      return actual === undefined
        ? `${where}: missing (expected ${expected})`
        : `${where}: expected ${expected}, got ${shown(actual)}`;
    }
    case 'invalid_format':
      return `${where}: expected ${issue.message ?? issue.format}, got ${shown(actual)}`;
    case 'invalid_value':
      return `${where}: expected ${issue.values.map((x) => JSON.stringify(x)).join(' | ')}, got ${shown(actual)}`;
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what = issue.origin === 'string' ? 'length ' : '';
      return `${where}: expected ${what}${op} ${String(bound)}, got ${shown(actual)}`;
    }
    case 'invalid_key':
      return `${where}: invalid key: ${issue.issues.map((i) => i.message).join(', ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

const MAX_PROBLEMS = 10;

/** The first problems of a failed parse, each naming its field. */
function problemsOf(error: z.$ZodError, data: unknown): string[] {
  const all = error.issues.map((i) => describe(i, data));
  return all.length > MAX_PROBLEMS
    ? [...all.slice(0, MAX_PROBLEMS), `and ${all.length - MAX_PROBLEMS} more`]
    : all;
}

/**
 * Parses and validates manifest text. `file` names the file in messages. Throws ManifestError
 * (IndexCorruptionError, exit 4) for invalid JSON, an unsupported schema_version, or schema
 * violations, naming each offending field; LegacyManifestError (exit 3) for a valid legacy manifest.
 */
export function parseManifest(text: string, file: string): Manifest {
  const parsed = parseAnyManifest(text, file);
  if (parsed.kind === 'legacy') throw new LegacyManifestError(file, parsed.legacy);
  return parsed.manifest;
}

export type ParsedManifest =
  { kind: 'current'; manifest: Manifest } | { kind: 'legacy'; legacy: LegacyManifest };

/**
 * Parses manifest text written either by indexctl (schema 1) or by the Python pipeline (legacy).
 * Throws ManifestError (exit 4) for invalid JSON or a file that is neither valid schema 1 nor a
 * valid legacy manifest, naming each offending field.
 */
export function parseAnyManifest(text: string, file: string): ParsedManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, [`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ManifestError(file, [`expected a JSON object, got ${kindOf(data)}`]);
  }
  return parseManifestData(data as Record<string, unknown>, file);
}

function parseManifestData(data: Record<string, unknown>, file: string): ParsedManifest {
  if (looksLegacy(data)) {
    const legacy = legacyManifestSchema.safeParse(data);
    if (!legacy.success) {
      throw new ManifestError(
        file,
        problemsOf(legacy.error, data).map((p) => `legacy manifest (no schema_version): ${p}`),
      );
    }
    return { kind: 'legacy', legacy: legacy.data };
  }
  // Checked first: a newer schema may fail validation in many ways that all mean "upgrade indexctl".
  const sv = data.schema_version;
  if (sv !== MANIFEST_SCHEMA_VERSION) {
    throw new ManifestError(file, [
      sv === undefined
        ? `schema_version: missing (expected ${MANIFEST_SCHEMA_VERSION})`
        : `schema_version: ${JSON.stringify(sv)} is not supported (this indexctl reads ${MANIFEST_SCHEMA_VERSION})`,
    ]);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) throw new ManifestError(file, problemsOf(parsed.error, data));
  return { kind: 'current', manifest: parsed.data };
}

export function manifestPath(versionDir: string): string {
  return path.join(versionDir, VERSION_FILES.manifest);
}

/**
 * Reads `<versionDir>/manifest.json`. A missing or unreadable manifest is a damaged version (exit 4);
 * a legacy (Python) manifest is LegacyManifestError (exit 3): see readAnyManifest.
 */
export async function readManifest(versionDir: string): Promise<Manifest> {
  const parsed = await readAnyManifest(versionDir);
  if (parsed.kind === 'legacy') throw new LegacyManifestError(manifestPath(versionDir), parsed.legacy);
  return parsed.manifest;
}

/** Reads `<versionDir>/manifest.json`, schema 1 or legacy (status, verify and write-manifest). */
export async function readAnyManifest(versionDir: string): Promise<ParsedManifest> {
  const file = manifestPath(versionDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError(file, [code === 'ENOENT' ? 'missing' : `unreadable: ${(err as Error).message}`], {
      cause: err,
    });
  }
  return parseAnyManifest(text, file);
}

/** The exact bytes written: two-space JSON with a trailing newline, keys in insertion order. */
export function serializeManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

/**
 * Writes manifest.json atomically and durably (temp file, fsync, rename, fsync dir). The manifest
 * is validated first: writing one that the next reader would reject is a bug, not a user error.
 */
export async function writeManifestAtomic(versionDir: string, manifest: Manifest): Promise<void> {
  const file = manifestPath(versionDir);
  const checked = manifestSchema.safeParse(manifest);
  if (!checked.success) {
    throw new Error(
      `refusing to write an invalid manifest to ${file}: ${problemsOf(checked.error, manifest).join('; ')}`,
    );
  }
  await writeFileDurable(file, serializeManifest(manifest));
}

export interface FileEntriesOptions {
  /** Called as each file is checksummed: its name and bytes hashed so far of its size. */
  onProgress?: (name: string, bytesDone: number, bytesTotal: number) => void;
  signal?: AbortSignal;
}

/**
 * `files` entries (size and checksum) for the named files of a version directory. A missing or
 * unreadable file is IndexCorruptionError naming it.
 */
export async function computeFileEntries(
  versionDir: string,
  names: readonly string[],
  options: FileEntriesOptions = {},
): Promise<Record<string, ManifestFileEntry>> {
  const files: Record<string, ManifestFileEntry> = {};
  for (const name of names) {
    if (!fileName.safeParse(name).success)
      throw new TypeError(`not a plain file name: ${JSON.stringify(name)}`);
    const file = path.join(versionDir, name);
    try {
      const { size, isFile } = await stat(file).then((s) => ({ size: s.size, isFile: s.isFile() }));
      if (!isFile) throw new IndexCorruptionError(`${file}: not a regular file`);
      const sum = await xxh64File(file, {
        onProgress: (done) => options.onProgress?.(name, done, size),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      files[name] = { bytes: size, checksum: sum };
    } catch (err) {
      if (err instanceof IndexCorruptionError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
        throw new IndexCorruptionError(`${file}: ${code === 'ENOENT' ? 'missing' : (err as Error).message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
  return files;
}
