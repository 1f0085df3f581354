import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  IndexCorruptionError,
  InvariantViolationError,
  NotFoundError,
  UsageError,
} from '../src/core/errors.js';
import {
  checkVersionName,
  commitStagingDir,
  currentLink,
  defaultVersionName,
  ensureRoot,
  flipCurrent,
  isValidVersionName,
  listVersions,
  lockFile,
  makeStagingDir,
  pinsFile,
  publishLog,
  readCurrent,
  requireCurrent,
  requireRealRootDirs,
  requireRoot,
  requireVersionDir,
  resolveRoot,
  scanStaging,
  staleStagingDirs,
  stagingDir,
  unknownVersionEntries,
  versionDir,
  versionExists,
  versionsDir,
} from '../src/core/layout.js';
import { tmpDir } from './helpers/tmp.js';

async function freshRoot(...versions: string[]): Promise<string> {
  const root = path.join(tmpDir(), 'root');
  await ensureRoot(root);
  for (const v of versions) mkdirSync(path.join(root, 'versions', v));
  return root;
}

const hostile = [
  '',
  '.',
  '..',
  '.hidden',
  'a/b',
  '/abs',
  '../x',
  'x/..',
  'a\\b',
  'a b',
  '-x',
  '_x',
  'ü',
  'a\0b',
  'v1\n',
  'a'.repeat(129),
];

