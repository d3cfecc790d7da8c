// Offsite retention with the operator's own login: `mono backups prune [--dry-run]` applies backups.retention.offsite on
// the offsite box, counts only complete copies (manifest plus every file it lists, at its size), keeps the newest, and
// refuses after a failed backup run; an unreachable offsite host is a clear error after the local prune is done.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BoxInfo } from '../../src/sandbox/index.js';
import type { BackupManifest } from '../../src/backup/manifest.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono } from '../support/cli.js';

let box: BoxInfo;
let offsite: BoxInfo;
let app: AppProject;
const LOCAL = '/var/backups/shop/shopdb';
const THERE = '/srv/backups/shop/shopdb';
const ID = /^\d{8}T\d{6}Z$/;

before(async () => {
  [box, offsite] = await Promise.all([bootBox('app'), bootBox('offsite')]);
  // Locally only the newest backup stays (each run prunes after itself); offsite, the newest plus min_verified 3.
  app = appProject(box, {
    yaml: `databases:\n  - name: shopdb\nbackups:\n  retention:\n    local: { daily: 1, weekly: 0, monthly: 0, min_verified: 1 }\n    offsite: { daily: 1, weekly: 0, monthly: 0, min_verified: 3 }\n  offsite:\n    host: root@127.0.0.1:${offsite.sshPort}\n    path: /srv/backups\n    known_hosts: ${offsite.knownHostsFile}\n    identity: ${offsite.keyFile}\n`,
  });
  const setup = await mono(['setup'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(setup.code, 0, setup.stderr);
  const created = await boxSsh(box, `runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop"`);
  assert.equal(created.code, 0, created.stdout + created.stderr);
  const filled = await boxSsh(box, `runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb`, { input: 'CREATE TABLE t (id int PRIMARY KEY, v text);\nINSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 100) i;\n' });
  assert.equal(filled.code, 0, filled.stdout + filled.stderr);
});

/** The folders in the database's offsite folder (backups, and anything a prune left), oldest first. */
async function offsiteFolders(): Promise<string[]> {
  return (await boxSsh(offsite, `ls -A ${THERE} 2>/dev/null; true`)).stdout.split('\n').filter(Boolean).sort();
}

async function localBackups(): Promise<string[]> {
  return (await boxSsh(box, `ls -A ${LOCAL} 2>/dev/null; true`)).stdout.split('\n').filter((n) => ID.test(n)).sort();
}

/** A good backup, copied offsite; ids have one-second resolution, so the next one starts in another second. */
async function backup(): Promise<string> {
  const r = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id?: string }).find((e) => e.type === 'backup.done');
  assert.ok(done?.id !== undefined && ID.test(done.id), r.stdout);
  await sleep(1100);
  return done.id;
}

async function prune(args: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return mono(['backups', 'prune', ...args], { cwd: app.dir, timeoutMs: 300_000 });
}

const ids: string[] = [];

