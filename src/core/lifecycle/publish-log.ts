/**
 * `<root>/publish.log`: one JSON line per flip of CURRENT (docs/format.md), appended and
 * fsynced after the flip. It is the history rollback and gc read: the rollback target is the
 * `from` of the last flip whose `to` is the current version.
 */
import { open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as z from '../../vendor/zod-mini.js';

import { guardWrite } from '../util/env-io.js';
import { fsyncDir } from '../util/fsync.js';
import { publishLog, versionNamePattern } from '../layout.js';
import { failpoint } from '../util/failpoint.js';

const versionName = z.string().check(z.regex(versionNamePattern));

export const publishLogEntrySchema = z.looseObject({
  /** ISO 8601, UTC. */
  ts: z.string().check(z.minLength(1)),
  /** The version CURRENT pointed to before the flip; null for the first publish. */
  from: z.nullable(versionName),
  to: versionName,
  host: z.string(),
  pid: z.int(),
  user: z.string(),
  reason: z.nullable(z.string()),
  /** What made the flip; absent in lines written by other tools. */
  action: z.optional(z.enum(['publish', 'rollback'])),
  /** What was wrong with the CURRENT this flip replaced (dangling, outside versions/); absent when fine. */
  repaired: z.optional(z.string()),
});

export type PublishLogEntry = z.infer<typeof publishLogEntrySchema>;

export interface PublishLog {
  entries: PublishLogEntry[];
  /** Complete lines that are not entries (`line N: why`): a hand edit, a damaged disk. */
  problems: string[];
  /** A torn last line, ignored: an append cut short by a crash or a full disk. */
  warnings: string[];
}

interface LogSplit {
  /** The complete lines before any torn tail, with their 1-based line numbers. */
  lines: { n: number; text: string }[];
  /** Bytes up to the end of the last complete line: what the next append keeps. */
  completeBytes: number;
  /** `line N: why`, when the tail is torn. */
  torn?: string;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A line is complete only with its newline, since appends write the line and its newline in one
 * write(2): bytes after the last newline are a torn tail. So is a last complete line that is not
 * JSON (a crash can leave a file extended with zeros up to a newline that was never written).
 */
function splitLog(buf: Buffer): LogSplit {
  let completeBytes = buf.lastIndexOf(0x0a) + 1;
  const texts = buf.subarray(0, completeBytes).toString('utf8').split('\n').slice(0, -1);
  let lines = texts.map((text, i) => ({ n: i + 1, text }));
  let torn: string | undefined;
  if (completeBytes < buf.length) {
    torn = `line ${lines.length + 1}: no newline at the end`;
  } else {
    const last = lines.at(-1);
    if (last !== undefined && last.text.trim() !== '' && !isJson(last.text)) {
      torn = `line ${last.n}: not valid JSON at the end`;
      completeBytes = buf.lastIndexOf(0x0a, completeBytes - 2) + 1;
      lines = lines.slice(0, -1);
    }
  }
  return { lines, completeBytes, ...(torn !== undefined ? { torn } : {}) };
}

/**
 * The log's entries in file order; a missing log is an empty history. A torn last line is left
 * out and reported in `warnings`; a bad line before it is a problem (the history has a hole).
 */
export async function readPublishLog(root: string): Promise<PublishLog> {
  const file = publishLog(root);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], problems: [], warnings: [] };
    throw err;
  }
  const split = splitLog(buf);
  const entries: PublishLogEntry[] = [];
  const problems: string[] = [];
  for (const { n, text } of split.lines) {
    if (text.trim() === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      problems.push(`${file} line ${n}: not valid JSON`);
      continue;
    }
    const parsed = publishLogEntrySchema.safeParse(data);
    if (parsed.success) entries.push(parsed.data);
    else {
      const fields = [...new Set(parsed.error.issues.map((x) => x.path.join('.') || '(top level)'))];
      problems.push(`${file} line ${n}: bad or missing ${fields.join(', ')}`);
    }
  }
  const warnings =
    split.torn === undefined
      ? []
      : [
          `${file} ${split.torn}: a torn last line (an append cut short), ignored; the next publish removes it`,
        ];
  return { entries, problems, warnings };
}

/**
 * The version to roll back to from `current`: the `from` of the last flip that made `current`
 * CURRENT. After a rollback from B to A this is B again, so two rollbacks toggle, like `cd -`.
 */
export function rollbackTarget(
  entries: readonly PublishLogEntry[],
  current: string | undefined,
): string | undefined {
  if (current === undefined) return undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.to === current) return e.from ?? undefined;
  }
  return undefined;
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry for this uid (common in containers).
    return process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? 'unknown');
  }
}

export function makeEntry(
  from: string | undefined,
  to: string,
  reason: string | undefined,
  action: 'publish' | 'rollback',
): PublishLogEntry {
  return {
    ts: new Date().toISOString(),
    from: from ?? null,
    to,
    host: os.hostname(),
    pid: process.pid,
    user: userName(),
    reason: reason ?? null,
    action,
  };
}

/**
 * Appends one line with a single write(2) and fsyncs the log (and the root, for the first line).
 * A torn tail left by a crash is truncated first, so the log heals at the next append. If the
 * write fails or is cut short (ENOSPC), the partial line is truncated away again before the error
 * is rethrown: the log is as it was, and the caller restores CURRENT.
 */
export async function appendPublishLog(root: string, entry: PublishLogEntry): Promise<void> {
  const file = publishLog(root);
  await guardWrite(`cannot append to ${file}`, file, () => append(file, entry));
}

async function append(file: string, entry: PublishLogEntry): Promise<void> {
  failpoint('publish:before-log');
  const handle = await open(file, 'a+');
  try {
    const { completeBytes } = splitLog(await handle.readFile());
    if (completeBytes < (await handle.stat()).size) await handle.truncate(completeBytes);
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    try {
      // O_APPEND: the position is the end. A short count means the next write reports why.
      let done = (await handle.write(line, 0, line.length, null)).bytesWritten;
      while (done < line.length)
        done += (await handle.write(line, done, line.length - done, null)).bytesWritten;
      await handle.sync();
    } catch (err) {
      // ftruncate needs no free space; if it fails too, readers still ignore the torn tail.
      await handle.truncate(completeBytes).catch(() => undefined);
      throw err;
    }
    failpoint('publish:logged');
  } finally {
    await handle.close();
  }
  await fsyncDir(path.dirname(file));
}
