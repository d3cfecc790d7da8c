// mono cron against a real box, with schedules shortened to seconds: mono setup installs and starts the hardened
// scheduler service; jobs run on time and are recorded; a run that would overlap the one still going is skipped and
// recorded; a schedule changed by mono deploy is picked up without losing the running job; a failing job alerts a local
// receiver (and its recovery too); a run missed while the service was stopped is caught up once; mono status turns red
// with exit 5 for an old backup, a full disk and a failed drill.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import type { RunRecord } from '../../src/agent/cron/store.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono, type CliResult } from '../support/cli.js';

interface Hit {
  readonly path: string;
  readonly body: string;
}

let box: BoxInfo;
let app: AppProject;
let server: Server;
let port: number;
const hits: Hit[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(args: readonly string[]): Promise<CliResult> {
  return mono(args, { cwd: app.dir, timeoutMs: 600_000 });
}

/** mono.yml's part under test: the schedules and checks, and max_data_loss; the rest stays. */
function configure(yaml: string): void {
  const file = `${app.dir}/mono.yml`;
  const text = readFileSync(file, 'utf8');
  const base = text.slice(0, text.indexOf('# --- under test ---'));
  writeFileSync(file, `${base}# --- under test ---\n${yaml}`);
}

async function deploy(): Promise<void> {
  const r = await run(['deploy']);
  assert.equal(r.code, 0, r.stderr);
}

async function history(): Promise<RunRecord[]> {
  const r = await boxSsh(box, 'cat /srv/shop/.mono/cron/history.jsonl 2>/dev/null || true');
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

const OFF = 'backup: "off"\n  restore_test: "off"\n  prune_releases: "off"\n  prune_backups: "off"\n  tls: "off"\n  health: "off"';

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  box = await bootBox('app');
  app = appProject(box, {
    yaml: `databases:\n  - name: shopdb\nnotifications:\n  webhook: http://127.0.0.1:${port}/hook\n  ping:\n    disk: http://127.0.0.1:${port}/ping/disk\n# --- under test ---\n`,
  });
  configure(`schedules:\n  ${OFF}\n  disk: "*/3 * * * * *"\n  stale_lock: "*/5 * * * * *"\nchecks:\n  disk:\n    paths: [/srv/shop]\n    max_used_percent: 99\n`);
  const setup = await run(['setup']);
  assert.equal(setup.code, 0, setup.stderr);
  const db = await boxSsh(box, `runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop" && runuser -u shop -- psql -v ON_ERROR_STOP=1 -qd shopdb -c "CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) SELECT 'n' || i FROM generate_series(1, 500) i"`);
  assert.equal(db.code, 0, db.stdout + db.stderr);
  await deploy();
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('mono setup installs the scheduler: a hardened service running as the app user, cron.json 0600; mono cron list shows the jobs', async () => {
  const unit = await boxSsh(box, 'systemctl is-active shop-cron.service; stat -c "%a %U" /srv/shop/.mono/cron.json; systemctl show -p User -p ProtectSystem -p ProtectHome -p PrivateTmp -p NoNewPrivileges shop-cron.service');
  assert.equal(unit.code, 0, unit.stderr);
  assert.match(unit.stdout, /^active\n600 shop\n/);
  assert.match(unit.stdout, /User=shop/);
  assert.match(unit.stdout, /ProtectSystem=strict/);
  assert.match(unit.stdout, /PrivateTmp=yes/);
  assert.match(unit.stdout, /NoNewPrivileges=yes/);
  const list = await run(['cron', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /service active/);
  assert.match(list.stdout, /^disk +\*\/3 \* \* \* \* \* +(in \ds|running since \d+s ago) /m, "its next run, or the run under way");
  assert.match(list.stdout, /^stale_lock +\*\/5 \* \* \* \* \* /m);
  assert.match(list.stdout, /not scheduled: backup \(off in mono\.yml\), restore_test \(off in mono\.yml\), prune_releases \(off in mono\.yml\), prune_backups \(off in mono\.yml\), tls \(no certificate paths \(nginx\.tls, checks\.tls\.certificates\)\), health \(off in mono\.yml\)/);
  const again = await run(['setup', '--json']);
  const steps = again.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id?: string; status?: string }).filter((e) => e.type === 'step.end' && ['cron-spec', 'unit-cron', 'run-shop-cron'].includes(e.id ?? ''));
  assert.deepEqual(steps.map((s) => `${s.id} ${s.status}`), ['cron-spec unchanged', 'unit-cron unchanged', 'run-shop-cron unchanged'], 'idempotent');
});

test('jobs run on time, as child processes logged to journald, and each run is recorded', async () => {
  await sleep(10_000);
  const disk = (await history()).filter((r) => r.job === 'disk' && r.trigger === 'schedule');
  assert.ok(disk.length >= 3, `disk ran ${disk.length} times in 10 s+`);
  for (const r of disk) {
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Date.parse(r.startedAt) % 3000 < 1000, `started on its 3-second mark: ${r.startedAt}`);
    assert.match(r.message, /\/srv\/shop/);
  }
  const journal = await boxSsh(box, 'journalctl -u shop-cron.service --no-pager -o cat');
  assert.match(journal.stdout, /^disk: started \(schedule\)$/m);
  assert.match(journal.stdout, /^disk \| .*\/srv\/shop/m);
  assert.match(journal.stdout, /^stale_lock: ok in \d+ s: /m);
});

