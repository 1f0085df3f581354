/**
 * Module hooks that load-log.ts registers: one `module <url>` line in $LOAD_LOG per ES module or
 * CommonJS file loaded through the ESM loader (test/verify-startup.test.ts: what verify's start-up
 * imports). Hooks run on node's loader thread, so the line names no thread.
 */
import { appendFileSync } from 'node:fs';

const log = process.env.LOAD_LOG;

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (log && !url.startsWith('node:')) appendFileSync(log, `${process.pid} module ${url}\n`);
  return next(url, context);
}
