/**
 * `<root>/publish.log`: one JSON line per flip of CURRENT (docs/format.md), appended and
 * fsynced after the flip. It is the history rollback and gc read: the rollback target is the
 * `from` of the last flip whose `to` is the current version.
 */
import { open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

import { guardWrite } from '../env-io.js';
import { fsyncDir } from '../fsync.js';
import { publishLog, versionNamePattern } from '../layout.js';
import { failpoint } from '../failpoint.js';

const versionName = z.string().regex(versionNamePattern);

export const publishLogEntrySchema = z.looseObject({
  /** ISO 8601, UTC. */
  ts: z.string().min(1),
  /** The version CURRENT pointed to before the flip; null for the first publish. */
  from: versionName.nullable(),
  to: versionName,
  host: z.string(),
  pid: z.int(),
  user: z.string(),
  reason: z.string().nullable(),
  /** What made the flip; absent in lines written by other tools. */
  action: z.enum(['publish', 'rollback']).optional(),
});

export type PublishLogEntry = z.infer<typeof publishLogEntrySchema>;

export interface PublishLog {
  entries: PublishLogEntry[];
  /** Lines that are not entries (`line N: why`): a torn last line after a crash, or a hand edit. */
  problems: string[];
}

/** The log's entries in file order; a missing log is an empty history. */
export async function readPublishLog(root: string): Promise<PublishLog> {
  let text: string;
  try {
    text = await readFile(publishLog(root), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], problems: [] };
    throw err;
  }
  const entries: PublishLogEntry[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      problems.push(`${publishLog(root)} line ${i + 1}: not valid JSON`);
      return;
    }
    const parsed = publishLogEntrySchema.safeParse(data);
    if (parsed.success) entries.push(parsed.data);
    else {
      const fields = [...new Set(parsed.error.issues.map((x) => x.path.join('.') || '(top level)'))];
      problems.push(`${publishLog(root)} line ${i + 1}: bad or missing ${fields.join(', ')}`);
    }
  });
  return { entries, problems };
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
 * Appends one line and fsyncs the log (and the root, for the first line). A last line left torn by
 * a crash gets its newline first, so it cannot swallow this entry.
 */
export async function appendPublishLog(root: string, entry: PublishLogEntry): Promise<void> {
  const file = publishLog(root);
  await guardWrite(`cannot append to ${file}`, file, () => append(file, entry));
}

async function append(file: string, entry: PublishLogEntry): Promise<void> {
  failpoint('publish:before-log');
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.appendFile(`${prefix}${JSON.stringify(entry)}\n`);
    await handle.sync();
    failpoint('publish:logged');
  } finally {
    await handle.close();
  }
  await fsyncDir(path.dirname(file));
}
