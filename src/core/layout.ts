/**
 * The on-disk layout of a root (docs/format.md): names, paths, the CURRENT pointer, and the
 * staging -> versions hand-over. Every path inside a root is built here, from validated version
 * names only, so nothing a user types can reach outside the root.
 */
import { randomBytes } from 'node:crypto';
import {
  type Dirent,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  type Stats,
  statSync,
  symlinkSync,
} from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { guardWrite } from './util/env-io.js';
import { removeDirOnForcedExit } from './exit-guard.js';
import { IndexCorruptionError, InvariantViolationError, NotFoundError, UsageError } from './errors.js';
import { fsyncDir, fsyncFile } from './util/fsync.js';
import { isPidAlive, isProcessAlive, selfIdentity, type ProcessIdentity } from './util/pid.js';
import { failpoint } from './util/failpoint.js';

/** The files of a version directory. */
export const VERSION_FILES = {
  manifest: 'manifest.json',
  chunks: 'chunks.parquet',
  index: 'faiss.index',
  idmap: 'idmap.parquet',
  catalog: 'catalog.duckdb',
} as const;

/** The files a complete version holds besides manifest.json, in the order they are checksummed. */
export const CHECKSUMMED_FILES = [
  VERSION_FILES.chunks,
  VERSION_FILES.index,
  VERSION_FILES.idmap,
  VERSION_FILES.catalog,
] as const;

export const versionNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidVersionName(name: string): boolean {
  return versionNamePattern.test(name);
}

/** Returns `name` if it is a valid version name; otherwise a UsageError, before any file is touched. */
export function checkVersionName(name: string): string {
  if (typeof name !== 'string' || !isValidVersionName(name)) {
    const shown =
      typeof name === 'string' && name.length > 40 ? `${name.slice(0, 40)}... (${name.length} chars)` : name;
    throw new UsageError(
      `invalid version name ${JSON.stringify(shown)}: expected 1-128 characters of A-Z a-z 0-9 . _ -, ` +
        `starting with a letter or digit`,
    );
  }
  return name;
}

/** `YYYYMMDDTHHMMSSZ-<8 random hex>` in UTC: sorts by creation time, unique across hosts. */
export function defaultVersionName(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export function resolveRoot(dir: string): string {
  return path.resolve(dir);
}

export const versionsDir = (root: string): string => path.join(root, 'versions');
export const stagingDir = (root: string): string => path.join(root, 'staging');
export const currentLink = (root: string): string => path.join(root, 'CURRENT');
export const publishLog = (root: string): string => path.join(root, 'publish.log');
export const pinsFile = (root: string): string => path.join(root, 'pins');
export const lockFile = (root: string): string => path.join(root, '.lock');

/** `<root>/versions/<version>`; the name is validated, so the result is always inside the root. */
export function versionDir(root: string, version: string): string {
  return path.join(versionsDir(root), checkVersionName(version));
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return false;
    throw err;
  }
}

/** Throws NotFoundError unless `root` is an existing directory (symlinked roots are fine). */
export function requireRoot(root: string): void {
  let ok = false;
  try {
    ok = statSync(root).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR')
      throw err;
  }
  if (!ok) throw new NotFoundError(`index root not found: ${root} (set --root or INDEXCTL_ROOT)`);
}

function describeType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  return 'not a directory';
}

/**
 * Throws IndexCorruptionError unless `dir` is absent or a real directory (lstat: a symlink is
 * refused, whatever it points to). staging/ and versions/ are where writers create, rename and
 * delete; through a symlink those deletions would land in another directory, outside the root.
 */
function requireRealDir(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isDirectory()) return;
  const name = `${path.basename(dir)}/`;
  const what = st.isSymbolicLink() ? `a symlink (to ${JSON.stringify(readlinkSync(dir))})` : describeType(st);
  throw new IndexCorruptionError(
    `${dir} is ${what}; ${name} must be a real directory inside the root, since writers delete in it ` +
      `and indexctl never follows a link out of the root. Replace it with a directory (move its contents in) ` +
      `and run again`,
  );
}

