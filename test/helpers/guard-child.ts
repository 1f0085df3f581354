/**
 * A command whose main thread never comes back, for test/exit-guard.test.ts:
 * `node guard-child.js ROOT MODE` takes the writer lock of ROOT, makes a staging directory, prints
 * {"event":"ready",...} and then spins the main thread for 60 s without yielding (what a long
 * synchronous wasm or native call does), printing {"event":"spun"} if it ever finishes.
 *
 * MODE "cli": the CLI's signal handlers (src/cli/signals.ts: the guard with GRACE_MS). MODE
 * "second": the guard armed with a 60 s grace, so only a second signal can end the process early.
 * MODE "taken": as "cli", but the lock file is overwritten with another owner's token first (a
 * takeover), which the guard must leave in place.
 */
import { writeFileSync } from 'node:fs';

import { installSignalHandlers } from '../../src/cli/signals.js';
import { armExitGuard, setExitGuardLine } from '../../src/core/exit-guard.js';
import { ensureRoot, makeStagingDir } from '../../src/core/layout.js';
import { acquireWriterLock } from '../../src/core/lock.js';

const [root, mode] = process.argv.slice(2) as [string, 'cli' | 'second' | 'taken'];
let armed: boolean;
if (mode === 'second') {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
  armed = armExitGuard(60_000);
} else {
  installSignalHandlers((text) => process.stderr.write(text));
  armed = true;
}
setExitGuardLine('guard: %SIGNAL% ended it\n');
await ensureRoot(root);
const lock = await acquireWriterLock(root, { command: 'guard child' });
const staging = await makeStagingDir(root, 'spinning');
writeFileSync(`${staging}/faiss.index`, Buffer.alloc(1 << 20));
if (mode === 'taken')
  writeFileSync(lock.path, JSON.stringify({ ...lock.owner, token: 'someone-else' }) + '\n');
console.log(JSON.stringify({ event: 'ready', armed, staging, lock: lock.path }));
const end = Date.now() + 60_000;
while (Date.now() < end) {
  // Spins: no handler, no timer and no promise can run on this thread.
}
console.log(JSON.stringify({ event: 'spun' }));
