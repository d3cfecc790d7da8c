// mono restore-test against real boxes: a backup of PostgreSQL 15 copied to an offsite box, restored into a throwaway
// cluster on the app box and checked (exact rows, tables, indexes, pg_amcheck, smoke checks); the faults a drill must
// name (a truncated file, changed bytes, counts that do not match, a missing file, a failing smoke check); the live
// database untouched; a drill killed halfway leaving no cluster and no files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import type { DrillReport } from '../../src/restore/spec.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono } from '../support/cli.js';

let box: BoxInfo;
let offsite: BoxInfo;
let app: AppProject;
const DIR = '/var/backups/shop/shopdb';
const THERE = '/srv/backups/shop/shopdb';
let id = '';

const CHECKS = `restore:
  checks:
    - name: customers
      sql: SELECT count(*) FROM customers WHERE name LIKE 'c%'
      expect: "5000"
    - name: fresh orders
      sql: SELECT max(created_at) FROM billing.invoices
      max_age: 6h
`;

before(async () => {
  [box, offsite] = await Promise.all([bootBox('app'), bootBox('offsite')]);
  app = appProject(box, {
    yaml: `databases:\n  - name: shopdb\nbackups:\n  offsite:\n    host: root@127.0.0.1:${offsite.sshPort}\n    path: /srv/backups\n    known_hosts: ${offsite.knownHostsFile}\n    identity: ${offsite.keyFile}\n${CHECKS}`,
  });
  const setup = await mono(['setup'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(setup.code, 0, setup.stderr);
  const created = await boxSsh(box, `cd /tmp && runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop"`);
  assert.equal(created.code, 0, created.stderr);
  const filled = await boxSsh(box, `cd /tmp && runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb`, {
    input: `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, data jsonb);
CREATE INDEX customers_name ON customers (name);
INSERT INTO customers (name, data) SELECT 'c' || i, jsonb_build_object('i', i) FROM generate_series(1, 5000) i;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, customer int REFERENCES customers, body text, created_at timestamptz NOT NULL DEFAULT now() - interval '1 hour');
INSERT INTO billing.invoices (customer, body) SELECT 1 + i % 5000, md5(i::text) || repeat(md5((i * 7)::text), 8) FROM generate_series(1, 200000) i;
CREATE TABLE empty_one (x int);
`,
    timeoutMs: 300_000,
  });
  assert.equal(filled.code, 0, filled.stderr);
  const backup = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(backup.code, 0, backup.stderr);
  id = backup.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string }).find((e) => e.type === 'backup.done')!.id;
});

/** The live database's content, table by table (a restore drill must never change it). */
async function liveChecksum(): Promise<string> {
  const r = await boxSsh(box, `cd /tmp && runuser -u shop -- psql -qAt -d shopdb -c "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM customers t" -c "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM billing.invoices t" -c "SELECT count(*) FROM pg_database"`);
  return r.stdout.trim();
}

/** Nothing of a drill left: no drill unit, no second postgres, no private /tmp of a drill. */
async function drillLeftovers(): Promise<string> {
  const r = await boxSsh(box, `systemctl list-units --all --plain --no-legend 'shop-drill-*' 'shop-restore-*' | grep . ; pgrep -u shop -a postgres; ls -d /tmp/systemd-private-*shop-drill* /tmp/systemd-private-*shop-restore* 2>/dev/null; true`);
  return r.stdout.trim();
}

function report(stdout: string): DrillReport {
  const r = stdout.trim().split('\n').map((l) => JSON.parse(l) as DrillReport & { type: string }).find((e) => e.type === 'restore_test.report');
  assert.ok(r !== undefined, stdout);
  return r;
}

