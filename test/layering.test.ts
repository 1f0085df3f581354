/**
 * The layering a newcomer relies on (README "What is here"): core reads its settings from options
 * the CLI fills (src/cli.ts reads the environment), and verify does not depend on the lifecycle
 * commands it is a gate for.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';

/** Files of src/core allowed to read process.env, each for the reason in its comment. */
const ENV_READERS = new Set([
  'src/core/util/failpoint.ts', // a test hook deep in writers and the probe child
  'src/core/faiss/addon-location.ts', // the loader, shared by the library, CLI, children and install
  'src/core/lifecycle/publish-log.ts', // the user name fallback when there is no passwd entry
  'src/core/build/factory-trial-cache.ts', // a per-machine cache (XDG), the same for library and CLI
]);

function sources(dir: string): string[] {
  return readdirSync(path.join(packageRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('layering of src/core', () => {
  it('reads no environment variable outside the listed files', () => {
    const offenders = sources('src/core')
      .filter((f) => !ENV_READERS.has(f))
      .flatMap((f) =>
        readFileSync(path.join(packageRoot, f), 'utf8')
          .split('\n')
          .flatMap((line, i) => (/process\.env\b/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(offenders, [], 'read these at the edge (src/cli.ts) and pass them as options');
  });

  it('verify imports nothing from lifecycle/ or build/', () => {
    const offenders = sources('src/core/verify').flatMap((f) =>
      readFileSync(path.join(packageRoot, f), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          /from '\.\.\/(lifecycle|build)\//.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    assert.deepEqual(offenders, []);
  });
});
