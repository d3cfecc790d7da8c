// Handovers without a proxy against a real box: handover.strategy socket (one listening socket, held by systemd, passed to
// every version) under continuous load, and bind-retry (the seed thread's protocol), both with mono/runtime.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { appProject, JOBS_SERVER, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono } from '../support/cli.js';

let box: BoxInfo;

/** A port free on this machine, which the box shares. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function deployed(stdout: string): string {
  const done = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; id: string })
    .find((e) => e.type === 'deploy.done');
  assert.ok(done !== undefined, `no deploy.done event in ${stdout.slice(-500)}`);
  return done.id;
}

interface NoProxyApp {
  readonly app: AppProject;
  readonly port: number;
  readonly v1: string;
  readonly get: (path: string) => Promise<string>;
}

async function noProxyApp(name: string, strategy: 'socket' | 'bind-retry'): Promise<NoProxyApp> {
  const port = await freePort();
  const yaml = `shared: [storage]\nhandover:\n  strategy: ${strategy}\n  public_listen: 127.0.0.1:${port}\n  verify_window: 2s\n  drain_timeout: 5m\n`;
  const app = appProject(box, { app: name, procfile: 'web: node server.mjs\n', yaml, files: { 'server.mjs': JOBS_SERVER } });
  app.write('runtime.mjs', readFileSync(new URL('../../dist/runtime/index.mjs', import.meta.url)));
  const setup = await mono(['setup'], { cwd: app.dir });
  assert.equal(setup.code, 0, setup.stderr);
  const first = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(first.code, 0, first.stderr);
  const get = (path: string): Promise<string> => boxSsh(box, `curl -s --max-time 5 'http://127.0.0.1:${port}${path}'`).then((r) => r.stdout.trim());
  return { app, port, v1: deployed(first.stdout), get };
}

/**
 * Load on the box for `seconds`: a loop with a new connection per request and keep-alive clients (50 requests per
 * connection); resolves with [answered 200, anything else] over both.
 */
async function loadFor(port: number, seconds: number): Promise<[number, number]> {
  const url = `http://127.0.0.1:${port}/`;
  const fresh = `end=$((SECONDS+${seconds})); ok=0; bad=0; while [ $SECONDS -lt $end ]; do c=$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 ${url}); if [ "$c" = 200 ]; then ok=$((ok+1)); else bad=$((bad+1)); fi; done; echo "$ok $bad"`;
  const urls = Array.from({ length: 50 }, () => url).join(' ');
  const kept = `end=$((SECONDS+${seconds})); ok=0; bad=0; while [ $SECONDS -lt $end ]; do for c in $(curl -s -w " code=%{http_code} " --max-time 10 ${urls}); do case "$c" in code=200) ok=$((ok+1)) ;; code=*) bad=$((bad+1)) ;; esac; done; done; echo "$ok $bad"`;
  const runs = await Promise.all([fresh, kept].map((script) => boxSsh(box, script, { timeoutMs: (seconds + 60) * 1000 })));
  return runs.map((r) => r.stdout.trim().split(' ').map(Number) as [number, number]).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
}

before(async () => {
  box = await bootBox('app');
});

