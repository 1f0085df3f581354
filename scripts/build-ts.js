#!/usr/bin/env node
// Compiles the TypeScript (src/, test/, bench/ into dist/), then replaces dist/src/vendor/zod-mini.js,
// tsc's re-export of zod/mini (its modules loaded one by one), with one esbuild bundle of just what
// it exports, so the manifest schema every command reads at start-up costs one small module
// (src/vendor/zod-mini.ts).
// `npm run build:ts`; scripts/setup.sh and scripts/prepack.js run it too.
//   node scripts/build-ts.js [--bundle-only]
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The first line of the bundle: scripts/setup.sh and test/verify-startup.test.ts look for it. */
export const BUNDLE_MARK = '// zod bundled by scripts/build-ts.js';

export async function bundleZod() {
  const { build } = await import('esbuild');
  const zodPackage = JSON.parse(
    readFileSync(path.join(path.dirname(require.resolve('zod')), 'package.json'), 'utf8'),
  );
  await build({
    entryPoints: [path.join(root, 'src/vendor/zod-mini.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: path.join(root, 'dist/src/vendor/zod-mini.js'),
    banner: {
      js: `${BUNDLE_MARK}: zod ${zodPackage.version} (MIT, https://github.com/colinhacks/zod)`,
    },
    legalComments: 'inline',
    logLevel: 'warning',
  });
  // tsc's source map belongs to the re-export this replaces.
  rmSync(path.join(root, 'dist/src/vendor/zod-mini.js.map'), { force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--bundle-only'))
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  await bundleZod();
}