test('dry run: nothing goes offsite, it says what would; then prune removes exactly that, an incomplete copy not counted as verified', async () => {
  for (let i = 0; i < 5; i++) ids.push(await backup());
  const [b1, b2, b3, b4, b5] = ids as [string, string, string, string, string];
  assert.deepEqual(await offsiteFolders(), ids, 'every backup was copied offsite');
  assert.deepEqual(await localBackups(), [b5], 'locally only the newest stays');

  const dry = await prune(['--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, new RegExp(`^ {2}keep {4}shopdb/${b5} {2}\\(daily`, 'm'), 'the local prune is there as before');
  assert.match(dry.stderr, new RegExp(`^ {2}offsite keep {4}shopdb/${b5} {2}\\(daily \\d{4}-\\d{2}-\\d{2}; the newest complete backup; the box re-checks this copy after each backup\\)$`, 'm'));
  for (const id of [b4, b3]) assert.match(dry.stderr, new RegExp(`^ {2}offsite keep {4}shopdb/${id} {2}\\(min_verified 3\\)$`, 'm'));
  for (const id of [b2, b1]) assert.match(dry.stderr, new RegExp(`^ {2}offsite would remove shopdb/${id}$`, 'm'));
  assert.match(dry.stderr, /^shopdb offsite: 2 would go, 3 kept$/m);
  assert.doesNotMatch(dry.stderr, /offsite removed/);
  assert.deepEqual(await offsiteFolders(), ids, 'a dry run removes nothing offsite');
  // The same plan as an NDJSON event.
  const json = await prune(['--dry-run', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const event = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; remove?: { id: string }[]; keep?: { id: string }[]; dryRun?: boolean }).find((e) => e.type === 'backups.prune.offsite');
  assert.deepEqual([event?.remove?.map((r) => r.id), event?.keep?.map((k) => k.id), event?.dryRun], [[b2, b1], [b5, b4, b3], true]);

  // b4 loses a data file offsite (named by its manifest): it is no longer a verified copy, so b2 is needed for min_verified 3.
  const manifest = JSON.parse((await boxSsh(offsite, `cat ${THERE}/${b4}/manifest.json`)).stdout) as BackupManifest;
  const file = manifest.files[0]!.name;
  assert.equal((await boxSsh(offsite, `rm ${THERE}/${b4}/${file}`)).code, 0);
  const r = await prune();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^ {2}offsite removed shopdb/${b4} {2}\\(incomplete: ${file.replaceAll('.', '\\.')} is missing\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`^ {2}offsite removed shopdb/${b1}$`, 'm'));
  for (const id of [b3, b2]) assert.match(r.stderr, new RegExp(`^ {2}offsite keep {4}shopdb/${id} {2}\\(min_verified 3\\)$`, 'm'));
  assert.match(r.stderr, /^shopdb offsite: 2 removed, 3 kept, 1 incomplete$/m);
  assert.deepEqual(await offsiteFolders(), [b2, b3, b5], 'exactly the planned folders went, the newest stays, no .pruning- leftover');
  assert.deepEqual(await localBackups(), [b5], 'the local backup is untouched');
  // The kept copies are whole: every file their manifest lists, and the manifest.
  for (const id of [b2, b3, b5]) {
    const m = JSON.parse((await boxSsh(offsite, `cat ${THERE}/${id}/manifest.json`)).stdout) as BackupManifest;
    assert.deepEqual((await boxSsh(offsite, `ls -A ${THERE}/${id}`)).stdout.split('\n').filter(Boolean).sort(), [...m.files.map((f) => f.name), 'manifest.json'].sort());
  }

  const again = await prune();
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^shopdb offsite: 0 removed, 3 kept$/m);
  assert.deepEqual(await offsiteFolders(), [b2, b3, b5]);
});

test('after a failed backup run nothing is pruned offsite either, until a backup succeeds', async () => {
  const b6 = await backup();
  const [, b2, b3, , b5] = ids as [string, string, string, string, string];
  assert.deepEqual(await offsiteFolders(), [b2, b3, b5, b6]);
  const dry = await prune(['--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, new RegExp(`^ {2}offsite would remove shopdb/${b2}$`, 'm'), 'the policy would let one go');

  // A run that fails: the database port in mono.yml is wrong, so the box cannot connect.
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('  - name: shopdb\n', '  - name: shopdb\n    port: 5999\n'));
  const failed = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  writeFileSync(yml, original);
  assert.equal(failed.code, 5, failed.stderr);
  assert.match(failed.stderr, /cannot connect to database shopdb/);

  for (const args of [['--dry-run'], []]) {
    const refused = await prune(args);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /error: the last backup of shopdb failed \(.*cannot connect to database shopdb.*\): nothing is pruned until a backup succeeds/);
    assert.doesNotMatch(refused.stderr, /offsite (removed|would remove)/);
  }
  assert.deepEqual(await offsiteFolders(), [b2, b3, b5, b6], 'nothing was removed offsite');

  // A good run again: pruning resumes, offsite too.
  const b7 = await backup();
  const r = await prune();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^shopdb offsite: 2 removed, 3 kept$/m);
  assert.deepEqual(await offsiteFolders(), [b5, b6, b7]);
});

test('the offsite host unreachable: the local prune is done and printed, then a one-line error with a hint, nothing removed', async () => {
  const before_ = await offsiteFolders();
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace(`host: root@127.0.0.1:${offsite.sshPort}`, 'host: root@127.0.0.1:1'));
  const r = await prune();
  writeFileSync(yml, original);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^shopdb: 0 removed, 1 kept$/m, 'the local prune ran and was reported');
  assert.match(r.stderr, /^error: cannot prune offsite on root@127\.0\.0\.1:1: cannot reach 127\.0\.0\.1:1: connection refused$/m);
  assert.match(r.stderr, /^hint: the local prune above is done and nothing was removed offsite; check the offsite host/m);
  assert.ok(r.stderr.indexOf('shopdb: 0 removed') < r.stderr.indexOf('error:'), 'local results first');
  assert.deepEqual(await offsiteFolders(), before_);
});
