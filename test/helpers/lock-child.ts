/**
 * A writer in another process, for test/lock.test.ts: `node lock-child.js ROOT [waitSeconds]`.
 * Prints one JSON line when it has the lock ({"event":"acquired"}) or fails ({"event":"error",...},
 * then exits with the error's exit code, as the CLI would); with a wait, first {"event":"waiting"}
 * when it found the lock held. Holding, it releases and exits when
 * stdin says "release" or closes.
 */
import { createInterface } from 'node:readline';

import { acquireWriterLock } from '../../src/core/lock.js';

const [root, wait] = process.argv.slice(2);
const waitSeconds = Number(wait ?? 0);
try {
  if (waitSeconds > 0) {
    // Look once without waiting, so the test knows this process found the lock held before it
    // began to wait ({"event":"waiting"}); a waiter that simply came late would say nothing.
    const first = await acquireWriterLock(root!, { command: 'test child' }).catch((err: unknown) => {
      if ((err as { exitCode?: number }).exitCode !== 75) throw err;
      console.log(JSON.stringify({ event: 'waiting' }));
      return undefined;
    });
    first?.release();
  }
  const lock = await acquireWriterLock(root!, { command: 'test child', waitSeconds, pollMs: 20 });
  console.log(JSON.stringify({ event: 'acquired', pid: process.pid }));
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'release') break;
  lock.release();
  process.stdin.destroy();
  console.log(JSON.stringify({ event: 'released' }));
} catch (err) {
  const e = err as Error & { exitCode?: number };
  console.log(JSON.stringify({ event: 'error', name: e.name, exitCode: e.exitCode, message: e.message }));
  process.exitCode = e.exitCode ?? 1;
}
