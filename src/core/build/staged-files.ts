/**
 * The version's files as a build finishes them: each is hashed (its manifest entry) and flushed to
 * disk as soon as it is final, beside the work that follows, instead of all of them at the end. The
 * seal's fsync then finds nothing left to write. Failures surface when `entries` is awaited; on
 * any failure `settle` waits for whatever still runs (so staging can be removed under nothing).
 */
import path from 'node:path';

import { formatChecksum } from '../checksum.js';
import type { NativeFileDigest } from '../faiss/native.js';
import { computeFileEntries, type ManifestFileEntry } from '../manifest/schema.js';
import { fsyncFile } from '../util/fsync.js';
import type { StageClock } from './stages.js';

export class StagedFiles {
  private readonly pending = new Map<string, Promise<ManifestFileEntry>>();
  private readonly syncs: Promise<void>[] = [];
  private settling = false;

  constructor(
    private readonly staging: string,
    private readonly clock: StageClock,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * `name` is complete in staging/: hash it, then flush it, in the background. With `written`, the
   * addon already hashed it as it wrote it and flushed it (native/hashed_io.cc): nothing is read back.
   */
  finished(name: string, written?: NativeFileDigest): void {
    if (this.settling) return; // the build is failing: nothing new starts
    if (written) {
      this.pending.set(
        name,
        Promise.resolve({ bytes: written.bytes, checksum: formatChecksum(written.xxh64) }),
      );
      return;
    }
    const file = path.join(this.staging, name);
    const entry = this.clock.time('checksum', () =>
      computeFileEntries(this.staging, [name], this.signal ? { signal: this.signal } : {}),
    );
    const done = entry.then((files) => files[name]!);
    done.catch(() => undefined);
    this.pending.set(name, done);
    const sync = done.then(() => this.clock.time('fsync', () => fsyncFile(file)));
    sync.catch(() => undefined);
    this.syncs.push(sync);
  }

  /** Every finished file's entry (the first failure is thrown), after their flushes. */
  async entries(): Promise<Record<string, ManifestFileEntry>> {
    const names = [...this.pending.keys()];
    const values = await Promise.all(this.pending.values());
    await Promise.all(this.syncs);
    return Object.fromEntries(names.map((n, k) => [n, values[k]!]));
  }

  /** Waits for everything started, ignoring failures (the caller is already failing). */
  async settle(): Promise<void> {
    this.settling = true;
    await Promise.allSettled([...this.pending.values(), ...this.syncs]);
  }
}
