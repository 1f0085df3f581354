import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  fsyncDir,
  fsyncDirSync,
  fsyncFile,
  fsyncFileSync,
  writeFileDurable,
} from '../src/core/util/fsync.js';
import { tmpDir } from './helpers/tmp.js';

describe('fsync helpers', () => {
  it('sync files and directories that exist; ENOENT otherwise', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'f');
    writeFileSync(file, 'x');
    await fsyncFile(file);
    await fsyncDir(dir);
    fsyncFileSync(file);
    fsyncDirSync(dir);
    await assert.rejects(fsyncFile(path.join(dir, 'nope')), { code: 'ENOENT' });
  });

  it('writeFileDurable creates and replaces a file, leaving no temp file', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'publish.log');
    await writeFileDurable(file, 'one\n');
    await writeFileDurable(file, new TextEncoder().encode('two\n'));
    assert.equal(readFileSync(file, 'utf8'), 'two\n');
    assert.deepEqual(readdirSync(dir), ['publish.log']);
  });

  it('writeFileDurable into a missing directory fails without leaving anything', async () => {
    const dir = tmpDir();
    await assert.rejects(writeFileDurable(path.join(dir, 'no', 'f'), 'x'), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir), []);
  });
});
