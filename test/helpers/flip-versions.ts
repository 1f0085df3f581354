/**
 * Two versions whose chunk ids are disjoint, so every result set can be attributed to exactly one,
 * and a loop of publishes and rollbacks run by the CLI in another process.
 */
import { spawn } from 'node:child_process';

import { bin, runCli } from './cli.js';
import { buildVersions } from './versions.js';

export const FLIP_DIM = 8;
const B_BASE = 10_000_000n;

/** `a` (ids i*1000+7, below B_BASE) and `b` (ids 10,000,000 + i), Flat, 200 x 8; `a` published. */
export async function buildFlipRoot(root: string): Promise<void> {
  await buildVersions(root, [
    { name: 'a', dim: FLIP_DIM },
    { name: 'b', dim: FLIP_DIM, id: `${B_BASE} + i` },
  ]);
  const res = runCli(['--root', root, 'publish', 'a', '--expect-current', 'none', '--quiet']);
  if (res.code !== 0) throw new Error(`publish a failed (${res.code}): ${res.stderr}`);
}

/** The version a chunk id belongs to. */
export function versionOfId(id: bigint | string): 'a' | 'b' {
  return BigInt(id) >= B_BASE ? 'b' : 'a';
}

/** The one version all these ids belong to; throws when they mix versions. */
export function versionOfIds(ids: (bigint | string)[]): 'a' | 'b' | undefined {
  const versions = new Set(ids.map(versionOfId));
  if (versions.size > 1) throw new Error(`one result set mixes versions: ${ids.join(', ')}`);
  return [...versions][0];
}

export interface FlipLoop {
  /** Settles when the loop has ended: its exit code and output. */
  done: Promise<{ code: number | null; output: string }>;
}

/**
 * `indexctl publish b` then `indexctl rollback`, `rounds` times, then a last `publish b`: a CLI in
 * another process flips CURRENT 2 * rounds + 1 times and leaves it on b.
 */
export function flipLoop(root: string, rounds: number): FlipLoop {
  const cli = `"${process.execPath}" "${bin}" --root "${root}" --quiet`;
  const script = [
    'set -e',
    `for i in $(seq ${rounds}); do`,
    `  ${cli} publish b --reason "flip $i"`,
    `  ${cli} rollback --reason "back $i"`,
    'done',
    `${cli} publish b --reason last`,
  ].join('\n');
  const child = spawn('bash', ['-c', script], { env: { ...process.env, NO_COLOR: '1' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
  return { done };
}
