/**
 * A writer in another process, for test/lock.test.ts: `node lock-child.js ROOT [waitSeconds]`.
 * Prints one JSON line when it has the lock ({"event":"acquired"}) or fails ({"event":"error",...},
 * then exits with the error's exit code, as the CLI would). Holding, it releases and exits when
 * stdin says "release" or closes.
 */
import { createInterface } from 'node:readline';

import { acquireWriterLock } from '../../src/core/lock.js';

const [root, wait] = process.argv.slice(2);
try {
  const lock = await acquireWriterLock(root!, {
    command: 'test child',
    waitSeconds: Number(wait ?? 0),
    pollMs: 20,
  });
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
