/**
 * The checksum addon (native/hash_addon.cc, `indexctl_hash.node`): XXH64 of whole files on libuv's
 * thread pool, several files at once, with no FAISS loaded. verify's level 1 hashes through it;
 * where it is missing (an install without it, a build without libxxhash-dev) or does not load, the
 * caller falls back to xxhash-wasm on worker threads (checksum-pool.ts): same digests, slower start.
 * The same addon carries the exit guard (exit-guard.ts), which the CLI loads in every command.
 *
 * Looked for where the FAISS addon's local build and prebuild are (faiss/addon-location.ts), not
 * through INDEXCTL_ADDON, which names a FAISS build only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { formatChecksum, type FileDigest } from './checksum.js';
import { packageRoot } from './util/paths.js';

export const HASH_ADDON_FILE = 'indexctl_hash.node';

interface HashAddon {
  hashFileAsync(file: string, control: BigInt64Array): Promise<{ bytes: number; xxh64: bigint }>;
}

/** The exit guard's functions (native/exit_guard.cc), in the same addon; see exit-guard.ts. */
export interface ExitGuardAddon {
  armExitGuard(graceMs: number): boolean;
  exitGuardLine(text: string): void;
  exitGuardRemove(kind: 'dir' | 'lock', file: string, token: string): number;
  exitGuardForget(id: number): void;
  exitGuardStart(signo: number): void;
  exitNow(code: number): never;
}

type LightAddon = Partial<HashAddon & ExitGuardAddon>;

let addon: LightAddon | null | undefined;

function candidates(): string[] {
  return [
    path.join(packageRoot, 'build/Release', HASH_ADDON_FILE),
    path.join(packageRoot, 'build/Debug', HASH_ADDON_FILE),
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, HASH_ADDON_FILE),
  ];
}

function load(): LightAddon | null {
  const require = createRequire(import.meta.url);
  for (const file of candidates()) {
    if (!existsSync(file)) continue;
    try {
      return require(file) as LightAddon;
    } catch {
      // A copy that does not load here (another platform's, a damaged file): try the next one.
    }
  }
  return null;
}

/** One file's hash in progress on the thread pool. */
export interface NativeFileHash {
  /** The digest; rejects with the native error (its `errno` set) or, once cancelled, "cancelled". */
  readonly digest: Promise<FileDigest>;
  /** Bytes hashed so far. */
  done(): number;
  /** Stops the hash before its next block; `digest` then rejects. */
  cancel(): void;
}

function hashAddon(): HashAddon | undefined {
  addon ??= load();
  return typeof addon?.hashFileAsync === 'function' ? (addon as HashAddon) : undefined;
}

/** The exit guard's half of the addon; undefined where the addon is missing or predates it. */
export function exitGuardAddon(): ExitGuardAddon | undefined {
  addon ??= load();
  return typeof addon?.armExitGuard === 'function' ? (addon as ExitGuardAddon) : undefined;
}

/** Whether the checksum addon is here and loads (loaded once per process). */
export function hasNativeFileHash(): boolean {
  return hashAddon() !== undefined;
}

/** Starts hashing `file` on the thread pool; undefined when the addon is not available. */
export function hashFileNative(file: string): NativeFileHash | undefined {
  const loaded = hashAddon();
  if (loaded === undefined) return undefined;
  const control = new BigInt64Array(2);
  const digest = loaded
    .hashFileAsync(file, control)
    .then(({ bytes, xxh64 }) => ({ checksum: formatChecksum(xxh64), bytes }));
  return {
    digest,
    done: () => Number(control[1]),
    cancel: () => {
      control[0] = 1n;
    },
  };
}