/**
 * The check every writer (build, publish, rollback, gc, pin, tune --write, ...) makes before it
 * touches the root: versions/ and staging/ are real directories or absent (IndexCorruptionError).
 */
export function requireRealRootDirs(root: string): void {
  requireRealDir(versionsDir(root));
  requireRealDir(stagingDir(root));
}

/** Creates the root with its versions/ and staging/ directories (for the first build). */
export async function ensureRoot(root: string): Promise<void> {
  requireRealRootDirs(root);
  await guardWrite(`cannot create the index root ${root}`, root, async () => {
    await mkdir(versionsDir(root), { recursive: true });
    await mkdir(stagingDir(root), { recursive: true });
  });
}

export function versionExists(root: string, version: string): boolean {
  return isDirectory(versionDir(root, version));
}

/** The version directory, or NotFoundError naming the root's versions. */
export function requireVersionDir(root: string, version: string): string {
  const dir = versionDir(root, version);
  requireRoot(root);
  if (!isDirectory(dir)) throw new NotFoundError(`version not found: ${version} (no directory ${dir})`);
  return dir;
}

/** Version names in versions/, sorted; entries that are not directories or not valid names are skipped. */
export function listVersions(root: string): string[] {
  requireRoot(root);
  let entries;
  try {
    entries = readdirSync(versionsDir(root), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isDirectory() && isValidVersionName(e.name))
    .map((e) => e.name)
    .sort();
}

const CURRENT_TARGET = /^versions\/([^/]+)\/?$/;

/**
 * The version CURRENT names, or undefined when there is no CURRENT. CURRENT must be a relative
 * symlink `versions/<valid name>`; anything else (absolute, `..`, another directory, a regular file)
 * is refused with IndexCorruptionError and never followed: the root's pointer is damaged, which
 * is the same class of fault as a damaged manifest, not a disagreement between counts.
 */
export function readCurrent(root: string): string | undefined {
  const link = currentLink(root);
  let target: string;
  try {
    target = readlinkSync(link);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EINVAL') throw currentNotSymlinkError(link, err);
    throw err;
  }
  const m = CURRENT_TARGET.exec(target);
  if (!m || !isValidVersionName(m[1]!)) {
    throw new IndexCorruptionError(
      `${link} points to ${JSON.stringify(target)}, which is not versions/<version> inside ${root}; ` +
        `refusing to follow it`,
    );
  }
  return m[1]!;
}

/**
 * CURRENT that readlink(2) refuses (EINVAL): a regular file or a directory put there by hand or by
 * a tool that does not know the layout. Corruption of the root's pointer (exit 4), saying what it is.
 */
export function currentNotSymlinkError(link: string, cause: unknown): IndexCorruptionError {
  let what = 'not a symlink';
  try {
    const st = lstatSync(link);
    if (st.isFile()) what = `a regular file (${st.size} bytes), not a symlink`;
    else if (st.isDirectory()) what = 'a directory, not a symlink';
  } catch {
    // Gone since the readlink: the generic wording still names the file.
  }
  return new IndexCorruptionError(
    `${link} is ${what}; CURRENT must be a relative symlink to versions/<version>. ` +
      `Move it aside and link the version that should be live: ln -s versions/<version> CURRENT`,
    { cause },
  );
}

/** The version CURRENT names, checked to exist; NotFoundError for a missing root, CURRENT or target. */
export function requireCurrent(root: string): string {
  requireRoot(root);
  const version = readCurrent(root);
  if (version === undefined) throw new NotFoundError(`no CURRENT in ${root}: nothing has been published`);
  if (!isDirectory(versionDir(root, version))) {
    throw new NotFoundError(`CURRENT in ${root} points to version ${version}, whose directory is missing`);
  }
  return version;
}

/**
 * Points CURRENT at `version` with one rename(2) of a fresh symlink over the old one, then syncs
 * the root, so readers see the old target or the new one and a crash leaves one of the two.
 * Callers hold the writer lock and have verified the version.
 */
export async function flipCurrent(root: string, version: string): Promise<void> {
  requireVersionDir(root, version);
  await guardWrite(`cannot flip ${currentLink(root)}`, currentLink(root), () => flip(root, version));
}

async function flip(root: string, version: string): Promise<void> {
  const tmp = path.join(root, `.CURRENT.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  symlinkSync(`versions/${version}`, tmp);
  failpoint('publish:symlink-made');
  try {
    await rename(tmp, currentLink(root));
    failpoint('publish:renamed');
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(root);
}

const STAGING_NAME = /^(.+)\.(\d+)\.([0-9a-f]{8})$/;

/**
 * Who is building in a staging directory (host, pid, start time, boot id), written when it is made
 * and removed just before the seal. A build runs without the writer lock, so gc and other builds
 * judge its directory by this file: a pid alone can be reused, and means nothing on another host
 * sharing the root.
 */
export const BUILDER_FILE = '.builder.json';

interface BuilderIdentity extends ProcessIdentity {
  host: string;
}

/**
 * Creates `staging/<version>.<pid>.<8 hex>` holding BUILDER_FILE: the builder's identity tells gc
 * whether it is still alive (the pid in the name is the fallback for directories without it).
 */
export async function makeStagingDir(root: string, version: string): Promise<string> {
  checkVersionName(version);
  requireRealDir(stagingDir(root));
  const dir = path.join(stagingDir(root), `${version}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const builder: BuilderIdentity = { host: os.hostname(), ...selfIdentity() };
  // Registered before it exists: a forced exit (exit-guard.ts) while it is made still removes it.
  forcedExitRemovals.set(dir, removeDirOnForcedExit(dir));
  await guardWrite(`cannot create a staging directory`, dir, async () => {
    await mkdir(stagingDir(root), { recursive: true });
    await mkdir(dir);
    await writeFile(path.join(dir, BUILDER_FILE), JSON.stringify(builder) + '\n');
  });
  return dir;
}

/** Staging directories of this process and their exit-guard deregistrations. */
const forcedExitRemovals = new Map<string, () => void>();

function forgetStagingDir(dir: string): void {
  forcedExitRemovals.get(dir)?.();
  forcedExitRemovals.delete(dir);
}

/** Removes a staging directory this process made (a failed or cancelled build's). */
export async function removeStagingDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  forgetStagingDir(dir);
}

/** Whether the builder of a staging directory may still be running (true when it cannot be judged). */
function isBuilderAlive(dir: string, pid: number): boolean {
  let builder: Partial<BuilderIdentity> | undefined;
  try {
    builder = JSON.parse(readFileSync(path.join(dir, BUILDER_FILE), 'utf8')) as Partial<BuilderIdentity>;
  } catch {
    // No identity (made before it existed, or removed for the seal) or torn: the name's pid decides.
    return isPidAlive(pid);
  }
  if (typeof builder.pid !== 'number' || typeof builder.host !== 'string') return isPidAlive(pid);
  // A build on another host sharing the root cannot be checked from here: never its debris.
  if (builder.host !== os.hostname()) return true;
  return isProcessAlive(builder as BuilderIdentity);
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncFile(p);
  }
  await fsyncDir(dir);
}

