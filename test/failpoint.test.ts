/**
 * Holdpoints park a command mid-work for the signal tests (src/core/util/failpoint.ts). A
 * cancellation that lands just before the hold (test/signals.test.ts's Ctrl-C arriving while a
 * build hashed its first batch) must stop it there: it used to hold for 120 s, past the CLI's grace
 * period, which then exited without removing the staging directory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InterruptedError } from '../src/core/errors.js';
import { holdpoint } from '../src/core/util/failpoint.js';

function withFailpoint<T>(value: string, run: () => Promise<T>): Promise<T> {
  const before = process.env.INDEXCTL_FAILPOINT;
  process.env.INDEXCTL_FAILPOINT = value;
  return run().finally(() => {
    if (before === undefined) delete process.env.INDEXCTL_FAILPOINT;
    else process.env.INDEXCTL_FAILPOINT = before;
  });
}

/** The holdpoint's outcome, or 'still held' if it has not settled within `ms`. */
async function settled(p: Promise<void>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still held'), ms)));
  const outcome = p.then(
    () => 'released',
    (err: Error) => `rejected: ${err.name}`,
  );
  try {
    return await Promise.race([outcome, held]);
  } finally {
    clearTimeout(timer);
  }
}

test('a cancellation before the hold stops the holdpoint at once', async () => {
  const controller = new AbortController();
  controller.abort(new InterruptedError('SIGINT'));
  const outcome = await withFailpoint('build:adding:hold', () =>
    settled(holdpoint('build:adding', controller.signal), 5_000),
  );
  assert.equal(outcome, 'rejected: InterruptedError');
});

test('a cancellation during the hold ends it; without one, hold=<ms> lets the caller go on', async () => {
  const controller = new AbortController();
  const held = withFailpoint('build:adding:hold', () =>
    settled(holdpoint('build:adding', controller.signal), 5_000),
  );
  setTimeout(() => controller.abort(new InterruptedError('SIGTERM')), 50);
  assert.equal(await held, 'rejected: InterruptedError');
  const released = await withFailpoint('build:adding:hold=20', () =>
    settled(holdpoint('build:adding', new AbortController().signal), 5_000),
  );
  assert.equal(released, 'released');
});
