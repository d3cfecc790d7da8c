// mono backup against a real box: PostgreSQL 15, pg_dump | zstd, a manifest counted in the dump's own snapshot, files
// written 0600 and checked; and the faults: an unreachable database, pg_dump killed mid-way, a second backup at once.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import type { BackupManifest } from '../../src/backup/manifest.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono } from '../support/cli.js';

let box: BoxInfo;
let offsite: BoxInfo;
let app: AppProject;
const DIR = '/var/backups/shop/shopdb';

before(async () => {
  [box, offsite] = await Promise.all([bootBox('app'), bootBox('offsite')]);
  app = appProject(box, {
    yaml: `databases:\n  - name: shopdb\nbackups:\n  retention:\n    local: { daily: 1, weekly: 0, monthly: 0, min_verified: 3 }\n  offsite:\n    host: root@127.0.0.1:${offsite.sshPort}\n    path: /srv/backups\n    known_hosts: ${offsite.knownHostsFile}\n    identity: ${offsite.keyFile}\n`,
  });
  const setup = await mono(['setup'], { cwd: app.dir });
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stderr, /^ {2}changed +box key allowed on root@127\.0\.0\.1:\d+ for the receiver only$/m);
  const again = await mono(['setup'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^ {2}unchanged box key allowed/m);
  assert.doesNotMatch(again.stderr, /^ {2}changed /m, 'the offsite part is idempotent too');
  const created = await boxSsh(box, `runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop"`);
  assert.equal(created.code, 0, created.stdout);
  // Owned by shop (the app user, who runs the backup); one wide table large enough that pg_dump runs a few seconds.
  const filled = await boxSsh(box, `runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb`, {
    input: `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, data jsonb);
CREATE INDEX customers_name ON customers (name);
INSERT INTO customers (name, data) SELECT 'c' || i, jsonb_build_object('i', i) FROM generate_series(1, 5000) i;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, customer int REFERENCES customers, body text);
INSERT INTO billing.invoices (customer, body) SELECT 1 + i % 5000, md5(i::text) || repeat(md5((i * 7)::text), 8) FROM generate_series(1, 300000) i;
CREATE TABLE empty_one (x int);
`,
    timeoutMs: 300_000,
  });
  assert.equal(filled.code, 0, filled.stdout);
});

/** What the database's backup folder holds (backups, and anything partial), without the record of the last run. */
async function backups(): Promise<string[]> {
  return (await boxSsh(box, `ls -A ${DIR} 2>/dev/null; true`)).stdout.split('\n').filter((n) => n !== '' && n !== 'last-run.json');
}

test('a backup: dump and globals from one snapshot, exact row counts, 0600 files owned by the app user, checked', async () => {
  const r = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string; tables: number; rows: number }).find((e) => e.type === 'backup.done');
  assert.ok(done !== undefined);
  assert.deepEqual([done.tables, done.rows], [3, 305_000]);
  const files = await boxSsh(box, `cd ${DIR}/${done.id} && ls -A && stat -c '%n %a %U' * && sha256sum dump.zst && cat manifest.json`);
  const lines = files.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 8), ['dump.zst', 'globals.sql.zst', 'manifest.json', 'offsite.json', 'dump.zst 600 shop', 'globals.sql.zst 600 shop', 'manifest.json 600 shop', 'offsite.json 600 shop']);
  const manifest = JSON.parse(lines.slice(9).join('\n')) as BackupManifest;
  assert.deepEqual(manifest.rows, { 'billing.invoices': 300_000, 'public.customers': 5000, 'public.empty_one': 0 });
  assert.equal(manifest.indexCount, 3);
  assert.equal(lines[8]!.split(' ')[0], manifest.files.find((f) => f.name === 'dump.zst')!.sha256, 'the manifest names the file as it is on disk');
  assert.equal(manifest.server.versionNum >= 150000, true);
  assert.match(manifest.tools.pgDump, /^pg_dump \(PostgreSQL\) 15/);
  // The dump restores: the table data it holds is what the manifest counted.
  const listed = await boxSsh(box, `zstd -dc ${DIR}/${done.id}/dump.zst | pg_restore --list | grep -c ' TABLE DATA '`);
  assert.equal(listed.stdout.trim(), '3');
  assert.deepEqual(await backups(), [done.id], 'nothing partial is left');
  // Copied offsite and verified there: the same bytes, and the local record of it.
  const there = await boxSsh(offsite, `cd /srv/backups/shop/shopdb/${done.id} && sha256sum dump.zst | cut -d' ' -f1 && stat -c '%a' dump.zst && ls -A`);
  assert.deepEqual(there.stdout.trim().split('\n'), [manifest.files.find((f) => f.name === 'dump.zst')!.sha256, '600', 'dump.zst\nglobals.sql.zst\nmanifest.json'.split('\n')].flat());
  assert.equal((await boxSsh(box, `test -f ${DIR}/${done.id}/offsite.json && echo recorded`)).stdout.trim(), 'recorded');
});