test('socket: every version accepts on one socket systemd holds; a handover under load fails no request and the old version finishes its long job', async () => {
  const { app, port, v1, get } = await noProxyApp('sock', 'socket');
  assert.equal(await get('/'), `version 1 release ${v1}`);
  // systemd holds the socket; the web process has it as fd 3 (LISTEN_FDS) and as stdin; nginx has no site for the app.
  const held = await boxSsh(box, `systemctl is-active sock-public.socket; pid=$(systemctl show -P MainPID sock-web@${v1}); ss -ltnpH "sport = :${port}" | grep -o "pid=$pid,fd=[0-9]*" | sort; tr '\\0' '\\n' < /proc/$pid/environ | grep -E '^LISTEN_(FDS|FDNAMES)=' | sort; test -e /etc/nginx/sites-enabled/sock.conf && echo site || echo no-site`);
  const pid = (await boxSsh(box, `systemctl show -P MainPID sock-web@${v1}`)).stdout.trim();
  assert.deepEqual(held.stdout.trim().split('\n'), ['active', `pid=${pid},fd=0`, `pid=${pid},fd=3`, 'LISTEN_FDNAMES=public', 'LISTEN_FDS=1', 'no-site']);

  // A long request and a long job on v1, started before the handover.
  await boxSsh(box, `rm -f /tmp/sock-slow.out; (setsid sh -c "curl -s --max-time 60 'http://127.0.0.1:${port}/slow?ms=15000' > /tmp/sock-slow.out" >/dev/null 2>&1 &)`);
  assert.equal(await get('/job?ms=20000&tenant=acme'), `started on ${v1}`);

  const load = loadFor(port, 14);
  await new Promise((r) => setTimeout(r, 1500));
  app.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = deployed(second.stdout);
  const [ok, bad] = await load;
  assert.equal(bad, 0, `${bad} failed requests during the socket handover (${ok} answered)`);
  assert.ok(ok > 100, `the load ran (${ok} requests)`);
  assert.equal(await get('/'), `version 2 release ${v2}`);

  // v1 is draining, not killed: its long request and job finish, then it exits by itself.
  const during = (await boxSsh(box, `systemctl is-active sock-web@${v1}`)).stdout.trim();
  assert.equal(during, 'deactivating', 'v1 drains');
  const after = await boxSsh(box, `for i in $(seq 60); do [ "$(systemctl is-active sock-web@${v1})" = inactive ] && break; sleep 1; done; cat /tmp/sock-slow.out; echo; cat /srv/sock/shared/storage/jobs.log; systemctl show -P Result sock-web@${v1}; systemctl is-active sock-public.socket`, { timeoutMs: 90_000 });
  assert.deepEqual(after.stdout.trim().split('\n'), [`slow done on ${v1}`, `done ${v1} acme`, 'success', 'active']);
  assert.equal(await get('/'), `version 2 release ${v2}`, 'the socket outlives the version that first took it');

  // The health job asks the app where clients connect (there is no per-release socket to ask).
  const health = await mono(['cron', 'run', 'health'], { cwd: app.dir });
  assert.equal(health.code, 0, health.stderr);
  assert.match(health.stderr, new RegExp(`health: ok \\(\\d+ s, manual\\): GET /up: the app on 127\\.0\\.0\\.1:${port} answered 200 in \\d+ ms`));
});

test('socket: a new version that crashes at start is stopped; the old one never stopped accepting', async () => {
  const { app, port, v1, get } = await noProxyApp('sockbad', 'socket');
  app.write('server.mjs', "console.error('boom: cannot start'); process.exit(3);\n");
  const load = loadFor(port, 6);
  const bad = await mono(['deploy'], { cwd: app.dir });
  const [ok, failed] = await load;
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /the new web instance crashed while starting; nothing was switched, the previous release still serves/);
  assert.match(bad.stderr, /boom: cannot start/);
  assert.equal(failed, 0, `${failed} failed requests (${ok} answered)`);
  assert.equal(await get('/'), `version 1 release ${v1}`);
  const units = await boxSsh(box, `systemctl list-units --all --plain --no-legend 'sockbad-web@*' | awk '$3 == "active" {print $1}'`);
  assert.equal(units.stdout.trim(), `sockbad-web@${v1}.service`, `${port}`);
});

