// Backup alerts against a real box: mono setup writes <root>/.mono/notify.json (0600), and the box itself pings a
// healthchecks-style receiver (start, then success or fail with the log tail) and posts the webhook on failures and
// warnings. The receiver is a small HTTP server in this process: the box shares the host's network.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono, type CliResult } from '../support/cli.js';

interface Hit {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

let box: BoxInfo;
let app: AppProject;
let server: Server;
let port: number;
const hits: Hit[] = [];
const UUID = randomUUID();
const NEW_UUID = randomUUID();
const DRILL = randomUUID();
/** Everything the CLI printed in this file, to show that no URL ever appears in it. */
const printed: string[] = [];

async function run(args: readonly string[]): Promise<CliResult> {
  const r = await mono(args, { cwd: app.dir, timeoutMs: 600_000 });
  printed.push(r.stdout, r.stderr);
  return r;
}

function listen(on: number): Promise<Server> {
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
    });
  });
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(on, '127.0.0.1', () => resolve(s));
  });
}

function stop(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

/** Runs a backup with the hits it caused. */
async function backup(args: readonly string[] = []): Promise<{ r: CliResult; hits: Hit[] }> {
  const from = hits.length;
  const r = await run(['backup', ...args]);
  return { r, hits: hits.slice(from) };
}

before(async () => {
  server = await listen(0);
  port = (server.address() as AddressInfo).port;
  box = await bootBox('app');
  app = appProject(box, {
    yaml: `databases:\n  - name: shopdb\nnotifications:\n  webhook: http://127.0.0.1:${port}/hook\n  ping:\n    backup: http://127.0.0.1:${port}/ping/${UUID}\n    restore_test: http://127.0.0.1:${port}/ping/${DRILL}\n`,
  });
  const setup = await run(['setup']);
  assert.equal(setup.code, 0, setup.stderr);
  const created = await boxSsh(box, `runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop"`);
  assert.equal(created.code, 0, created.stdout + created.stderr);
  const filled = await boxSsh(box, `runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb`, {
    input: `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO customers (name) SELECT 'c' || i FROM generate_series(1, 2000) i;
CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers);
INSERT INTO orders (customer) SELECT 1 + i % 2000 FROM generate_series(1, 2000) i;
CREATE TABLE notes (x int);
`,
    timeoutMs: 300_000,
  });
  assert.equal(filled.code, 0, filled.stdout + filled.stderr);
});

after(async () => {
  if (server.listening) await stop(server);
});

test('mono setup writes notify.json on the box: 0600, owned by the app user, with the URLs; setup never prints them', async () => {
  const r = await boxSsh(box, 'stat -c "%a %U %G" /srv/shop/.mono/notify.json && cat /srv/shop/.mono/notify.json');
  assert.equal(r.code, 0, r.stderr);
  const [mode, ...json] = r.stdout.split('\n');
  assert.equal(mode, '600 shop shop');
  assert.deepEqual(JSON.parse(json.join('\n')), { app: 'shop', webhook: `http://127.0.0.1:${port}/hook`, ping: { backup: `http://127.0.0.1:${port}/ping/${UUID}`, restore_test: `http://127.0.0.1:${port}/ping/${DRILL}` } });
  const again = await run(['setup', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const step = again.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id?: string; status?: string }).find((e) => e.type === 'step.end' && e.id === 'notify-settings');
  assert.equal(step?.status, 'unchanged', 'idempotent');
  // A changed URL: the dry run says the file would change, and shows neither URL.
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace(UUID, NEW_UUID));
  const dry = await run(['setup', '--dry-run', '--verbose']);
  writeFileSync(yml, original);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /would +notification settings \/srv\/shop\/\.mono\/notify\.json \(0600: webhook, backup ping, restore_test ping\) \(content differs\)/);
  assert.match(dry.stderr, /\$ .*< \(content on stdin\)/);
  const still = await boxSsh(box, `grep -c '${UUID}' /srv/shop/.mono/notify.json; grep -c '${NEW_UUID}' /srv/shop/.mono/notify.json`);
  assert.equal(still.stdout.trim(), '1\n0', 'the dry run changed nothing');
});