test('the box\'s key can add backups offsite but never delete or overwrite one', async () => {
  const [id] = await backups();
  const ssh = `ssh -i /srv/shop/.ssh/offsite_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile=/srv/shop/.ssh/known_hosts_offsite -o BatchMode=yes -p ${offsite.sshPort} root@127.0.0.1`;
  const before_ = (await boxSsh(offsite, `sha256sum /srv/backups/shop/shopdb/${id}/dump.zst`)).stdout;
  for (const attempt of ['rm -rf /srv/backups', `sh -c "rm /srv/backups/shop/shopdb/${id}/dump.zst"`, 'cat /etc/shadow']) {
    const r = await boxSsh(box, `runuser -u shop -- ${ssh} '${attempt}'; echo "exit $?"`);
    assert.match(r.stdout + r.stderr, /mono-offsite: refused: only put, sha256, get and list are allowed/, attempt);
    assert.match(r.stdout, /exit 64/);
  }
  const overwrite = await boxSsh(box, `echo evil | runuser -u shop -- ${ssh} put shopdb ${id} dump.zst $(echo evil | sha256sum | cut -d' ' -f1); echo "exit $?"`);
  assert.match(overwrite.stdout + overwrite.stderr, /exists: backups are never overwritten/);
  assert.match(overwrite.stdout, /exit 17/);
  const escape = await boxSsh(box, `echo x | runuser -u shop -- ${ssh} put ../../etc ${id} dump.zst 00; echo "exit $?"`);
  assert.match(escape.stdout + escape.stderr, /refused: bad database name/);
  assert.equal((await boxSsh(offsite, `sha256sum /srv/backups/shop/shopdb/${id}/dump.zst; ls -A /srv/backups/shop/shopdb/${id}`)).stdout.trim(), `${before_.trim()}\ndump.zst\nglobals.sql.zst\nmanifest.json`);
});

test('the offsite host unreachable: the backup is kept, the run says "offsite pending" and fails; the next run catches up', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace(`host: root@127.0.0.1:${offsite.sshPort}`, 'host: root@127.0.0.1:1'));
  const r = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  writeFileSync(yml, original);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: backup shopdb\/\d{8}T\d{6}Z is kept on the box, but its offsite copy is pending: the offsite host root@127\.0\.0\.1:1 is not reachable/);
  const pending = (await backups()).at(-1)!;
  assert.equal((await boxSsh(box, `test -f ${DIR}/${pending}/manifest.json && test ! -e ${DIR}/${pending}/offsite.json && echo kept-pending`)).stdout.trim(), 'kept-pending');
  const next = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(next.code, 0, next.stderr);
  const copy = next.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; copied?: string[] }).find((e) => e.type === 'backup.offsite');
  assert.equal(copy?.copied?.[0], pending, 'the pending backup is copied first');
  assert.equal(copy?.copied?.length, 2);
  assert.equal((await boxSsh(offsite, `test -f /srv/backups/shop/shopdb/${pending}/manifest.json && echo there`)).stdout.trim(), 'there');
});

test('an offsite copy changed on the offsite host is reported as damaged, naming the file; the local backup is kept', async () => {
  const newest = (await backups()).at(-1)!;
  await boxSsh(offsite, `printf x >> /srv/backups/shop/shopdb/${newest}/dump.zst`);
  const r = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, new RegExp(`an offsite copy is damaged: the offsite copy of shopdb/${newest}/dump.zst is damaged: its sha256 is [0-9a-f]{64}, the backup's is [0-9a-f]{64}`));
  const local = (await boxSsh(box, `cd ${DIR}/${newest} && sha256sum dump.zst | cut -d' ' -f1`)).stdout.trim();
  assert.match(r.stderr, new RegExp(`the backup's is ${local}`), 'the local backup is intact');
  // Repaired there (by the operator), the next run verifies it again.
  await boxSsh(offsite, `truncate -s -1 /srv/backups/shop/shopdb/${newest}/dump.zst`);
  const next = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(next.code, 0, next.stderr);
});

