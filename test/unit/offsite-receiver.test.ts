// The offsite receiver (templates/offsite/receive.sh) run for real with sh, as sshd's forced command would run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTemplate } from '../../src/templates/find.js';
import { render } from '../../src/templates/render.js';
import { BACKUP_FILE_NAMES } from '../../src/backup/format.js';

const ID = '20261201T052001Z';

function receiver(): { root: string; call: (command: string, input?: string) => { code: number; stdout: string; stderr: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'mono-offsite-'));
  const script = join(dir, 'receive');
  const t = readTemplate('offsite/receive.sh', dir);
  writeFileSync(script, render(t.text, { app: 'shop' }, t.origin));
  chmodSync(script, 0o755);
  const root = join(dir, 'backups');
  return {
    root,
    call: (command, input) => {
      const r = spawnSync(script, [root, 'shop'], { env: { PATH: process.env['PATH'], SSH_ORIGINAL_COMMAND: command }, input: input ?? '', encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

test('put stores a file checked against its sha256, 0600, and never overwrites it', () => {
  const { root, call } = receiver();
  const put = call(`put shopdb ${ID} dump.zst ${sha('data')}`, 'data');
  assert.equal(put.code, 0, put.stderr);
  const file = join(root, 'shop/shopdb', ID, 'dump.zst');
  assert.equal(readFileSync(file, 'utf8'), 'data');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = call(`put shopdb ${ID} dump.zst ${sha('evil')}`, 'evil');
  assert.equal(again.code, 17);
  assert.match(again.stderr, /exists: backups are never overwritten/);
  assert.equal(readFileSync(file, 'utf8'), 'data');
  assert.equal(call(`sha256 shopdb ${ID} dump.zst`).stdout.trim(), sha('data'));
  assert.equal(call(`get shopdb ${ID} dump.zst`).stdout, 'data');
  assert.equal(call('list').stdout, `shopdb/${ID}/dump.zst 4\n`);
});

test('a damaged upload is refused and leaves nothing behind', () => {
  const { root, call } = receiver();
  const r = call(`put shopdb ${ID} dump.zst ${sha('data')}`, 'dat');
  assert.equal(r.code, 65);
  assert.match(r.stderr, /arrived damaged/);
  assert.deepEqual(readdirSync(join(root, 'shop/shopdb', ID)), [], 'no temporary file is left');
  assert.equal(call(`sha256 shopdb ${ID} dump.zst`).code, 66, 'missing');
});

test('anything else is refused: other commands, bad names, paths, globs', () => {
  const { root, call } = receiver();
  for (const command of ['rm -rf /', 'sh -c id', '', `put ../x ${ID} dump.zst 00`, `put shopdb ../../${ID} dump.zst 00`, `put shopdb ${ID} ../../etc/passwd 00`, `get shopdb ${ID} *`, 'list extra', `put shopdb ${ID} dump.zst xyz`]) {
    const r = call(command);
    assert.equal(r.code, 64, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /^mono-offsite: refused: /, command);
  }
  assert.equal(existsSync(root), false, 'nothing was created');
});

test('the receiver takes every file name a backup can have, and no other', () => {
  const { call } = receiver();
  for (const name of BACKUP_FILE_NAMES) assert.equal(call(`put shopdb ${ID} ${name} ${sha('x')}`, 'x').code, 0, name);
  for (const name of ['dump.sql', 'dump.zst.gpg', 'manifest.json.age', 'offsite.json']) assert.equal(call(`put shopdb ${ID} ${name} ${sha('x')}`, 'x').code, 64, name);
});