test('a good backup: /start, then the success ping with the lines this run printed; no webhook', async () => {
  const { r, hits: got } = await backup(['--verbose']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(got.map((h) => `${h.method} ${h.path}`), [`POST /ping/${UUID}/start`, `POST /ping/${UUID}`]);
  assert.equal(got[0]!.body, '');
  const body = got[1]!.body;
  assert.match(body, /^ {2}dumping shopdb \(3 tables, snapshot \S+\)$/m);
  assert.match(body, /^ {2}checking: sha256, a full read of the archive, the table count$/m);
  // The same lines the operator saw, in the same order.
  const shown = r.stderr.split('\n').filter((l) => l.startsWith('  dumping') || l.startsWith('  checking'));
  assert.deepEqual(body.split('\n').filter((l) => l.startsWith('  dumping') || l.startsWith('  checking')), shown);
  assert.ok(!got.some((h) => h.path === '/hook'));
});

test('the box alerts on its own: the agent run there (as cron will) pings too, and Node prints no warning of its own', async () => {
  const from = hits.length;
  const r = await boxSsh(box, 'cd /tmp && runuser -u shop -- mono agent backup --root /srv/shop --dir /var/backups/shop --db shopdb --user shop 2>&1 >/dev/null', { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(hits.slice(from).map((h) => h.path), [`/ping/${UUID}/start`, `/ping/${UUID}`]);
  assert.doesNotMatch(r.stdout, /ExperimentalWarning|\(node:\d+\)/);
  assert.match(r.stdout, /^ {2}dumping shopdb/m);
});

test('a backup with a warning (a table fewer): the success ping carries it, and the webhook says "warning"', async () => {
  const dropped = await boxSsh(box, 'runuser -u shop -- psql -v ON_ERROR_STOP=1 -qAt -d shopdb -c "DROP TABLE notes"');
  assert.equal(dropped.code, 0, dropped.stderr);
  const { r, hits: got } = await backup();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: the table count fell from 3 to 2/);
  assert.deepEqual(got.map((h) => h.path).sort(), ['/hook', `/ping/${UUID}`, `/ping/${UUID}/start`]);
  assert.match(got.find((h) => h.path === `/ping/${UUID}`)!.body, /^warning: the table count fell from 3 to 2 since backup \d{8}T\d{6}Z$/m);
  const hook = JSON.parse(got.find((h) => h.path === '/hook')!.body) as Record<string, string>;
  assert.equal(hook['status'], 'warning');
  assert.match(hook['message'] ?? '', /^backup shopdb\/\d{8}T\d{6}Z was made, with a warning: the table count fell from 3 to 2/);
});

test('a failing backup (the database unreachable): /start, then /fail with the error, and the webhook with status "fail"', async () => {
  const yml = `${app.dir}/mono.yml`;
  const original = readFileSync(yml, 'utf8');
  writeFileSync(yml, original.replace('  - name: shopdb\n', '  - name: shopdb\n    port: 1\n'));
  const { r, hits: got } = await backup();
  writeFileSync(yml, original);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: cannot connect to database shopdb as shop \(\/var\/run\/postgresql:1\)/);
  assert.deepEqual(got.map((h) => h.path).sort(), ['/hook', `/ping/${UUID}/fail`, `/ping/${UUID}/start`]);
  assert.equal(got[0]!.path, `/ping/${UUID}/start`, 'start comes first');
  const fail = got.find((h) => h.path.endsWith('/fail'))!;
  assert.match(fail.body, /^error: cannot connect to database shopdb as shop \(\/var\/run\/postgresql:1\): .+$/m);
  assert.match(fail.body, /^hint: check that PostgreSQL runs/m);
  const hook = JSON.parse(got.find((h) => h.path === '/hook')!.body) as Record<string, unknown>;
  const boxHost = (await boxSsh(box, 'hostname')).stdout.trim();
  assert.deepEqual(Object.keys(hook).sort(), ['app', 'at', 'hint', 'host', 'job', 'logTail', 'message', 'status']);
  assert.deepEqual([hook['app'], hook['host'], hook['job'], hook['status']], ['shop', boxHost, 'backup', 'fail']);
  assert.match(String(hook['message']), /^cannot connect to database shopdb as shop \(\/var\/run\/postgresql:1\)/);
  assert.match(String(hook['hint']), /check that PostgreSQL runs/);
  assert.ok(Math.abs(Date.parse(String(hook['at'])) - Date.now()) < 600_000);
});

test('a receiver that is down does not fail a good backup: warnings that name the ping, never its URL', async () => {
  await stop(server);
  const { r, hits: got } = await backup();
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(got, []);
  assert.match(r.stderr, /^warning: could not deliver the backup start ping: connection refused \(after 3 tries\); the backup itself is not affected$/m);
  assert.match(r.stderr, /^warning: could not deliver the backup success ping: connection refused \(after 3 tries\); the backup itself is not affected$/m);
  assert.doesNotMatch(r.stderr, new RegExp(`${UUID}|127\\.0\\.0\\.1:${port}|/hook`));
  server = await listen(port);
});

test('restore drills alert the same way: start and success for a good drill, /fail and the webhook for a damaged backup', async () => {
  let from = hits.length;
  const good = await run(['restore-test', '--from', 'local']);
  assert.equal(good.code, 0, good.stderr);
  let got = hits.slice(from);
  assert.deepEqual(got.map((h) => h.path), [`/ping/${DRILL}/start`, `/ping/${DRILL}`]);
  assert.match(got[1]!.body, /^ {2}ok {3}rows: every table's rows equal the manifest/m);
  const dir = '/var/backups/shop/shopdb';
  const newest = (await boxSsh(box, `ls ${dir} | grep -E '^[0-9]{8}T[0-9]{6}Z$' | tail -n 1`)).stdout.trim();
  await boxSsh(box, `cp ${dir}/${newest}/dump.zst /root/dump.good && printf X | dd of=${dir}/${newest}/dump.zst bs=1 seek=100 conv=notrunc status=none`);
  try {
    from = hits.length;
    const bad = await run(['restore-test', '--from', 'local']);
    assert.equal(bad.code, 5, bad.stderr);
    got = hits.slice(from);
    assert.deepEqual(got.map((h) => h.path).sort(), ['/hook', `/ping/${DRILL}/fail`, `/ping/${DRILL}/start`]);
    assert.match(got.find((h) => h.path === `/ping/${DRILL}/fail`)!.body, new RegExp(`the local backup shopdb/${newest}/dump.zst is damaged \\(same size, different bytes\\)`));
    const hook = JSON.parse(got.find((h) => h.path === '/hook')!.body) as Record<string, unknown>;
    assert.deepEqual([hook['job'], hook['status']], ['restore_test', 'fail']);
  } finally {
    await boxSsh(box, `cp /root/dump.good ${dir}/${newest}/dump.zst`);
  }
});

test('mono notify test: the box sends one test to the webhook and every ping, and says which arrived', async () => {
  const from = hits.length;
  const r = await run(['notify', 'test']);
  assert.equal(r.code, 0, r.stderr);
  const got = hits.slice(from);
  assert.deepEqual(got.map((h) => h.path).sort(), ['/hook', `/ping/${DRILL}`, `/ping/${UUID}`].sort());
  for (const h of got.filter((x) => x.path.startsWith('/ping/'))) assert.match(h.body, /^mono notify test from \S+ \(shop\) at \S+: this is a test, nothing failed$/);
  assert.deepEqual([(JSON.parse(got.find((h) => h.path === '/hook')!.body) as { job: string }).job], ['notify-test']);
  assert.match(r.stderr, /^ {2}delivered: the backup ping$/m);
  assert.match(r.stderr, /^ {2}delivered: the restore_test ping$/m);
  assert.match(r.stderr, /^ {2}delivered: the webhook$/m);
  await stop(server);
  try {
    const down = await run(['notify', 'test']);
    assert.equal(down.code, 5, down.stderr);
    assert.match(down.stderr, /^ {2}NOT delivered: the webhook: connection refused \(after 3 tries\)$/m);
    assert.match(down.stderr, /error: 3 of 3 test notifications were not delivered/);
  } finally {
    server = await listen(port);
  }
});

test('the URLs appear nowhere but in notify.json: not in the CLI\'s output, the box\'s journal, logs or other files', async () => {
  const all = printed.join('\n');
  assert.ok(all.length > 1000, 'output was collected');
  for (const secret of [UUID, NEW_UUID, DRILL, `127.0.0.1:${port}`]) assert.ok(!all.includes(secret), `the CLI printed ${secret}`);
  const journal = await boxSsh(box, `journalctl --no-pager -o cat | grep -c -e '${UUID}' -e ':${port}/'; true`, { timeoutMs: 300_000 });
  assert.equal(journal.stdout.trim(), '0', 'not in the journal');
  const files = await boxSsh(box, `grep -rlI -e '${UUID}' /srv /var/log /var/backups /var/lib/mono /etc /tmp /root 2>/dev/null; true`, { timeoutMs: 300_000 });
  assert.deepEqual(files.stdout.trim().split('\n'), ['/srv/shop/.mono/notify.json']);
});