test('an unreachable database: a clear error naming it, nothing written, the earlier backup kept', async () => {
  const before_ = await backups();
  const yml = `${app.dir}/mono.yml`;
  const { readFileSync, writeFileSync } = await import('node:fs');
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('name: shopdb', 'name: shopdb\n  - name: gone'));
  const r = await mono(['backup', '--db', 'gone'], { cwd: app.dir });
  writeFileSync(yml, original);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: cannot connect to database gone as shop \(\/var\/run\/postgresql:5432\): database "gone" does not exist/);
  assert.match(r.stderr, /hint: check that PostgreSQL runs/);
  assert.deepEqual(await backups(), before_);
  const unknown = await mono(['backup', '--db', 'nope'], { cwd: app.dir });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error: nope is not one of the databases in mono.yml \(shopdb\)/);
});

test('pg_dump killed mid-way: the backup fails naming it, leaves no partial folder and no lock, keeps the earlier backup', async () => {
  const before_ = await backups();
  const running = mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  const killed = await boxSsh(box, 'for i in $(seq 1 300); do pkill -KILL -x pg_dump && echo killed && break; sleep 0.02; done', { timeoutMs: 60_000 });
  assert.equal(killed.stdout.trim(), 'killed', 'pg_dump was caught running');
  const r = await running;
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: pg_dump was killed \(SIGKILL\)/);
  assert.deepEqual(await backups(), before_, 'no partial folder, the earlier backup is there');
  assert.equal((await boxSsh(box, 'test -e /var/backups/shop/.lock && echo locked || echo free')).stdout.trim(), 'free');
  const again = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(again.code, 0, again.stderr);
});

test('a second backup while one runs fails at once naming the holder; a lock left by a killed backup is taken over', async () => {
  // A real running process holds the lock (as a running backup would).
  await boxSsh(box, `runuser -u shop -- sh -c 'mkdir /var/backups/shop/.lock && (setsid sleep 60 >/dev/null 2>&1 & echo "{\\"pid\\":$!,\\"since\\":\\"now\\",\\"db\\":\\"shopdb\\"}" > /var/backups/shop/.lock/holder.json)'`);
  const r = await mono(['backup'], { cwd: app.dir });
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /error: another backup is running \(database shopdb, pid \d+, since now\)/);
  // Its holder dies (killed): the next backup takes the lock over, with a warning.
  await boxSsh(box, "pkill -x sleep; sleep 0.2; true");
  const next = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /warning: a backup that was killed left its lock behind/);
});

test('retention: each good run keeps the policy\'s backups; nothing is pruned after a failed run; mono backups shows it all', async () => {
  const complete = async (): Promise<number> => (await backups()).filter((n) => /^\d{8}T\d{6}Z$/.test(n)).length;
  // At least three backups (the tests before made some), then one more: the policy must let one go.
  while ((await complete()) < 3) assert.equal((await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 })).code, 0);
  const good = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stderr, /pruned 1 old backup: \d{8}T\d{6}Z/);
  // daily: 1 keeps today's newest; min_verified: 3 keeps the two before it as well.
  const kept = await backups();
  assert.equal(kept.filter((n) => /^\d{8}T\d{6}Z$/.test(n)).length, 3, kept.join(' '));
  const list = await mono(['backups'], { cwd: app.dir });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^DATABASE +BACKUP +AGE +SIZE +TABLES +ROWS +CHECKED +RESTORED +OFFSITE$/m);
  for (const id of kept.filter((n) => /^\d{8}T\d{6}Z$/.test(n))) assert.match(list.stdout, new RegExp(`^shopdb +${id} +\\S+ ago +[\\d.]+ [kM]B +3 +305000 +yes +- +verified \\S+ ago, [\\d.]+ [kM]B there$`, 'm'));
  const dry = await mono(['backups', 'prune', '--dry-run'], { cwd: app.dir });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /shopdb: 0 would go, 3 kept/);
  assert.match(dry.stderr, /keep {4}shopdb\/\S+ {2}\(daily \d{4}-\d{2}-\d{2}; weekly|keep {4}shopdb\/\S+ {2}\(daily/);

  // A failed run (pg_dump killed): prune refuses until a backup succeeds, and the listing says the run failed.
  const running = mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  await boxSsh(box, 'for i in $(seq 1 300); do pkill -KILL -x pg_dump && break; sleep 0.02; done', { timeoutMs: 60_000 });
  assert.equal((await running).code, 5);
  const refused = await mono(['backups', 'prune'], { cwd: app.dir });
  assert.equal(refused.code, 5, refused.stderr);
  assert.match(refused.stderr, /error: the last backup of shopdb failed \(.*pg_dump was killed \(SIGKILL\)\): nothing is pruned until a backup succeeds/);
  assert.match((await mono(['backups'], { cwd: app.dir })).stdout, /last backup of shopdb FAILED .*pg_dump was killed/);
  assert.deepEqual(await backups(), kept);
});