/**
 * Flushes every file of a finished staging directory to disk. A build calls it before it takes the
 * writer lock, so the lock is held only for the rename (the second fsync of commitStagingDir then
 * finds nothing left to write).
 */
export async function syncStagingDir(staging: string): Promise<void> {
  await guardWrite(`cannot sync ${staging}`, staging, () => fsyncTree(staging));
}

/**
 * Moves a finished staging directory to `versions/<version>`: removes BUILDER_FILE, syncs every
 * file and the directory, renames, and syncs versions/. An existing version is never replaced:
 * InvariantViolationError (exit 3), since the caller checked the name was free when it started
 * and another build of the same name sealed first. Callers hold the writer lock, which is what
 * makes the exists-check and the rename one step.
 */
export async function commitStagingDir(staging: string, root: string, version: string): Promise<string> {
  const target = versionDir(root, version);
  return guardWrite(`cannot commit ${staging} as ${target}`, target, () =>
    commit(staging, root, version, target),
  );
}

async function commit(staging: string, root: string, version: string, target: string): Promise<string> {
  requireRealRootDirs(root);
  if (lstatOrUndefined(target) !== undefined) {
    throw new InvariantViolationError(
      `version ${version} already exists in ${versionsDir(root)} (another build of that name sealed it ` +
        `while this one ran); versions are immutable, so this build was not sealed and versions/ is unchanged`,
    );
  }
  await rm(path.join(staging, BUILDER_FILE), { force: true });
  await fsyncTree(staging);
  await mkdir(versionsDir(root), { recursive: true });
  failpoint('build:before-rename');
  await rename(staging, target);
  forgetStagingDir(staging);
  failpoint('build:after-rename');
  await fsyncDir(versionsDir(root));
  await fsyncDir(path.dirname(staging));
  return target;
}

