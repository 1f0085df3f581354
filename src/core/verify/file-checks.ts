/**
 * Level 1: the manifest, the presence of every file, and each file's size and XXH64 against the
 * manifest. Any failure here is corruption (exit 4): nothing later reads a file that failed them.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { xxh64FileDigest } from '../checksum.js';
import { CHECKSUMMED_FILES, VERSION_FILES } from '../layout.js';
import type { LegacyManifest, Manifest, ManifestFileEntry } from '../manifest/schema.js';
import type { FileHashing } from './hashing.js';
import { Check, type CheckResult } from './types.js';

/** The manifest's top-level checksum fields and the file each repeats. */
const CHECKSUM_FIELDS = [
  ['chunks_checksum', VERSION_FILES.chunks],
  ['idmap_checksum', VERSION_FILES.idmap],
  ['index_checksum', VERSION_FILES.index],
] as const;

export interface ManifestCheck {
  result: CheckResult;
  /** Present when the manifest parsed (even if it then failed a cross-field check). */
  manifest?: Manifest;
  /** Present for a valid legacy (Python) manifest: verify then runs the legacy checks instead. */
  legacy?: LegacyManifest;
}

/**
 * manifest.json as text. It is the one file without a checksum, so its bytes are held to strict UTF-8:
 * a flipped byte in an ASCII manifest is never valid UTF-8, even where it would still parse (inside
 * a string value, as U+FFFD).
 */
async function readManifestText(
  file: string,
  ManifestError: typeof import('../manifest/schema.js').ManifestError,
): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError(file, [code === 'ENOENT' ? 'missing' : `unreadable: ${(err as Error).message}`], {
      cause: err,
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    const at = firstInvalidUtf8(bytes);
    throw new ManifestError(file, [`not valid UTF-8 (first bad byte at offset ${at})`], { cause: err });
  }
}

/** The length of the longest valid prefix, by bisection (streaming: a cut character is not an error). */
function firstInvalidUtf8(bytes: Buffer): number {
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/**
 * `manifest.schema`: parses with the schema, then checks the fields that repeat one another. The
 * schema (zod, a hundred modules) is imported here, not up front, so that verify's checksum workers
 * are already running while it loads (hashing.ts).
 */
export async function checkManifest(dir: string, version: string): Promise<ManifestCheck> {
  const { ManifestError, manifestPath, parseAnyManifest } = await import('../manifest/schema.js');
  const check = new Check('manifest.schema');
  let manifest: Manifest;
  try {
    const file = manifestPath(dir);
    const parsed = parseAnyManifest(await readManifestText(file, ManifestError), file);
    if (parsed.kind === 'legacy')
      return { legacy: parsed.legacy, result: check.skip('a legacy manifest: see manifest.legacy') };
    manifest = parsed.manifest;
  } catch (err) {
    if (err instanceof ManifestError) return { result: check.fail(err.message, 4) };
    throw err;
  }
  const problems: string[] = [];
  for (const [field, file] of CHECKSUM_FIELDS) {
    const entry = manifest.files[file];
    if (!entry) problems.push(`files["${file}"]: missing`);
    else if (entry.checksum !== manifest[field]) {
      problems.push(`${field} ${manifest[field]} disagrees with files["${file}"].checksum ${entry.checksum}`);
    }
  }
  if (problems.length > 0) {
    return { manifest, result: check.fail(`${path.join(dir, 'manifest.json')}: ${problems.join('; ')}`, 4) };
  }
  if (manifest.version !== version) {
    return {
      manifest,
      result: check.fail(
        `manifest.json names version ${manifest.version}, but its directory is ${version}`,
        3,
      ),
    };
  }
  const tuned = manifest.tuning ? `, tuned (${manifest.tuning.family})` : '';
  return {
    manifest,
    result: check.pass(
      `schema_version ${manifest.schema_version}: ${manifest.faiss_factory}, ${manifest.metric}, ` +
        `${manifest.vectors_count} x ${manifest.vec_dim}, ${Object.keys(manifest.files).length} files${tuned}`,
    ),
  };
}

/** The files a version must hold: manifest.json, the four version files, and whatever the manifest lists. */
export function expectedFiles(manifest: Manifest | undefined): string[] {
  const names: string[] = [VERSION_FILES.manifest, ...CHECKSUMMED_FILES];
  for (const name of Object.keys(manifest?.files ?? {})) if (!names.includes(name)) names.push(name);
  return names;
}

async function fileKind(file: string): Promise<'file' | 'missing' | 'other'> {
  try {
    return (await stat(file)).isFile() ? 'file' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** `files.present`: each expected file exists and is a regular file; extra files are fine. */
export async function checkPresent(dir: string, names: readonly string[]): Promise<CheckResult> {
  const check = new Check('files.present');
  const missing: string[] = [];
  const notFiles: string[] = [];
  for (const name of names) {
    const kind = await fileKind(path.join(dir, name));
    if (kind === 'missing') missing.push(name);
    else if (kind === 'other') notFiles.push(name);
  }
  if (missing.length > 0 || notFiles.length > 0) {
    const parts = [
      ...(missing.length > 0 ? [`missing: ${missing.join(', ')}`] : []),
      ...(notFiles.length > 0 ? [`not regular files: ${notFiles.join(', ')}`] : []),
    ];
    return check.fail(`${dir}: ${parts.join('; ')}`, 4);
  }
  return check.pass(`${names.length} files: ${names.join(', ')}`);
}

/**
 * `files.checksum` for one file: the size first (a truncated file fails on its size, even if a
 * worker already read it), then XXH64 of the bytes against the manifest.
 */
export async function checkChecksum(
  dir: string,
  name: string,
  entry: ManifestFileEntry | undefined,
  hashing: FileHashing = {},
): Promise<CheckResult> {
  const check = new Check('files.checksum', name);
  const file = path.join(dir, name);
  if (!entry) return check.skip(`${name} is not listed in manifest.files: no checksum to compare`);
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return check.skip(`${file} is not a regular file (see files.present)`);
    size = s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return check.skip(`${file} is missing (see files.present)`);
    return unreadableFile(check, file, err);
  }
  if (size !== entry.bytes) {
    const how = size < entry.bytes ? 'truncated' : 'grown';
    return check.fail(`${file}: ${size} bytes, manifest says ${entry.bytes} (${how})`, 4);
  }
  try {
    const digest = await (hashing.digest ? hashing.digest() : xxh64FileDigest(file, hashing));
    if (digest.bytes !== size) {
      return check.fail(
        `${file}: ${digest.bytes} bytes read, ${size} at stat: changed while verify read it`,
        4,
      );
    }
    const actual = digest.checksum;
    if (actual !== entry.checksum) {
      return check.fail(`${file}: checksum mismatch: expected ${entry.checksum}, actual ${actual}`, 4);
    }
    return check.pass(`${actual} (${size} bytes)`);
  } catch (err) {
    if (hashing.signal?.aborted) throw err; // cancelled, not a finding about the file
    return unreadableFile(check, file, err);
  }
}

/** A file the manifest lists that cannot be read (EACCES, EIO, ...) is corruption (4), not a bug (1). */
function unreadableFile(check: Check, file: string, err: unknown): CheckResult {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('E')) {
    return check.fail(`${file}: unreadable (${code}): ${(err as Error).message}`, 4);
  }
  return check.failWith(err);
}
