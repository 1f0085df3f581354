/**
 * The contract lives in the repository (docs/spec.md and the pages it links): no tracked file may
 * point at the out-of-tree specification or measurements a clone does not have.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';

// Spelled in pieces so this file does not match itself.
const FORBIDDEN = new RegExp(['\\.\\./' + 'shared', 'SPEC' + '\\.md', 'MEASUREMENTS' + '\\.md'].join('|'));
const UNTRACKED = new Set(['node_modules', 'build', 'dist', '.git']);

/** Tracked files per git; a tree walk without the build outputs when this is not a git checkout. */
function trackedFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z'], { cwd: packageRoot, encoding: 'utf8' });
  if (git.status === 0) return git.stdout.split('\0').filter((f) => f !== '');
  const walk = (dir: string): string[] =>
    readdirSync(path.join(packageRoot, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return UNTRACKED.has(e.name) ? [] : walk(rel);
      return e.isFile() ? [rel] : [];
    });
  return walk('');
}

describe('the contract is in the repository', () => {
  it('no tracked file refers to the out-of-tree specification or measurements', () => {
    const files = trackedFiles();
    assert.ok(files.includes('docs/spec.md'), 'docs/spec.md is the contract');
    const offenders: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(packageRoot, file), 'utf8');
      } catch {
        continue; // a file deleted in the working tree but still in the index
      }
      text.split('\n').forEach((line, i) => {
        if (FORBIDDEN.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offenders, [], `point these at docs/ instead:\n${offenders.join('\n')}`);
  });
});
