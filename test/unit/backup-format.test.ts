// The backup's archive format as argv chains: zstd through the zstd program before PostgreSQL 16, pg_dump's own zstd
// from 16 on, then age when encrypting; and how each file is read back as plain text for the checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { archiveFormat } from '../../src/backup/format.js';

const enc = { recipients: ['age1box', 'age1operator'], identity: '/srv/shop/.ssh/backup_age.key' };

test('PostgreSQL 15: an uncompressed custom archive through zstd, read back with zstd -dc', () => {
  const f = archiveFormat({ pgDumpMajor: 15 });
  assert.equal(f.dumpName, 'dump.zst');
  assert.deepEqual(f.dump('00000003-1'), [
    ['pg_dump', '--format=custom', '--compress=0', '--snapshot=00000003-1', '--no-password'],
    ['zstd', '-q', '-3', '-T2', '-c'],
  ]);
  assert.deepEqual(f.read('/b/dump.zst'), [['zstd', '-dc', '--', '/b/dump.zst']]);
  assert.deepEqual(f.globals('shop'), [['pg_dumpall', '--globals-only', '--no-role-passwords', '--no-password', '-l', 'shop'], ['zstd', '-q', '-3', '-c']]);
});

test('PostgreSQL 16 and later: pg_dump compresses with zstd itself, so the archive stays seekable for pg_restore -j', () => {
  const f = archiveFormat({ pgDumpMajor: 17 });
  assert.equal(f.dumpName, 'dump.pgdump');
  assert.deepEqual(f.dump('s'), [['pg_dump', '--format=custom', '--compress=zstd:3', '--snapshot=s', '--no-password']]);
  assert.deepEqual(f.read('/b/dump.pgdump'), [['cat', '--', '/b/dump.pgdump']]);
  assert.deepEqual(f.read('/b/globals.sql.zst'), [['zstd', '-dc', '--', '/b/globals.sql.zst']], 'the globals are still a zstd stream');
});

test('encrypted: age to every recipient after compression; read back through the box\'s identity', () => {
  const old = archiveFormat({ pgDumpMajor: 15, encrypt: enc });
  assert.deepEqual([old.dumpName, old.globalsName], ['dump.zst.age', 'globals.sql.zst.age']);
  assert.deepEqual(old.dump('s').at(-1), ['age', '--encrypt', '--recipient', 'age1box', '--recipient', 'age1operator']);
  assert.deepEqual(old.read('/b/dump.zst.age'), [['age', '--decrypt', '--identity', enc.identity, '--', '/b/dump.zst.age'], ['zstd', '-dc']]);
  const native = archiveFormat({ pgDumpMajor: 16, encrypt: enc });
  assert.equal(native.dumpName, 'dump.pgdump.age');
  assert.deepEqual(native.dump('s').map((argv) => argv[0]), ['pg_dump', 'age']);
  assert.deepEqual(native.read('/b/dump.pgdump.age'), [['age', '--decrypt', '--identity', enc.identity, '--', '/b/dump.pgdump.age']]);
  assert.deepEqual(native.read('/b/globals.sql.zst.age'), [['age', '--decrypt', '--identity', enc.identity, '--', '/b/globals.sql.zst.age'], ['zstd', '-dc']]);
});