test('a run that would overlap the one still going is skipped and recorded; a changed schedule is picked up without losing it; a failing job alerts', async () => {
  configure(`schedules:\n  ${OFF.replace('backup: "off"', 'backup: "*/2 * * * * *"')}\n  disk: "*/3 * * * * *"\n  stale_lock: "off"\nchecks:\n  disk:\n    paths: [/srv/shop]\n    max_used_percent: 99\n`);
  await deploy();
  await until('a first backup', async () => ((await history()).some((r) => r.job === 'backup' && r.status === 'ok') ? true : undefined));
  // pg_dump waits for this lock: the backup under way outlasts its next scheduled times.
  const held = boxSsh(box, `runuser -u shop -- psql -qd shopdb -c "BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(25); COMMIT;"`, { timeoutMs: 60_000 });
  const lockedAt = Date.now();
  await sleep(4000);
  // While it waits, the schedule changes: the disk threshold becomes 1 %, so the disk job fails from now on.
  configure(`schedules:\n  ${OFF.replace('backup: "off"', 'backup: "*/2 * * * * *"')}\n  disk: "*/3 * * * * *"\n  stale_lock: "off"\nchecks:\n  disk:\n    paths: [/srv/shop]\n    max_used_percent: 1\n`);
  await deploy();
  const hook = await until('the disk alert', async () => hits.find((h) => h.path === '/hook' && (JSON.parse(h.body) as { job: string }).job === 'disk'));
  const alert = JSON.parse(hook.body) as { job: string; status: string; message: string; hint?: string; logTail: string };
  assert.equal(alert.status, 'fail');
  assert.match(alert.message, /\/srv\/shop is [\d.]+% full \(threshold 1%\)/);
  assert.ok(hits.some((h) => h.path === '/ping/disk/start') && hits.some((h) => h.path === '/ping/disk/fail'), 'the start and fail pings');
  assert.equal((await held).code, 0);
  const runs = await until('the slow backup to end', async () => {
    const h = await history();
    return h.some((r) => r.job === 'backup' && r.status === 'ok' && Date.parse(r.startedAt) >= lockedAt - 2000 && r.ms > 15_000) ? h : undefined;
  });
  const slow = runs.find((r) => r.job === 'backup' && r.status === 'ok' && r.ms > 15_000)!;
  const skipped = runs.filter((r) => r.job === 'backup' && r.status === 'skipped' && Date.parse(r.startedAt) > Date.parse(slow.startedAt) && Date.parse(r.startedAt) < Date.parse(slow.endedAt));
  assert.ok(skipped.length >= 5, `runs skipped while the slow one went on: ${skipped.length}`);
  assert.match(skipped[0]!.message, /^still running since \S+ \(pid \d+\); this run is skipped$/);
  assert.ok(!runs.some((r) => r.job === 'backup' && r.status === 'interrupted'), 'the reload interrupted nothing');
  const journal = await boxSsh(box, 'journalctl -u shop-cron.service --no-pager -o cat');
  assert.match(journal.stdout, /reloaded \(cron\.json changed\): .*disk now at/);
  // Only one alert while it keeps failing: the webhook is not repeated every 3 s.
  await sleep(7000);
  assert.equal(hits.filter((h) => h.path === '/hook' && (JSON.parse(h.body) as { job: string }).job === 'disk').length, 1);
  const list = await run(['cron', 'list']);
  assert.match(list.stdout, /alert: disk fail since /);
});

