import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pipe } from '../../src/agent/backup/pipe.js';
import { takeBackupLock } from '../../src/agent/backup/lock.js';
import { backupId, compareWithPrevious, pgMajor, type BackupManifest } from '../../src/backup/manifest.js';

test('backup ids sort by time; versions parse from pg_dump --version and server_version_num', () => {
  assert.equal(backupId(new Date('2026-12-01T05:20:01.123Z')), '20261201T052001Z');
  assert.equal(pgMajor('pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)'), 15);
  assert.equal(pgMajor(160004), 16);
  assert.equal(pgMajor('nonsense'), 0);
});

test('a pipe writes the last program\'s output to a new 0600 file, hashed as written', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mono-pipe-')), 'out');
  const r = await pipe([['printf', 'hello\\nworld\\n'], ['tr', 'a-z', 'A-Z']], { file });
  assert.equal(readFileSync(file, 'utf8'), 'HELLO\nWORLD\n');
  assert.equal(r.sha256, createHash('sha256').update('HELLO\nWORLD\n').digest('hex'));
  assert.equal(r.bytes, 12);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await assert.rejects(pipe([['printf', 'x'], ['cat']], { file }), /EEXIST/, 'never overwrites');
  const three = await pipe([['printf', 'abc'], ['tr', 'a-z', 'A-Z'], ['rev']], 'capture');
  assert.equal(three.output, 'CBA');
});

test('any program failing fails the pipe, naming it; an early reader is no failure only when allowed', async () => {
  await assert.rejects(pipe([['sh', '-c', 'echo part; exit 3'], ['cat']], 'discard'), /sh exited with status 3/);
  await assert.rejects(pipe([['echo', 'x'], ['sh', '-c', 'cat >/dev/null; exit 4']], 'discard'), /sh exited with status 4/);
  await assert.rejects(pipe([['echo', 'x'], ['sh', '-c', 'cat; exit 5'], ['cat']], 'discard'), /sh exited with status 5/, 'a middle program too');
  await assert.rejects(pipe([['no-such-program-x'], ['cat']], 'discard'), /no-such-program-x could not be started/);
  // head stops reading: yes cannot write any more, which is a failure unless the caller expects an early stop.
  await assert.rejects(pipe([['yes'], ['head', '-c', '10']], 'capture'), /yes (exited with status 1|was killed \(SIGPIPE\))/);
  const r = await pipe([['yes'], ['head', '-c', '4']], 'capture', { lastMayStopEarly: true });
  assert.equal(r.output, 'y\ny\n');
  const through = await pipe([['yes'], ['cat'], ['head', '-c', '4']], 'capture', { lastMayStopEarly: true });
  assert.equal(through.output, 'y\ny\n', 'every program before an early reader may stop writing');
  await assert.rejects(pipe([['yes'], ['cat'], ['sh', '-c', 'head -c 4; exit 6']], 'capture', { lastMayStopEarly: true }), /sh exited with status 6/, 'but not when the reader failed');
});

test('one backup at a time: a live holder refuses the next one; a dead one is taken over with a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-bklock-'));
  const unlock = takeBackupLock(dir, 'shop', () => undefined);
  assert.throws(() => takeBackupLock(dir, 'shop', () => undefined), /another backup is running \(database shop, pid \d+/);
  unlock();
  const again = takeBackupLock(dir, 'shop', () => undefined);
  again();
  assert.throws(() => takeBackupLock(join(dir, 'missing'), 'shop', () => undefined), /the backups folder .* does not exist/);
});

test('a sudden drop in size or table count is a warning, and a failure above max_drop', () => {
  const prev = { id: '20261201T030000Z', files: [{ name: 'dump.zst', bytes: 1000, sha256: 'x' }], tableCount: 10 } as unknown as BackupManifest;
  const next = (bytes: number, tableCount: number) => ({ files: [{ name: 'dump.zst', bytes, sha256: 'y' }], tableCount });
  assert.deepEqual(compareWithPrevious(undefined, next(1, 1), 50), { warnings: [] });
  assert.deepEqual(compareWithPrevious(prev, next(900, 10), 50), { warnings: [] }, 'small changes are normal');
  assert.deepEqual(compareWithPrevious(prev, next(700, 9), 50), {
    warnings: ['the table count fell from 10 to 9 since backup 20261201T030000Z', 'the backup is 30% smaller than backup 20261201T030000Z (1000 → 700 bytes)'],
  });
  assert.deepEqual(compareWithPrevious(prev, next(100, 10), 50), { warnings: [], failure: 'the backup is 90% smaller than backup 20261201T030000Z (1000 → 100 bytes)' });
  assert.equal(compareWithPrevious(prev, next(1000, 4), 50).failure, 'the table count fell from 10 to 4 since backup 20261201T030000Z');
});