test('a backup much smaller than the last one fails the run but is kept, and nothing is pruned until a run passes', async () => {
  const before_ = await backups();
  await boxSsh(box, `runuser -u shop -- psql -qAt -d shopdb -c 'TRUNCATE billing.invoices'`);
  const r = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: the backup is \d+% smaller than backup \d{8}T\d{6}Z \(\d+ → \d+ bytes\): more than backups.max_drop \(50%\)/);
  assert.match(r.stderr, /hint: the backup was kept as \d{8}T\d{6}Z and no older backup will be pruned until a run passes/);
  const after = await backups();
  assert.equal(after.length, before_.length + 1, 'kept, and nothing pruned');
  assert.equal((await mono(['backups', 'prune'], { cwd: app.dir })).code, 5, 'pruning waits for a run that passes');
  // Run again: the drop is now the baseline, and the run passes.
  const again = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
  assert.equal(again.code, 0, again.stderr);
});

test('a full disk: the run stops with a clear error, leaves nothing partial, keeps the earlier backup; too little room stops it before it writes', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  const SMALL = '/var/backups/small';
  const mounted = await boxSsh(box, `mkdir -p ${SMALL} && mount -t tmpfs -o size=4m,mode=0700,uid=$(id -u shop),gid=$(id -g shop) tmpfs ${SMALL} && echo mounted`);
  assert.equal(mounted.stdout.trim(), 'mounted', mounted.stderr);
  try {
    writeFileSync(yml, original.replace('backups:\n', `backups:\n  dir: ${SMALL}\n`));
    const first = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
    assert.equal(first.code, 0, first.stderr);
    const list = async (): Promise<string[]> => (await boxSsh(box, `ls -A ${SMALL}/shopdb`)).stdout.split('\n').filter(Boolean);
    const [id] = await list();
    assert.match(id ?? '', /^\d{8}T\d{6}Z$/);
    const sums = async (): Promise<string> => (await boxSsh(box, `cd ${SMALL}/shopdb/${id} && sha256sum dump.zst globals.sql.zst manifest.json`)).stdout;
    const before_ = await sums();
    // About 12 MB of random hex: zstd cannot shrink it below the 4 MB the folder has.
    const grown = await boxSsh(box, `runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb -c "CREATE TABLE filler AS SELECT i, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS junk FROM generate_series(1, 100000) i"`, { timeoutMs: 120_000 });
    assert.equal(grown.code, 0, grown.stderr);
    const full = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
    assert.equal(full.code, 5, full.stderr);
    assert.match(full.stderr, /error: the disk filled up while writing \/var\/backups\/small\/shopdb\/\.partial-\d{8}T\d{6}Z\/dump\.zst/);
    assert.match(full.stderr, /hint: free space in the backups folder \(or move backups\.dir\), then run the backup again; earlier backups are untouched/);
    assert.deepEqual(await list(), [id, 'last-run.json'], 'no partial folder is left');
    assert.equal(await sums(), before_, 'the earlier backup is intact');
    assert.equal((await boxSsh(box, `test -e ${SMALL}/.lock && echo locked || echo free`)).stdout.trim(), 'free');
    assert.equal((await mono(['backups', 'prune'], { cwd: app.dir })).code, 5, 'nothing is pruned after it');

    // Less than twice the last backup free: refused before anything is written.
    await boxSsh(box, `runuser -u shop -- psql -qAt -d shopdb -c 'DROP TABLE filler'`);
    await boxSsh(box, `head -c $(( $(stat -f -c '%a * %S' ${SMALL}) - 8192 )) /dev/zero > ${SMALL}/filler; sync`);
    const tight = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
    assert.equal(tight.code, 5, tight.stderr);
    assert.match(tight.stderr, /error: not enough free space in \/var\/backups\/small: [\d.]+ kB free, and the last backup took [\d.]+ [kM]B \(about twice that is needed\)/);
    assert.match(tight.stderr, /nothing was written/);
    assert.deepEqual(await list(), [id, 'last-run.json']);
    assert.equal(await sums(), before_);
    await boxSsh(box, `rm -f ${SMALL}/filler`);
    const again = await mono(['backup'], { cwd: app.dir, timeoutMs: 300_000 });
    assert.equal(again.code, 0, again.stderr);
  } finally {
    writeFileSync(yml, original);
    await boxSsh(box, `runuser -u shop -- psql -qAt -d shopdb -c 'DROP TABLE IF EXISTS filler'; umount ${SMALL}; rmdir ${SMALL}`);
  }
});

