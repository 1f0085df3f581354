#!/usr/bin/env node
// Checks native/*.{cc,h} against .clang-format (clang-format --dry-run -Werror). Skips with a notice
// when clang-format is not installed (scripts/setup.sh --test installs it).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = readdirSync(path.join(root, 'native'))
  .filter((f) => /\.(cc|h)$/.test(f))
  .map((f) => path.join('native', f));
const fix = process.argv.includes('--fix');
const res = spawnSync('clang-format', [fix ? '-i' : '--dry-run', ...(fix ? [] : ['-Werror']), ...files], {
  cwd: root,
  stdio: 'inherit',
});
if (res.error) {
  console.error(`clang-format not found (${res.error.message}); skipping the C++ format check`);
  process.exit(process.env.CI ? 1 : 0);
}
process.exit(res.status ?? 1);