test('socket back to nginx: setup stops and removes the public socket; the running version accepts on its copy until a deploy behind nginx drains it', async () => {
  const { app, port, v1, get } = await noProxyApp('sockback', 'socket');
  assert.equal(await get('/job?ms=8000&tenant=acme'), `started on ${v1}`);
  const yml = join(app.dir, 'mono.yml');
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(/^ {2}strategy: socket\n {2}public_listen: .*\n/m, ''));
  const setup = await mono(['setup'], { cwd: app.dir });
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stderr, /^ {2}change +no public socket for sockback \(handover\.strategy: nginx\) \(\/etc\/systemd\/system\/sockback-public\.socket and \/etc\/systemd\/system\/sockback-public\.service installed\)$/m);
  const left = await boxSsh(box, `systemctl is-active sockback-public.socket; ls /etc/systemd/system | grep -c '^sockback-public\\.'; systemctl is-active sockback-web@${v1}`);
  assert.deepEqual(left.stdout.trim().split('\n'), ['inactive', '0', 'active']);
  assert.equal(await get('/'), `version 1 release ${v1}`, 'the running version still accepts on its own copy of the socket');

  app.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = deployed(second.stdout);
  const viaNginx = await boxSsh(box, `curl -s --max-time 5 http://127.0.0.1:${box.httpPort}/`);
  assert.equal(viaNginx.stdout.trim(), `version 2 release ${v2}`);
  // v1 finishes its job, exits by itself, and only then is the public port closed.
  const after = await boxSsh(box, `for i in $(seq 40); do [ "$(systemctl is-active sockback-web@${v1})" = inactive ] && break; sleep 1; done; cat /srv/sockback/shared/storage/jobs.log; systemctl show -P Result sockback-web@${v1}; curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:${port}/ || true`, { timeoutMs: 60_000 });
  assert.deepEqual(after.stdout.trim().split('\n'), [`done ${v1} acme`, 'success', '000']);
  const again = await mono(['setup'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^ {2}ok +no public socket for sockback/m);
});

test('bind-retry: the new version touches the shutdown file and takes the port over; the old one finishes its job and exits', async (t) => {
  const { app, port, v1, get } = await noProxyApp('seed', 'bind-retry');
  assert.equal(await get('/'), `version 1 release ${v1}`);
  assert.equal(await get('/job?ms=12000&tenant=acme'), `started on ${v1}`);
  const load = loadFor(port, 10);
  await new Promise((r) => setTimeout(r, 1000));
  app.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = deployed(second.stdout);
  const [ok, bad] = await load;
  // Best effort by design: the port is closed for a moment. The count is reported, not asserted (bench/handover measures it).
  t.diagnostic(`bind-retry: ${bad} failed of ${ok + bad} requests during the handover`);
  assert.ok(ok > 50, `the load ran (${ok} requests)`);
  assert.equal(await get('/'), `version 2 release ${v2}`);
  const after = await boxSsh(box, `for i in $(seq 40); do [ "$(systemctl is-active seed-web@${v1})" = inactive ] && break; sleep 1; done; cat /srv/seed/shared/storage/jobs.log; systemctl show -P Result seed-web@${v1}; systemctl is-enabled seed-web@${v1}; cat /run/seed/shutdown.txt`, { timeoutMs: 60_000 });
  const [job, result, enabled, touchedBy] = after.stdout.trim().split('\n');
  assert.deepEqual([job, result, enabled], [`done ${v1} acme`, 'success', 'disabled'], 'v1 finished its job, exited by itself and does not come back at boot');
  const v2pid = (await boxSsh(box, `systemctl show -P MainPID seed-web@${v2}`)).stdout.trim();
  assert.equal(touchedBy, v2pid, 'the new version signalled the old one through the shutdown file');
});

test('config: per-tenant cutover with a strategy without a proxy is refused with a hint', async () => {
  const app = appProject(box, { app: 'tenantsock', yaml: 'handover:\n  strategy: socket\n  public_listen: 8080\n  tenant_key: header:X-Tenant\n' });
  const r = await mono(['deploy'], { cwd: app.dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /handover\.tenant_key: per-tenant cutover is not possible with handover\.strategy: socket/);
  assert.match(r.stderr, /use handover\.strategy: nginx for per-tenant cutover/);
});
