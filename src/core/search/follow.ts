/**
 * A handle that follows CURRENT: `openIndex({ root, follow: true })`. A service keeps one for its
 * lifetime and every publish or rollback reaches it without a restart.
 *
 * It notices a flip by watching the root directory (the flip is a rename onto CURRENT) and, because
 * fs.watch is not reliable everywhere (network filesystems, some containers), by polling CURRENT too.
 * On a flip it opens the new version completely (manifest, size, checksum when asked, catalog) while
 * searches go on against the old one, then swaps the two between searches. A search holds a lease on
 * the version it started on, so it finishes there; the old version is closed when its last lease
 * ends. A new version that fails to open is reported (onError, the 'error' event, `stats.errors`) and
 * the old one keeps serving: a reader must never be left without an index because of a bad publish.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';

import { UsageError } from '../errors.js';
import { requireCurrent, resolveRoot } from '../layout.js';
import type { IndexHandle, OpenIndexOptions, SearchHit } from './open-index.js';

/** `{ root, follow: true }`: the version CURRENT names now, and each one it names later. */
export interface FollowTarget {
  root: string;
  follow: true;
}

export interface FollowOptions extends OpenIndexOptions {
  /** How often CURRENT is read besides the watch, in ms (default 1000). */
  pollIntervalMs?: number;
  /** Watch the root with fs.watch (default true); polling alone when false. */
  watch?: boolean;
  /** Called when a flip could not be followed; the previous version keeps serving. */
  onError?: (error: Error) => void;
  /** Called after a new version was swapped in. */
  onSwitch?: (event: SwitchEvent) => void;
}

export interface SwitchEvent {
  from: string;
  to: string;
}

export interface FollowStats {
  /** Versions swapped in since the open. */
  switches: number;
  /** Flips that could not be followed (the new version failed to open, CURRENT unreadable). */
  errors: number;
  /** The last such error, if any. */
  lastError: Error | undefined;
}

type Opener = (target: { root: string; version: string }, options: OpenIndexOptions) => Promise<IndexHandle>;

const DEFAULT_POLL_MS = 1000;

export function isFollowTarget(target: unknown): target is FollowTarget {
  return typeof target === 'object' && target !== null && (target as { follow?: unknown }).follow === true;
}

/**
 * An open version and its leases (searches in flight). Retired when another version is swapped in;
 * closed when it is retired and its last lease has ended.
 */
class Slot {
  private leases = 0;
  private retired = false;
  private finish: (() => void) | undefined;
  /** Settles once the handle is closed. */
  readonly closed: Promise<void>;

  constructor(
    readonly handle: IndexHandle,
    private readonly onCloseError: (err: unknown) => void,
  ) {
    this.closed = new Promise((resolve) => (this.finish = resolve));
  }

  acquire(): void {
    this.leases++;
  }

  release(): void {
    this.leases--;
    if (this.retired && this.leases === 0) this.closeNow();
  }

  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.leases === 0) this.closeNow();
  }

  private closeNow(): void {
    this.handle.close().then(this.finish, (err: unknown) => {
      this.onCloseError(err);
      this.finish!();
    });
  }
}
export class FollowingIndex extends EventEmitter {
  readonly root: string;
  readonly stats: FollowStats = { switches: 0, errors: 0, lastError: undefined };
  private slot: Slot;
  /** Every slot not known to be closed yet: close() waits for them all. */
  private readonly slots = new Set<Slot>();
  private closed = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The check in progress; a flip seen meanwhile sets `again` so CURRENT is read once more after. */
  private checking: Promise<void> | undefined;
  private again = false;
  /**
   * What last failed (a version name, or a message about CURRENT itself): reported once, not
   * retried until CURRENT names something else, so a bad publish costs one error, not one per poll.
   */
  private failed: string | undefined;

  /** Use openIndex({ root, follow: true }). */
  constructor(
    root: string,
    first: IndexHandle,
    private readonly open: Opener,
    private readonly options: FollowOptions,
  ) {
    super();
    this.root = root;
    this.slot = this.track(first);
  }

  /** The version served now (a search that starts now runs on it). */
  get version(): string {
    return this.slot.handle.version;
  }

  /** The handle served now, for one read. Use `withHandle` to do several reads on one version. */
  get current(): IndexHandle {
    return this.slot.handle;
  }

