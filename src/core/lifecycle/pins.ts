/**
 * `<root>/pins`: one version name per line; gc never removes a pinned version. Rewritten whole
 * with writeFileDurable under the writer lock, so a reader sees the old list or the new one.
 * Lines that are not version names (comments, a hand edit) are kept as they are.
 */
import { readFile } from 'node:fs/promises';

import { writeFileDurable } from '../util/fsync.js';
import { checkVersionName, isValidVersionName, pinsFile, requireRoot, requireVersionDir } from '../layout.js';
import { underWriterLock } from './writer.js';

export interface Pins {
  /** Pinned version names, sorted, without duplicates. */
  versions: string[];
  /** Lines that are neither blank, a `#` comment, nor a version name. */
  problems: string[];
}

async function readLines(root: string): Promise<string[]> {
  try {
    return (await readFile(pinsFile(root), 'utf8')).split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function readPins(root: string): Promise<Pins> {
  const versions = new Set<string>();
  const problems: string[] = [];
  (await readLines(root)).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (isValidVersionName(line)) versions.add(line);
    else
      problems.push(
        `${pinsFile(root)} line ${i + 1}: ${JSON.stringify(line.slice(0, 60))} is not a version name`,
      );
  });
  return { versions: [...versions].sort(), problems };
}

export interface PinOptions {
  root: string;
  version: string;
  waitSeconds?: number;
}

export interface PinReport {
  version: string;
  /** Whether the version is pinned now. */
  pinned: boolean;
  /** False when it already was (pin) or was not (unpin): both are successes. */
  changed: boolean;
  pins: string[];
}

function serialize(lines: string[]): string {
  const kept = lines.slice();
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/** Pins an existing version (NotFoundError otherwise). */
export async function pin(o: PinOptions): Promise<PinReport> {
  checkVersionName(o.version);
  requireRoot(o.root);
  requireVersionDir(o.root, o.version);
  const { result } = await underWriterLock(o.root, `pin ${o.version}`, o.waitSeconds, async () => {
    requireVersionDir(o.root, o.version);
    const lines = await readLines(o.root);
    const already = lines.some((l) => l.trim() === o.version);
    if (!already)
      await writeFileDurable(
        pinsFile(o.root),
        serialize([...lines.filter((l) => l.trim() !== ''), o.version]),
      );
    return { version: o.version, pinned: true, changed: !already, pins: (await readPins(o.root)).versions };
  });
  return result;
}

/** Unpins a version; its directory need not exist any more. */
export async function unpin(o: PinOptions): Promise<PinReport> {
  checkVersionName(o.version);
  requireRoot(o.root);
  const { result } = await underWriterLock(o.root, `unpin ${o.version}`, o.waitSeconds, async () => {
    const lines = await readLines(o.root);
    const kept = lines.filter((l) => l.trim() !== o.version);
    const changed = kept.length !== lines.length;
    if (changed) await writeFileDurable(pinsFile(o.root), serialize(kept));
    return { version: o.version, pinned: false, changed, pins: (await readPins(o.root)).versions };
  });
  return result;
}