function lstatOrUndefined(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface StagingEntry {
  name: string;
  path: string;
  /** The version being built. */
  version: string;
  pid: number;
}

/** An entry of staging/ or versions/ that indexctl did not make: listed, never deleted. */
export interface UnknownEntry {
  /** `staging/<name>` or `versions/<name>`. */
  name: string;
  path: string;
  type: 'file' | 'symlink' | 'directory' | 'other';
}

function entryType(e: Dirent): UnknownEntry['type'] {
  if (e.isSymbolicLink()) return 'symlink';
  if (e.isDirectory()) return 'directory';
  if (e.isFile()) return 'file';
  return 'other';
}

function readDirEntries(dir: string): Dirent[] {
  requireRealDir(dir);
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface StagingScan {
  /** Staging directories whose builder is gone: gc and the next build delete them. */
  stale: StagingEntry[];
  /** Anything else that is not a live build: plain files, symlinks, names indexctl does not make. */
  unknown: UnknownEntry[];
}

/**
 * Sorts staging/ into the debris of dead builders and entries indexctl did not make. Only a real
 * directory (lstat) named `<version>.<pid>.<8 hex>` can be stale; everything else is unknown and
 * left alone, since it may be someone's file. Builds hold no lock while they fill their directory,
 * so a directory is stale only when its builder (BUILDER_FILE, else the pid in the name) is gone on
 * this host; one whose builder runs on another host sharing the root is never stale.
 * IndexCorruptionError when staging/ itself is a symlink or not a directory.
 */
export function scanStaging(root: string): StagingScan {
  const scan: StagingScan = { stale: [], unknown: [] };
  for (const e of readDirEntries(stagingDir(root))) {
    const p = path.join(stagingDir(root), e.name);
    const m = STAGING_NAME.exec(e.name);
    if (!e.isDirectory() || !m || !isValidVersionName(m[1]!)) {
      scan.unknown.push({ name: `staging/${e.name}`, path: p, type: entryType(e) });
      continue;
    }
    const pid = Number(m[2]);
    if (!isBuilderAlive(p, pid)) scan.stale.push({ name: e.name, path: p, version: m[1]!, pid });
  }
  return scan;
}

/** Entries of staging/ whose builder is gone (see scanStaging). */
export function staleStagingDirs(root: string): StagingEntry[] {
  return scanStaging(root).stale;
}

/** Entries of versions/ that are not versions: files, symlinks, directories with invalid names. */
export function unknownVersionEntries(root: string): UnknownEntry[] {
  return readDirEntries(versionsDir(root))
    .filter((e) => !(e.isDirectory() && isValidVersionName(e.name)))
    .map((e) => ({
      name: `versions/${e.name}`,
      path: path.join(versionsDir(root), e.name),
      type: entryType(e),
    }));
}