  /**
   * Runs `fn` on the version served now, which stays open until `fn` settles even if CURRENT
   * flips meanwhile: several reads (search, then hydrate) see one version.
   */
  async withHandle<T>(fn: (handle: IndexHandle) => Promise<T>): Promise<T> {
    if (this.closed) throw new UsageError(`${this.root}: the following index handle is closed`);
    const slot = this.slot;
    slot.acquire();
    try {
      return await fn(slot.handle);
    } finally {
      slot.release();
    }
  }

  /** IndexHandle.search on the version served now; every hit of one call comes from that version. */
  search(vectors: Float32Array, k: number): Promise<SearchHit[][]> {
    return this.withHandle((handle) => handle.search(vectors, k));
  }

  /** Reads CURRENT now and follows it; resolves once the served version reflects what was read. */
  async refresh(): Promise<void> {
    this.poke();
    while (this.checking) await this.checking;
  }

  /** Stops following, waits for searches in flight and a version being opened, closes everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.stopWatch();
    await this.checking;
    this.slot.retire();
    await Promise.all([...this.slots].map((slot) => slot.closed));
  }

  /** Starts following; openIndex calls it. */
  start(): void {
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_MS;
    if (!Number.isSafeInteger(interval) || interval < 1) {
      throw new UsageError(`pollIntervalMs must be a positive integer, got ${String(interval)}`);
    }
    // Not unref'd: like an open server, a following handle keeps its process alive until close().
    this.timer = setInterval(() => this.poke(), interval);
    if (this.options.watch !== false) this.startWatch();
  }

  private track(handle: IndexHandle): Slot {
    const slot = new Slot(handle, (err) => this.report(err));
    this.slots.add(slot);
    void slot.closed.then(() => this.slots.delete(slot));
    return slot;
  }

  private startWatch(): void {
    try {
      this.watcher = watch(this.root, { persistent: false }, (_event, file) => {
        // The flip renames a temporary link onto CURRENT; some platforms give no name at all.
        if (file === null || file === 'CURRENT') this.poke();
      });
      // A watch that dies (root removed, inotify limits) leaves the poll to do the work.
      this.watcher.on('error', () => this.stopWatch());
    } catch {
      this.watcher = undefined;
    }
  }

  private stopWatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private poke(): void {
    if (this.closed) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = this.check().finally(() => {
      this.checking = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async check(): Promise<void> {
    let target: string;
    try {
      target = requireCurrent(this.root);
    } catch (err) {
      // CURRENT removed, damaged or dangling: keep serving what is open.
      this.fail(`CURRENT: ${(err as Error).message}`, err);
      return;
    }
    if (target === this.slot.handle.version) {
      this.failed = undefined;
      return;
    }
    if (target === this.failed) return;
    let next: IndexHandle;
    try {
      next = await this.open({ root: this.root, version: target }, this.options);
    } catch (err) {
      this.fail(target, err);
      return;
    }
    if (this.closed) {
      await next.close();
      return;
    }
    this.failed = undefined;
    const old = this.slot;
    this.slot = this.track(next);
    old.retire();
    this.stats.switches++;
    const event: SwitchEvent = { from: old.handle.version, to: next.version };
    this.options.onSwitch?.(event);
    this.emit('switch', event);
  }

  private fail(what: string, err: unknown): void {
    if (this.failed === what) return;
    this.failed = what;
    this.report(err);
  }

  private report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.stats.errors++;
    this.stats.lastError = error;
    this.options.onError?.(error);
    // EventEmitter throws an 'error' nobody listens to; a handle that keeps serving must not.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Opens CURRENT of `target.root` and follows it (see FollowingIndex). */
export async function openFollowing(
  target: FollowTarget,
  options: FollowOptions,
  open: Opener,
): Promise<FollowingIndex> {
  if ((target as { version?: unknown }).version !== undefined) {
    throw new UsageError('openIndex: follow: true follows CURRENT; it cannot be combined with a version');
  }
  const root = resolveRoot(target.root);
  const first = await open({ root, version: requireCurrent(root) }, options);
  const following = new FollowingIndex(root, first, open, options);
  try {
    following.start();
  } catch (err) {
    await following.close();
    throw err;
  }
  return following;
}