test('encrypted backups: age for the operator\'s key and the box\'s own, checked on the box, copied offsite as they are, opened with the operator\'s key', async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  // The operator's recovery key, made on the operator's machine; only its public half goes into mono.yml.
  const keyFile = `${mkdtempSync(`${tmpdir()}/mono-age-`)}/operator.key`;
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const operator = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('backups:\n', `backups:\n  encrypt:\n    recipients: [${operator}]\n`));
  try {
    const setup = await mono(['setup'], { cwd: app.dir, timeoutMs: 600_000 });
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stderr, /^ {2}change +the box's age key for backups \/srv\/shop\/\.ssh\/backup_age\.key /m);
    const boxKey = await boxSsh(box, `stat -c '%a %U' /srv/shop/.ssh/backup_age.key && age-keygen -y /srv/shop/.ssh/backup_age.key`);
    const [mode, boxRecipient] = boxKey.stdout.split('\n');
    assert.equal(mode, '600 shop');
    assert.match(boxRecipient ?? '', /^age1[0-9a-z]+$/);

    const r = await mono(['backup', '--json'], { cwd: app.dir, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string }).find((e) => e.type === 'backup.done')!;
    const files = await boxSsh(box, `cd ${DIR}/${done.id} && ls -A && stat -c '%n %a %U' *.age && head -c 21 dump.zst.age && echo && cat manifest.json`);
    const lines = files.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 7), ['dump.zst.age', 'globals.sql.zst.age', 'manifest.json', 'offsite.json', 'dump.zst.age 600 shop', 'globals.sql.zst.age 600 shop', 'age-encryption.org/v1'], 'only age files hold data: nothing in plain text');
    const manifest = JSON.parse(lines.slice(7).join('\n')) as BackupManifest;
    assert.deepEqual(manifest.encryption, { tool: 'age', recipients: [boxRecipient, operator] });
    assert.deepEqual(manifest.checks, { sha256: true, fullRead: true, tableCount: true }, 'checked on the box through its own key');
    assert.match(manifest.tools.age ?? '', /^v?1\./);
    // The offsite copy is the same encrypted bytes.
    const dump = manifest.files.find((f) => f.name === 'dump.zst.age')!;
    assert.equal((await boxSsh(offsite, `sha256sum /srv/backups/shop/shopdb/${done.id}/dump.zst.age | cut -d' ' -f1`)).stdout.trim(), dump.sha256);
    // The operator's key alone opens it (a lost box): the tables and the roles are there.
    await boxSsh(box, `install -m 0600 /dev/stdin /root/operator.key`, { input: readFileSync(keyFile, 'utf8') });
    const opened = await boxSsh(box, `age -d -i /root/operator.key ${DIR}/${done.id}/dump.zst.age | zstd -dc | pg_restore --list | grep -c ' TABLE DATA '; age -d -i /root/operator.key ${DIR}/${done.id}/globals.sql.zst.age | zstd -dc | grep -c 'CREATE ROLE shop'; rm -f /root/operator.key`);
    assert.deepEqual(opened.stdout.trim().split('\n'), ['3', '1']);
    // Without a key that is one of the recipients, it does not open.
    const stranger = await boxSsh(box, `age-keygen -o /root/other.key 2>/dev/null; age -d -i /root/other.key ${DIR}/${done.id}/dump.zst.age > /dev/null; echo "exit $?"; rm -f /root/other.key`);
    assert.match(stranger.stdout + stranger.stderr, /no identity matched any of the recipients/);
  } finally {
    writeFileSync(yml, original);
  }
});