describe('version names', () => {
  it('accepts names of the documented form, up to 128 characters', () => {
    for (const ok of ['a', 'A1', '0', '20261123T193000Z-3f2a9c1b', 'v1.2_3-x', 'a..b', 'a'.repeat(128)]) {
      assert.equal(checkVersionName(ok), ok);
      assert.equal(isValidVersionName(ok), true);
    }
  });

  it('refuses hostile names with UsageError (exit 2), before any path is built', () => {
    const root = path.join(tmpDir(), 'never-created');
    for (const bad of hostile) {
      assert.throws(
        () => checkVersionName(bad),
        (err: unknown) => err instanceof UsageError && err.exitCode === 2,
        bad,
      );
      assert.throws(() => versionDir(root, bad), UsageError, bad);
      assert.throws(() => requireVersionDir(root, bad), UsageError, bad);
      assert.throws(() => versionExists(root, bad), UsageError, bad);
    }
    assert.equal(existsSync(root), false);
  });

  it('the message shows a long name shortened', () => {
    assert.throws(() => checkVersionName('a'.repeat(300)), /\(300 chars\)/);
  });

  it('default names are UTC timestamps with 8 random hex digits, valid and unique', () => {
    const now = new Date(Date.UTC(2026, 10, 23, 19, 30, 0, 123));
    const a = defaultVersionName(now);
    const b = defaultVersionName(now);
    assert.match(a, /^20261123T193000Z-[0-9a-f]{8}$/);
    assert.notEqual(a, b);
    assert.equal(isValidVersionName(a), true);
    assert.match(defaultVersionName(), /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  });
});

describe('root paths', () => {
  it('builds every path inside the root', () => {
    const root = resolveRoot('some/dir');
    assert.equal(root, path.resolve('some/dir'));
    assert.equal(versionsDir(root), path.join(root, 'versions'));
    assert.equal(stagingDir(root), path.join(root, 'staging'));
    assert.equal(versionDir(root, 'v1'), path.join(root, 'versions', 'v1'));
    assert.equal(currentLink(root), path.join(root, 'CURRENT'));
    assert.equal(publishLog(root), path.join(root, 'publish.log'));
    assert.equal(pinsFile(root), path.join(root, 'pins'));
    assert.equal(lockFile(root), path.join(root, '.lock'));
  });

  it('NotFoundError for a missing root or version', async () => {
    const missing = path.join(tmpDir(), 'nope');
    assert.throws(
      () => requireRoot(missing),
      (err: unknown) => err instanceof NotFoundError && err.exitCode === 6,
    );
    assert.throws(() => listVersions(missing), NotFoundError);
    assert.throws(() => requireCurrent(missing), NotFoundError);
    const file = path.join(tmpDir(), 'a-file');
    writeFileSync(file, '');
    assert.throws(() => requireRoot(file), NotFoundError);
    const root = await freshRoot('v1');
    assert.equal(requireVersionDir(root, 'v1'), path.join(root, 'versions', 'v1'));
    assert.throws(() => requireVersionDir(root, 'v2'), /version not found: v2/);
    assert.equal(versionExists(root, 'v1'), true);
    assert.equal(versionExists(root, 'v2'), false);
  });

  it('lists only directories with valid names, sorted', async () => {
    const root = await freshRoot('b', 'a', '20261123T193000Z-3f2a9c1b');
    mkdirSync(path.join(root, 'versions', '.partial'));
    writeFileSync(path.join(root, 'versions', 'file'), '');
    symlinkSync('a', path.join(root, 'versions', 'link'));
    assert.deepEqual(listVersions(root), ['20261123T193000Z-3f2a9c1b', 'a', 'b']);
    const bare = path.join(tmpDir(), 'bare');
    mkdirSync(bare);
    assert.deepEqual(listVersions(bare), []);
  });
});

describe('CURRENT', () => {
  it('is undefined before the first publish; requireCurrent says nothing is published', async () => {
    const root = await freshRoot('v1');
    assert.equal(readCurrent(root), undefined);
    assert.throws(
      () => requireCurrent(root),
      (err: unknown) => err instanceof NotFoundError && /nothing has been published/.test(err.message),
    );
  });

  it('flips atomically to a relative symlink, and survives moving the root', async () => {
    const root = await freshRoot('v1', 'v2');
    await flipCurrent(root, 'v1');
    assert.equal(readCurrent(root), 'v1');
    await flipCurrent(root, 'v2');
    assert.equal(readlinkSync(currentLink(root)), 'versions/v2');
    assert.equal(requireCurrent(root), 'v2');
    assert.deepEqual(readdirSync(root).sort(), ['CURRENT', 'staging', 'versions'], 'no temp links left');
    const moved = path.join(tmpDir(), 'restored');
    cpSync(root, moved, { recursive: true, verbatimSymlinks: true });
    assert.equal(requireCurrent(moved), 'v2');
  });

  it('flipping to a missing or invalid version changes nothing', async () => {
    const root = await freshRoot('v1');
    await flipCurrent(root, 'v1');
    await assert.rejects(flipCurrent(root, 'v9'), NotFoundError);
    await assert.rejects(flipCurrent(root, '../v1'), UsageError);
    assert.equal(readCurrent(root), 'v1');
  });

  it('accepts versions/<v> with a trailing slash', async () => {
    const root = await freshRoot('v1');
    symlinkSync('versions/v1/', currentLink(root));
    assert.equal(readCurrent(root), 'v1');
  });

  for (const [label, target] of [
    ['an absolute path', '/tmp'],
    ['an absolute path into its own versions/', '<root>/versions/v1'],
    ['../elsewhere', '../elsewhere'],
    ['versions/../x', 'versions/../x'],
    ['versions/..', 'versions/..'],
    ['a nested path', 'versions/v1/sub'],
    ['another directory of the root', 'staging/v1'],
    ['./versions/v1', './versions/v1'],
    ['an invalid name', 'versions/.hidden'],
    ['a bare name', 'v1'],
  ]) {
    it(`refuses a CURRENT pointing to ${label}, without following it`, async () => {
      const root = await freshRoot('v1');
      mkdirSync(path.join(root, 'staging', 'v1'));
      symlinkSync(target!.replace('<root>', root), currentLink(root));
      for (const fn of [() => readCurrent(root), () => requireCurrent(root)]) {
        assert.throws(fn, (err: unknown) => {
          assert.ok(err instanceof IndexCorruptionError);
          assert.equal(err.exitCode, 4);
          assert.match(err.message, /refusing to follow it/);
          return true;
        });
      }
      // A publish can still repair it.
      await flipCurrent(root, 'v1');
      assert.equal(readCurrent(root), 'v1');
    });
  }

  it('refuses a CURRENT that is a regular file or a directory', async () => {
    const root = await freshRoot('v1');
    writeFileSync(currentLink(root), 'versions/v1');
    assert.throws(() => readCurrent(root), /CURRENT is a regular file \(11 bytes\), not a symlink/);
    const root2 = await freshRoot('v1');
    mkdirSync(currentLink(root2));
    assert.throws(() => readCurrent(root2), IndexCorruptionError);
  });

  it('a CURRENT whose version directory is gone is NotFoundError', async () => {
    const root = await freshRoot();
    symlinkSync('versions/gone', currentLink(root));
    assert.equal(readCurrent(root), 'gone');
    assert.throws(
      () => requireCurrent(root),
      (err: unknown) => err instanceof NotFoundError && /gone/.test(err.message),
    );
  });
});

describe('staging', () => {
  it('a finished staging dir becomes versions/<v> with its files', async () => {
    const root = await freshRoot();
    const staging = await makeStagingDir(root, 'v1');
    assert.match(path.basename(staging), new RegExp(`^v1\\.${process.pid}\\.[0-9a-f]{8}$`));
    writeFileSync(path.join(staging, 'faiss.index'), 'index bytes');
    mkdirSync(path.join(staging, 'sub'));
    writeFileSync(path.join(staging, 'sub', 'x'), 'x');
    const dir = await commitStagingDir(staging, root, 'v1');
    assert.equal(dir, path.join(root, 'versions', 'v1'));
    assert.equal(readFileSync(path.join(dir, 'faiss.index'), 'utf8'), 'index bytes');
    assert.equal(existsSync(staging), false);
    assert.deepEqual(listVersions(root), ['v1']);
  });

  it('never replaces an existing version (even an empty one) and leaves the staging dir', async () => {
    const root = await freshRoot('v1');
    const staging = await makeStagingDir(root, 'v1');
    writeFileSync(path.join(staging, 'f'), 'new');
    await assert.rejects(commitStagingDir(staging, root, 'v1'), (err: unknown) => {
      // The name was free when the build began: another build of it sealed first (exit 3).
      assert.ok(err instanceof InvariantViolationError);
      assert.match(err.message, /already exists/);
      return true;
    });
    assert.deepEqual(readdirSync(path.join(root, 'versions', 'v1')), []);
    assert.equal(existsSync(path.join(staging, 'f')), true);
  });

  it('refuses an invalid name before touching anything', async () => {
    const root = await freshRoot();
    await assert.rejects(makeStagingDir(root, '../x'), UsageError);
    const staging = await makeStagingDir(root, 'ok');
    await assert.rejects(commitStagingDir(staging, root, '..'), UsageError);
    assert.equal(existsSync(staging), true);
    assert.deepEqual(readdirSync(versionsDir(root)), []);
  });

  it('lists staging dirs whose builder is gone; names it did not make, files and symlinks are unknown', async () => {
    const root = await freshRoot();
    const mine = await makeStagingDir(root, 'live');
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout,
    );
    mkdirSync(path.join(stagingDir(root), `v.1.2.${dead}.0123abcd`));
    mkdirSync(path.join(stagingDir(root), 'junk'));
    writeFileSync(path.join(stagingDir(root), `file.${dead}.0123abcd`), 'not a dir');
    symlinkSync(root, path.join(stagingDir(root), `link.${dead}.0123abcd`));
    const scan = scanStaging(root);
    assert.deepEqual(
      scan.stale.map((s) => [s.name, s.version, s.pid]),
      [[`v.1.2.${dead}.0123abcd`, 'v.1.2', dead]],
    );
    assert.deepEqual(
      scan.unknown.map((u) => [u.name, u.type]),
      [
        [`staging/file.${dead}.0123abcd`, 'file'],
        ['staging/junk', 'directory'],
        [`staging/link.${dead}.0123abcd`, 'symlink'],
      ],
    );
    assert.deepEqual(staleStagingDirs(root), scan.stale);
    assert.ok(scan.stale.every((s) => s.path !== mine));
    assert.deepEqual(staleStagingDirs(path.join(tmpDir(), 'no-root')), []);
  });

  it('refuses a staging/ or versions/ that is a symlink or a file (exit 4) before writing through it', async () => {
    for (const name of ['staging', 'versions'] as const) {
      const root = path.join(tmpDir(), 'root');
      const elsewhere = path.join(path.dirname(root), 'elsewhere');
      mkdirSync(elsewhere, { recursive: true });
      writeFileSync(path.join(elsewhere, 'sentinel'), 'another team');
      await ensureRoot(root);
      const staging = await makeStagingDir(root, 'v1');
      rmSync(path.join(root, name), { recursive: true, force: name === 'versions' });
      symlinkSync(elsewhere, path.join(root, name));
      const refused = (err: unknown): boolean => {
        assert.ok(err instanceof IndexCorruptionError);
        assert.match(err.message, new RegExp(`/${name} is a symlink \\(to "${elsewhere}"\\)`));
        return true;
      };
      await assert.rejects(ensureRoot(root), refused);
      assert.throws(() => requireRealRootDirs(root), refused);
      if (name === 'staging') {
        await assert.rejects(makeStagingDir(root, 'v2'), refused);
        assert.throws(() => scanStaging(root), refused);
      } else {
        await assert.rejects(commitStagingDir(staging, root, 'v1'), refused);
        assert.throws(() => unknownVersionEntries(root), refused);
      }
      assert.deepEqual(readdirSync(elsewhere), ['sentinel']);
      rmSync(path.join(root, name));
      writeFileSync(path.join(root, name), 'a file');
      assert.throws(
        () => requireRealRootDirs(root),
        (err: unknown) => {
          assert.ok(err instanceof IndexCorruptionError);
          assert.match(
            err.message,
            new RegExp(`/${name} is a regular file; ${name}/ must be a real directory`),
          );
          return true;
        },
      );
    }
  });

  it('lists entries of versions/ that are not versions', async () => {
    const root = await freshRoot('v1');
    writeFileSync(path.join(versionsDir(root), 'README'), 'x');
    symlinkSync('v1', path.join(versionsDir(root), 'v2'));
    mkdirSync(path.join(versionsDir(root), '.hidden'));
    assert.deepEqual(
      unknownVersionEntries(root).map((u) => [u.name, u.type]),
      [
        ['versions/.hidden', 'directory'],
        ['versions/README', 'file'],
        ['versions/v2', 'symlink'],
      ],
    );
    assert.deepEqual(listVersions(root), ['v1']);
  });
});
