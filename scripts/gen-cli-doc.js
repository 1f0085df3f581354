#!/usr/bin/env node
// Writes docs/cli.md from the command table in src/cli-options.ts (compiled to dist/), so the docs
// cannot drift from the flags. `--check` exits 1 when docs/cli.md is out of date (run by the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { commands, globalOptions } = await import(path.join(root, 'dist/src/cli-options.js'));

const note = (o) =>
  [
    o.presence === 'required' ? 'required' : '',
    o.choices ? `choices: ${o.choices.join(', ')}` : '',
    o.presence === 'defaulted' ? `default: ${o.defaultLabel ?? o.defaultValue}` : '',
    o.conflicts
      ? `not with ${o.conflicts.map((c) => `--${c.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`).join(', ')}`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
const row = (o) => `| \`${o.flags}\` | ${o.description}${note(o) ? ` (${note(o)})` : ''} |`;
const lines = [
  '# indexctl command line',
  '',
  'Generated from `src/cli-options.ts` by `node scripts/gen-cli-doc.js`; do not edit by hand.',
  '',
  '## Global options',
  '',
  '| option | meaning |',
  '|---|---|',
  ...globalOptions.map(row),
  '| `-V, --version` | print the version of indexctl and of the FAISS it links |',
  '| `-h, --help` | help for indexctl or a command |',
  '',
];
for (const c of commands) {
  lines.push(`## \`indexctl ${[c.name, ...c.args].join(' ')}\``, '', c.summary, '');
  if (c.aliases?.length) lines.push(`Also: ${c.aliases.map((a) => `\`indexctl ${a}\``).join(', ')}.`, '');
  if (c.options.length > 0) lines.push('| option | meaning |', '|---|---|', ...c.options.map(row), '');
  if (c.examples.length > 0) lines.push('```sh', ...c.examples, '```', '');
}
lines.push(
  '## Exit codes',
  '',
  '| code | meaning |',
  '|---|---|',
  '| 0 | success |',
  '| 1 | internal error (a bug; stack with `--verbose`), or the FAISS addon could not be loaded |',
  '| 2 | usage error (unknown flag, missing argument, invalid version name) |',
  '| 3 | invariant violation: counts, ids, dimensions or coverage disagree; for `publish`/`rollback` also a `--expect-current` conflict |',
  '| 4 | corruption: checksum mismatch, unreadable or truncated file, invalid manifest, `CURRENT` not a symlink to `versions/<v>` |',
  '| 5 | bad input data (the chunks file or a query file; an embedding wider than 65536) |',
  '| 6 | not found: root, version or CURRENT missing |',
  '| 74 | the environment refused an I/O (`EX_IOERR`): permission denied, read-only or full filesystem, quota, EIO; the message names the path and the cause |',
  '| 75 | lock held by another writer |',
  '',
);
const text = lines.join('\n');
const file = path.join(root, 'docs/cli.md');
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing counts as out of date
  }
  if (current !== text) {
    console.error('docs/cli.md is out of date: run `node scripts/gen-cli-doc.js`');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
}
