/**
 * Runs the reference implementation: Debian's python3-faiss (FAISS 1.7.3), which lives in the
 * system Python, not in whatever `python3` comes first on PATH. INDEXCTL_PYTHON overrides.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export const pythonBin = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';

/** Runs `script` with argv; the script prints one JSON document, which is returned. */
export function runPython<T = unknown>(script: string, args: string[] = []): T {
  const res = spawnSync(pythonBin, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (res.status !== 0) {
    throw new Error(`python failed (${res.status}): ${res.stderr || res.error?.message}`);
  }
  return JSON.parse(res.stdout) as T;
}

/** Raw little-endian dump a Python script reads with numpy.fromfile. */
export function writeRaw(file: string, data: Float32Array | BigInt64Array): void {
  writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