test('mono status: one screen, red with exit 5 for a full disk, an old backup and an open alert; green again after', async () => {
  const red = await run(['status']);
  assert.equal(red.code, 5, red.stdout + red.stderr);
  assert.match(red.stdout, /^box: up .*, load [\d.]+ [\d.]+ [\d.]+ \(\d+ cores\), memory .* used \(\d+%\)$/m);
  assert.match(red.stdout, /^disk: \/srv\/shop [\d.]+% of .* — \/srv\/shop is [\d.]+% full \(threshold 1%\)$/m, 'mono status judges the disk itself, with mono.yml\'s threshold');
  assert.match(red.stdout, /^ {2}disk: fail since .*: \/srv\/shop is/m);
  assert.match(red.stdout, /^cron: service active$/m);
  // The disk is fine again: the alert closes, and the webhook hears that too.
  configure(`schedules:\n  ${OFF.replace('backup: "off"', 'backup: "0 3 * * *"')}\n  disk: "*/3 * * * * *"\n  stale_lock: "off"\nchecks:\n  disk:\n    paths: [/srv/shop]\n    max_used_percent: 99\n`);
  await deploy();
  const resolved = await until('the disk recovery', async () => hits.find((h) => h.path === '/hook' && (JSON.parse(h.body) as { status: string }).status === 'ok'));
  assert.match((JSON.parse(resolved.body) as { message: string }).message, /^disk is back to normal \(it was failing since /);
  const green = await run(['status', '--json']);
  assert.equal(green.code, 0, green.stdout + green.stderr);
  const s = JSON.parse(green.stdout.trim().split('\n').at(-1)!) as { red: boolean; cron: { alerts: object; service: string }; box: { disks: unknown[] } };
  assert.equal(s.red, false);
  assert.deepEqual(s.cron.alerts, {});
  assert.equal(s.box.disks.length, 1);
  // An old backup: mono status compares it with max_data_loss from mono.yml.
  const file = `${app.dir}/mono.yml`;
  writeFileSync(file, readFileSync(file, 'utf8').replace('databases:', 'backups:\n  max_data_loss: 2s\ndatabases:'));
  await sleep(2500);
  const old = await run(['status']);
  writeFileSync(file, readFileSync(file, 'utf8').replace('backups:\n  max_data_loss: 2s\n', ''));
  assert.equal(old.code, 5, old.stdout);
  assert.match(old.stdout, /^ {2}shopdb: newest backup \S+, \d+ s old, OLDER than the allowed data loss \(2 s\)$/m);
});

test('a run missed while the service was stopped runs once when it starts; a stop interrupts the running job, which runs again too', async () => {
  configure(`schedules:\n  ${OFF.replace('backup: "off"', 'backup: "*/30 * * * * *"')}\n  disk: "off"\n  stale_lock: "*/8 * * * * *"\n`);
  await deploy();
  await sleep(2000);
  const held = boxSsh(box, `runuser -u shop -- psql -qd shopdb -c "BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(40); COMMIT;"`, { timeoutMs: 90_000 });
  // The next backup starts and waits on the lock.
  await until('a backup under way', async () => ((await boxSsh(box, 'test -e /srv/shop/.mono/cron/running/backup.json')).code === 0 ? true : undefined), 40_000);
  const stoppedAt = Date.now();
  const stop = await boxSsh(box, 'systemctl stop shop-cron.service');
  assert.equal(stop.code, 0, stop.stderr);
  const interrupted = (await history()).filter((r) => r.job === 'backup' && r.status === 'interrupted');
  assert.equal(interrupted.length, 1, 'the stop interrupted the backup and recorded it');
  await sleep(10_000);
  // Nothing runs while the service is stopped; then it starts.
  const before = (await history()).length;
  const started = await boxSsh(box, 'systemctl start shop-cron.service');
  assert.equal(started.code, 0, started.stderr);
  const runs = await until('the catch-up runs', async () => {
    const h = await history();
    return h.some((r) => r.job === 'stale_lock' && r.trigger === 'catch-up') && h.some((r) => r.job === 'backup' && r.trigger === 'catch-up' && r.status !== 'skipped') ? h : undefined;
  }, 90_000);
  assert.ok(runs.slice(0, before).every((r) => Date.parse(r.startedAt) < stoppedAt + 1000), 'nothing ran while stopped');
  assert.equal(runs.filter((r) => r.job === 'stale_lock' && r.trigger === 'catch-up').length, 1, 'a missed job runs once, however many times it missed');
  await held;
  const backup = await until('the caught-up backup', async () => (await history()).find((r) => r.job === 'backup' && r.trigger === 'catch-up' && r.status !== 'skipped' && r.endedAt !== r.startedAt), 90_000);
  assert.equal(backup.status, 'ok', backup.message);
});

test('mono cron run runs a job now and streams its output; a drill run by the service that fails turns mono status red; wrong jobs are clear errors', async () => {
  // The drill runs in the service itself: the hardened scheduler has no sudo (NoNewPrivileges), so the drill restores in process into its own throwaway cluster.
  const drills = (every: string): string => `schedules:\n  ${OFF.replace('restore_test: "off"', `restore_test: "${every}"`)}\n  disk: "off"\n  stale_lock: "0 0 1 1 *"\nrestore:\n  checks:\n    - name: notes\n      sql: SELECT count(*) FROM notes\n      expect: "1"\n`;
  configure(drills('*/5 * * * * *'));
  await deploy();
  const backup = await run(['backup']);
  assert.equal(backup.code, 0, backup.stderr);
  const backedUp = Date.now();
  const lock = await run(['cron', 'run', 'stale_lock']);
  assert.equal(lock.code, 0, lock.stderr);
  assert.match(lock.stderr, /^ {2}the deploy lock is free$/m, 'the job\'s own output, streamed');
  assert.match(lock.stderr, /stale_lock: ok \(\d+ s, manual\): the deploy lock is free/);
  const drill = await until('a scheduled drill', async () => (await history()).find((r) => r.job === 'restore_test' && r.trigger === 'schedule' && r.status !== 'skipped' && Date.parse(r.startedAt) > backedUp), 120_000);
  const journal = (await boxSsh(box, 'journalctl -u shop-cron.service --no-pager -o cat | grep restore_test | tail -40')).stdout;
  assert.equal(drill.status, 'fail', journal);
  assert.match(drill.message, /fails check "notes": returned 500, expected 1/, journal);
  configure(drills('off'));
  await deploy();
  const status = await run(['status']);
  assert.equal(status.code, 5, status.stdout);
  assert.match(status.stdout, /^ {2}shopdb: last restore drill FAILED .*notes/m);
  assert.match(status.stdout, /^ {2}restore_test: fail since /m, 'and its alert is open');
  const bad = await run(['cron', 'run', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: "nope" is not a job mono cron runs\nhint: the jobs are: backup, restore_test/);
  const off = await run(['cron', 'run', 'tls']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /error: tls is not scheduled on this box/);
});

test('the health job asks the current release on its socket and through nginx, on the address nginx listens on', async () => {
  configure(`schedules:\n  ${OFF.replace('health: "off"', 'health: "0 0 1 1 *"')}\n  disk: "off"\n  stale_lock: "off"\n`);
  await deploy();
  const r = await run(['cron', 'run', 'health']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /health: ok \(\d+ s, manual\): GET \/\S*: the app on \/run\/shop\/current\.sock answered 200 in \d+ ms, nginx on 127\.0\.0\.1:\d+ \(Host [^)]+\) answered 200 in \d+ ms/);
  const cronJson = JSON.parse((await boxSsh(box, 'cat /srv/shop/.mono/cron.json')).stdout) as { jobs: { name: string; steps: { args: string[] }[] }[] };
  const argv = cronJson.jobs.find((j) => j.name === 'health')!.steps[0]!.args;
  assert.deepEqual(argv.slice(argv.indexOf('--nginx-port'), argv.indexOf('--nginx-port') + 4), ['--nginx-port', String(box.httpPort), '--nginx-address', '127.0.0.1']);
});