test('a drill from the offsite copy restores into a throwaway cluster and passes every check; report, history, nothing left, live database untouched', async () => {
  const live = await liveChecksum();
  const human = await mono(['restore-test'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stderr, /^ {2}fetch: shopdb\/\d{8}T\d{6}Z from root@127\.0\.0\.1:\d+ with the box's key$/m);
  assert.match(human.stderr, /^ {2}ok {3}pg_amcheck: /m);
  assert.match(human.stdout, new RegExp(`^restore drill of shopdb/${id} passed: 3 tables, 205000 rows from the offsite copy$`, 'm'));
  assert.match(human.stdout, /^ {2}recovery time [\d.]+ s: fetch [\d.]+ s, decrypt [\d.]+ s, restore [\d.]+ s, verify [\d.]+ s$/m);
  assert.match(human.stdout, /^ {2}data age \d+ (s|min) at the drill \(backup taken .*\); allowed data loss 24 h 0 min$/m);
  // The same as JSON, from the local copy.
  const r = await mono(['restore-test', '--json', '--from', 'local'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const rep = report(r.stdout);
  assert.equal(rep.ok, true);
  assert.equal(rep.backup, id);
  assert.equal(rep.from, 'local');
  assert.deepEqual([rep.tables, rep.rows], [3, 205_000]);
  assert.deepEqual(rep.checks.map((c) => [c.name, c.ok]), [['rows', true], ['tables', true], ['indexes', true], ['check "customers"', true], ['check "fresh orders"', true], ['pg_amcheck', true]]);
  const p = rep.phases;
  for (const ms of [p.fetchMs, p.decryptMs, p.restoreMs, p.verifyMs]) assert.ok(ms > 0, JSON.stringify(p));
  assert.equal(rep.recoveryMs, p.fetchMs + p.decryptMs + p.restoreMs + p.verifyMs);
  assert.ok(rep.dataAgeMs >= 0 && rep.dataAgeMs < 600_000, String(rep.dataAgeMs));
  assert.equal(rep.maxDataLossMs, 24 * 3600_000);
  // Kept on the box: the history, and the backup marked as restored.
  const history = await boxSsh(box, `wc -l < ${DIR}/drills.jsonl; stat -c '%a %U' ${DIR}/drills.jsonl; cat ${DIR}/${id}/drill.json`);
  const [count, mode, mark] = history.stdout.split('\n');
  assert.deepEqual([count, mode], ['2', '600 shop']);
  assert.match(mark ?? '', /"verifiedAt":"[^"]+","drill":"\d{8}T\d{6}Z-[0-9a-f]+","from":"local"/);
  const listed = await mono(['backups'], { cwd: app.dir });
  assert.match(listed.stdout, new RegExp(`^shopdb +${id} +\\S+ ago +[\\d.]+ [kM]B +3 +205000 +yes +\\S+ ago +verified`, 'm'), 'mono backups shows when a drill restored it');
  const status = await mono(['status'], { cwd: app.dir });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, new RegExp(`^ {2}shopdb: newest backup ${id}, \\d+ (s|min) old \\(allowed 24 h 0 min\\); offsite copy verified$`, 'm'));
  assert.match(status.stdout, new RegExp(`^ {2}shopdb: last restore drill passed \\S+ ago \\(${id} from local\\): recovery time [\\d.]+ s, data age \\d+ (s|min)$`, 'm'));
  assert.equal(await drillLeftovers(), '', 'no unit, no cluster, no private /tmp left');
  assert.equal(await liveChecksum(), live, 'the live database is untouched');
});

test('a truncated offsite copy fails the drill before anything reads it, naming the file', async () => {
  await boxSsh(offsite, `cp ${THERE}/${id}/dump.zst /root/dump.zst.good && truncate -s -1000 ${THERE}/${id}/dump.zst`);
  try {
    const r = await mono(['restore-test'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`error: restore drill of shopdb/${id} failed: the offsite copy of shopdb/${id}/dump.zst is truncated \\(\\d+ of \\d+ bytes\\): its sha256 is [0-9a-f]{64}, the manifest's is [0-9a-f]{64}`));
    assert.match(r.stdout, new RegExp(`restore drill of shopdb/${id} FAILED`));
    assert.equal(await drillLeftovers(), '');
  } finally {
    await boxSsh(offsite, `cp /root/dump.zst.good ${THERE}/${id}/dump.zst`);
  }
});

test('a few changed bytes (same size) fail the drill naming the file', async () => {
  await boxSsh(offsite, `cp ${THERE}/${id}/dump.zst /root/dump.zst.good && printf 'XXXX' | dd of=${THERE}/${id}/dump.zst bs=1 seek=5000 conv=notrunc status=none`);
  try {
    const r = await mono(['restore-test'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`the offsite copy of shopdb/${id}/dump.zst is damaged \\(same size, different bytes\\)`));
  } finally {
    await boxSsh(offsite, `cp /root/dump.zst.good ${THERE}/${id}/dump.zst`);
  }
});

test('a missing offsite file fails the drill naming it', async () => {
  await boxSsh(offsite, `mv ${THERE}/${id}/globals.sql.zst /root/globals.good`);
  try {
    const r = await mono(['restore-test'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`error: restore drill of shopdb/${id} failed: the offsite copy of shopdb/${id}/globals.sql.zst is missing`));
  } finally {
    await boxSsh(offsite, `mv /root/globals.good ${THERE}/${id}/globals.sql.zst`);
  }
});

test('counts that do not match the restored copy fail the drill, naming the table', async () => {
  // The manifest says more rows than the dump holds (as if rows had gone from the dump's source).
  await boxSsh(box, `cp ${DIR}/${id}/manifest.json /root/manifest.good && sed -i 's/"billing.invoices": 200000/"billing.invoices": 200007/' ${DIR}/${id}/manifest.json`);
  try {
    const r = await mono(['restore-test', '--from', 'local'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /FAIL rows: billing\.invoices has 200000 rows, the manifest 200007/);
    assert.match(r.stderr, new RegExp(`error: restore drill of shopdb/${id} failed: the restored copy of shopdb/${id} fails rows: billing.invoices has 200000 rows, the manifest 200007`));
    assert.equal(await drillLeftovers(), '');
  } finally {
    await boxSsh(box, `cp /root/manifest.good ${DIR}/${id}/manifest.json`);
  }
});

test('a failing smoke check fails the drill, naming the check', async () => {
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('expect: "5000"', 'expect: "5001"'));
  try {
    const r = await mono(['restore-test', '--from', 'local'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /FAIL check "customers": returned 5000, expected 5001/);
    const history = (await boxSsh(box, `tail -n 1 ${DIR}/drills.jsonl`)).stdout;
    assert.equal((JSON.parse(history) as DrillReport).ok, false, 'the failed drill is in the history');
    const status = await mono(['status'], { cwd: app.dir });
    assert.equal(status.code, 5, 'mono status is red after a failed drill');
    assert.match(status.stdout, /^ {2}shopdb: last restore drill FAILED \S+ ago \(\d{8}T\d{6}Z from local\): the restored copy of shopdb\/\d{8}T\d{6}Z fails check "customers"/m);
  } finally {
    writeFileSync(yml, original);
  }
});

test('a drill killed halfway leaves no cluster running and no temporary data', async () => {
  const live = await liveChecksum();
  const running = mono(['restore-test'], { cwd: app.dir, timeoutMs: 600_000 });
  // Wait until the throwaway cluster runs (a second postgres of the app user), then kill the drill outright.
  const killed = await boxSsh(box, `for i in $(seq 1 600); do if pgrep -u shop -x postgres >/dev/null; then u=$(systemctl list-units --plain --no-legend 'shop-drill-*' | awk '{print $1}' | head -n1); kill -KILL "$(systemctl show -P MainPID "$u")" && echo "killed $u" && break; fi; sleep 0.05; done`, { timeoutMs: 120_000 });
  assert.match(killed.stdout, /^killed shop-drill-\d{8}T\d{6}Z-[0-9a-f]+\.service$/m, killed.stderr);
  const r = await running;
  assert.notEqual(r.code, 0, 'the drill failed');
  let left = '';
  for (let i = 0; i < 50; i += 1) {
    left = await drillLeftovers();
    if (left === '') break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(left, '', 'the unit took its cluster and its private /tmp with it');
  assert.equal(await liveChecksum(), live);
});

test('the fallback: a drill into a randomly named scratch database on the live server, dropped afterwards, the live database untouched', async () => {
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('restore:\n', 'restore:\n  target: scratch\n'));
  const live = await liveChecksum();
  try {
    const r = await mono(['restore-test', '--from', 'local'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^ {2}restore: into a scratch database mono_drill_[0-9a-f]{8}__restoring on the live server; pg_restore --jobs=2 --exit-on-error$/m);
    assert.match(r.stderr, /^ {2}ok {3}rows: every table's rows equal the manifest/m);
    assert.match(r.stdout, new RegExp(`^restore drill of shopdb/${id} passed`, 'm'));
    const left = await boxSsh(box, `cd /tmp && runuser -u postgres -- psql -qAt -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'mono_drill_%'"`);
    assert.equal(left.stdout.trim(), '0', 'the scratch database is gone');
    assert.equal(await liveChecksum(), live);
    assert.equal(await drillLeftovers(), '');
  } finally {
    writeFileSync(yml, original);
  }
});

test('mono restore: into a new database through the drill\'s steps; never over an existing one unless told; --replace keeps the old one', async () => {
  const counts = async (db: string): Promise<string> => (await boxSsh(box, `cd /tmp && runuser -u postgres -- psql -qAt -d ${db} -c "SELECT count(*) FROM customers" -c "SELECT count(*) FROM billing.invoices" -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"`)).stdout.trim();
  const unconfirmed = await mono(['restore', '--backup', id, '--to', 'shop_restored'], { cwd: app.dir });
  assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, /error: mono restore changes the live server: confirm with --yes when there is no terminal to ask on/);
  assert.match(unconfirmed.stderr, /restore runbook \(shopdb \d{8}T\d{6}Z → shop_restored on the box\):/);
  const r = await mono(['restore', '--backup', id, '--to', 'shop_restored', '--yes'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^restore of shopdb/${id} into shop_restored done and checked: 3 tables, 205000 rows from the offsite copy$`, 'm'));
  assert.match(r.stderr, /^ {2}ok {3}rows: every table's rows equal the manifest/m);
  assert.equal(await counts('shop_restored'), '5000\n200000\nshop', 'the data, owned by the app\'s role');

  const refused = await mono(['restore', '--backup', id, '--to', 'shopdb', '--yes'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /error: restore of shopdb\/\d{8}T\d{6}Z into shopdb failed: the database shopdb exists on the live server: a restore never overwrites it unless told to/);

  // Rows lost in the live database; --replace brings the backup back and keeps what was there.
  await boxSsh(box, `cd /tmp && runuser -u shop -- psql -qc "DELETE FROM billing.invoices WHERE id % 2 = 0" -d shopdb`);
  const replaced = await mono(['restore', '--backup', id, '--to', 'shopdb', '--replace', '--yes'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stderr, /kept the database that was there as shopdb_before_\d{8}t\d{6}z/);
  assert.equal(await counts('shopdb'), '5000\n200000\nshop');
  const dbs = (await boxSsh(box, `cd /tmp && runuser -u postgres -- psql -qAt -c "SELECT datname FROM pg_database WHERE datname LIKE 'shop%' ORDER BY 1"`)).stdout.trim().split('\n');
  assert.equal(dbs.length, 3, dbs.join(' '));
  assert.deepEqual([dbs[0], dbs[1]], ['shop_restored', 'shopdb']);
  assert.match(dbs[2] ?? '', /^shopdb_before_\d{8}t\d{6}z$/);
  assert.equal((await counts(dbs[2]!)).split('\n')[1], '100000', 'the database that was there is kept as it was');
  assert.equal(await drillLeftovers(), '');
});

test('disaster recovery: a fresh box, mono setup, then mono restore from the offsite host gets the app database back', async () => {
  const fresh = await bootBox('app');
  const project = appProject(fresh, {
    yaml: `databases:\n  - name: shopdb\nbackups:\n  offsite:\n    host: root@127.0.0.1:${offsite.sshPort}\n    path: /srv/backups\n    known_hosts: ${offsite.knownHostsFile}\n    identity: ${offsite.keyFile}\n${CHECKS}`,
  });
  const setup = await mono(['setup'], { cwd: project.dir, timeoutMs: 600_000 });
  assert.equal(setup.code, 0, setup.stderr);
  const listed = await mono(['restore-test', '--json'], { cwd: project.dir, timeoutMs: 600_000 });
  assert.equal(listed.code, 0, `the new box drills the offsite backup first: ${listed.stderr}`);
  const r = await mono(['restore', '--backup', id, '--to', 'shopdb', '--yes'], { cwd: project.dir, timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const back = await boxSsh(fresh, `cd /tmp && runuser -u shop -- psql -qAt -d shopdb -c "SELECT count(*) FROM customers" -c "SELECT count(*) FROM billing.invoices" -c "SELECT name FROM customers WHERE id = 42"`);
  assert.equal(back.stdout.trim(), '5000\n200000\nc42', 'the app user reads its data on the new box');

  // Encrypted backups: the new box's own key is not a recipient of the old box's backups; the recovery key opens them.
  const keyFile = `${mkdtempSync(`${tmpdir()}/mono-age-`)}/recovery.key`;
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
  const encrypt = (dir: string): void => writeFileSync(`${dir}/mono.yml`, readFileSync(`${dir}/mono.yml`, 'utf8').replace('backups:\n', `backups:\n  encrypt:\n    recipients: [${recipient}]\n`));
  encrypt(app.dir);
  encrypt(project.dir);
  assert.equal((await mono(['setup'], { cwd: app.dir, timeoutMs: 600_000 })).code, 0);
  const backup = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(backup.code, 0, backup.stderr);
  const encrypted = backup.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string }).find((e) => e.type === 'backup.done')!.id;
  assert.equal((await mono(['setup'], { cwd: project.dir, timeoutMs: 600_000 })).code, 0);
  const without = await mono(['restore', '--backup', encrypted, '--to', 'shop_encrypted', '--yes'], { cwd: project.dir, timeoutMs: 600_000 });
  assert.equal(without.code, 5, without.stderr);
  assert.match(without.stderr, new RegExp(`error: restore of shopdb/${encrypted} into shop_encrypted failed: the key used cannot open shopdb/${encrypted}: it is encrypted to age1`));
  assert.match(without.stderr, /hint: on a new box, give your recovery key: --identity/);
  const withKey = await mono(['restore', '--backup', encrypted, '--to', 'shop_encrypted', '--identity', keyFile, '--yes'], { cwd: project.dir, timeoutMs: 600_000 });
  assert.equal(withKey.code, 0, withKey.stderr);
  assert.match(withKey.stderr, /decrypt: with the identity given for this run \(not the box's key\)/);
  const rows = await boxSsh(fresh, `cd /tmp && runuser -u shop -- psql -qAt -d shop_encrypted -c "SELECT count(*) FROM billing.invoices"; ls /srv/shop/.mono/drills | grep -c identity; grep -rl AGE-SECRET-KEY /srv/shop/.mono /tmp 2>/dev/null | wc -l`);
  assert.deepEqual(rows.stdout.trim().split('\n'), ['200000', '0', '0'], 'restored; the key left no file behind');
});
