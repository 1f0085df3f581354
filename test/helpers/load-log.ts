/**
 * A preload (`node --import dist/test/helpers/load-log.js`) that appends to $LOAD_LOG one line per
 * native addon dlopen and per WebAssembly compile, so a test or bench can see what a command loaded
 * (test/verify-startup.test.ts: `verify --level 1` loads no DuckDB). Worker threads run the preload
 * too; each line names its thread (`thread 0` is the main one). The main thread also registers
 * load-log-hooks.ts: a `module <url>` line per module imported.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread, threadId } from 'node:worker_threads';

const log = process.env.LOAD_LOG;

if (log && isMainThread) register('./load-log-hooks.js', import.meta.url);

function note(kind: string, what: string): void {
  if (log) appendFileSync(log, `${process.pid} thread ${threadId} ${kind} ${what}\n`);
}

function size(source: unknown): string {
  const n = (source as { byteLength?: unknown } | undefined)?.byteLength;
  return typeof n === 'number' ? `${n} bytes` : 'a module';
}

const dlopen = process.dlopen.bind(process);
process.dlopen = (module: { exports: unknown }, filename: string, flags?: number) => {
  note('dlopen', filename);
  return flags === undefined ? dlopen(module, filename) : dlopen(module, filename, flags);
};

// lib is ES2022 without DOM, so WebAssembly is reached through globalThis.
const wasm = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
for (const name of ['instantiate', 'compile']) {
  const original = wasm[name] as (source: unknown, ...rest: unknown[]) => unknown;
  wasm[name] = (source: unknown, ...rest: unknown[]) => {
    note(`WebAssembly.${name}`, size(source));
    return original.call(wasm, source, ...rest);
  };
}
const OriginalModule = wasm.Module as new (...args: unknown[]) => object;
wasm.Module = new Proxy(OriginalModule, {
  construct(target, args: unknown[]) {
    note('WebAssembly.Module', size(args[0]));
    return Reflect.construct(target, args);
  },
});
