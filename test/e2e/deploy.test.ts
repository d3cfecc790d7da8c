// mono deploy against a real box: delta upload, verified release, env file, release command, activation, lock, audit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { appProject, JOBS_SERVER, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MONO, mono } from '../support/cli.js';

let box: BoxInfo;
let app: AppProject;

interface Done {
  type: string;
  id: string;
  sentBlobs: number;
  sentBytes: number;
  resent: number;
  files: number;
}

function doneEvent(stdout: string): Done {
  const done = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Done)
    .find((e) => e.type === 'deploy.done');
  assert.ok(done !== undefined, `no deploy.done event in ${stdout.slice(-500)}`);
  return done;
}

async function served(): Promise<string> {
  const r = await boxSsh(box, `curl -s --max-time 5 http://127.0.0.1:${box.httpPort}/`);
  return r.stdout.trim();
}

async function releaseDirs(): Promise<string[]> {
  const r = await boxSsh(box, 'ls /srv/shop/releases');
  return r.stdout.split('\n').filter(Boolean);
}

before(async () => {
  box = await bootBox('app');
  app = appProject(box, {
    procfile: 'web: node server.js\nrelease: node migrate.js\n',
    yaml: 'shared: [storage]\nenv_file: app.env\nrelease:\n  keep: 3\n',
    files: {
      'migrate.js': "require('node:fs').appendFileSync('storage/migrations.log', process.env.MONO_RELEASE + ' ' + process.env.GREETING + '\\n');\n",
      'app.env': 'GREETING=hello-secret-value\n',
      'lib/data.txt': 'some data\n'.repeat(1000),
      'bin/tool': '#!/bin/sh\necho tool\n',
    },
  });
  const { chmodSync } = await import('node:fs');
  chmodSync(`${app.dir}/bin/tool`, 0o755);
  app.write('.monoignore', 'mono.yml\n.monoignore\napp.env\n');
  const setup = await mono(['setup'], { cwd: app.dir });
  assert.equal(setup.code, 0, setup.stderr);
});

test('first deploy: the release is built, verified, migrated and serving through nginx', async () => {
  const r = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  const done = doneEvent(r.stdout);
  assert.match(done.id, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  assert.equal(await served(), `version 1 release ${done.id}`);
  const box_ = await boxSsh(
    box,
    [
      `readlink /srv/shop/current`,
      `stat -c '%a %U' /srv/shop/releases/${done.id}/server.js /srv/shop/releases/${done.id}/bin/tool /srv/shop/releases/${done.id} /srv/shop/shared/.env`,
      `readlink /srv/shop/releases/${done.id}/storage`,
      `cat /srv/shop/shared/storage/migrations.log`,
      `cat /srv/shop/releases/${done.id}/.mono/procs/web`,
      `systemctl is-enabled shop-web@${done.id}`,
      // The app wrote its pid into its control folder: it exists, belongs to the app user and is writable in the sandbox.
      `stat -c '%a %U' /srv/shop/.mono/instances/${done.id}/web`,
      `test "$(cat /srv/shop/.mono/instances/${done.id}/web/pid)" = "$(systemctl show -P MainPID shop-web@${done.id})" && echo pid-ok`,
    ].join(' && '),
  );
  assert.equal(box_.code, 0, box_.stderr);
  assert.deepEqual(box_.stdout.split('\n'), [
    `releases/${done.id}`,
    '444 shop',
    '555 shop',
    '555 shop',
    '600 shop',
    '/srv/shop/shared/storage',
    `${done.id} hello-secret-value`,
    '#!/bin/sh',
    `# written by mono for release ${done.id}`,
    'exec node server.js',
    'enabled',
    '750 shop',
    'pid-ok',
  ]);
  assert.ok(!r.stdout.includes('hello-secret-value') && !r.stderr.includes('hello-secret-value'), 'the env file never appears in output');
  const releases = await mono(['releases'], { cwd: app.dir });
  assert.equal(releases.code, 0, releases.stderr);
  assert.match(releases.stdout, new RegExp(`^\\*\\s+${done.id}\\s+web:active`, 'm'));
});

test('a redeploy with one changed file sends only that file and switches without a reload', async () => {
  const before_ = await mono(['releases', '--json'], { cwd: app.dir });
  app.write('VERSION', '2\n');
  const r = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  const done = doneEvent(r.stdout);
  assert.equal(done.sentBlobs, 1, 'only the changed file is sent');
  assert.ok(done.sentBytes < 2000, `sent ${done.sentBytes} bytes`);
  assert.equal(await served(), `version 2 release ${done.id}`);
  const old = (JSON.parse(before_.stdout) as { releases: { id: string; current: boolean }[] }).releases.find((x) => x.current);
  assert.ok(old !== undefined);
  const units = await boxSsh(box, `sleep 1; systemctl is-active shop-web@${old.id} shop-web@${done.id}; systemctl is-enabled shop-web@${old.id}`);
  assert.deepEqual(units.stdout.split('\n'), ['inactive', 'active', 'disabled'], 'the old instance is retired and not started at boot');
});

/** Requests nginx with a new connection each for `seconds`, on the box; resolves with [answered 200, anything else]. */
/** Keep-alive clients: each curl sends 50 requests one after another on one connection (bodies are skipped: only "code=" words count). */
function keepAliveLoadFor(seconds: number, host: string, tenant: string): Promise<[number, number]> {
  const urls = Array.from({ length: 50 }, () => `http://127.0.0.1:${box.httpPort}/`).join(' ');
  const script = `end=$((SECONDS+${seconds})); ok=0; bad=0; while [ $SECONDS -lt $end ]; do for c in $(curl -s -w " code=%{http_code} " --max-time 10 -H 'Host: ${host}' -H 'X-Tenant: ${tenant}' ${urls}); do case "$c" in code=200) ok=$((ok+1)) ;; code=*) bad=$((bad+1)) ;; esac; done; done; echo "$ok $bad"`;
  return boxSsh(box, script, { timeoutMs: (seconds + 30) * 1000 }).then((r) => r.stdout.trim().split(' ').map(Number) as [number, number]);
}

function loadFor(seconds: number, host = 'localhost'): Promise<[number, number]> {
  const script = `end=$((SECONDS+${seconds})); ok=0; bad=0; while [ $SECONDS -lt $end ]; do c=$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -H 'Host: ${host}' http://127.0.0.1:${box.httpPort}/); if [ "$c" = 200 ]; then ok=$((ok+1)); else bad=$((bad+1)); fi; done; echo "$ok $bad"`;
  return boxSsh(box, script, { timeoutMs: (seconds + 30) * 1000 }).then((r) => r.stdout.trim().split(' ').map(Number) as [number, number]);
}

test('rollback goes back to the release active before, under load with no failed request; a bad target is a clear error', async () => {
  const list = async (): Promise<{ id: string; current: boolean }[]> =>
    (JSON.parse((await mono(['releases', '--json'], { cwd: app.dir })).stdout) as { releases: { id: string; current: boolean }[] }).releases;
  const before_ = await list();
  const current = before_.find((r) => r.current)!.id;
  const servedBefore = await served();

  // Longer than the rollback with its verify window.
  const load = loadFor(12);
  await new Promise((r) => setTimeout(r, 1000));
  const r = await mono(['rollback', '--json', '-m', 'bad release'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  const [ok, bad] = await load;
  assert.equal(bad, 0, `${bad} failed requests during the rollback (${ok} answered)`);
  assert.ok(ok > 20, `the load ran (${ok} requests)`);
  const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string; from: string }).find((e) => e.type === 'rollback.done');
  assert.ok(done !== undefined && done.from === current && done.id !== current);
  assert.match(await served(), new RegExp(`release ${done.id}$`));
  assert.notEqual(await served(), servedBefore);
  const audit = await mono(['audit', '--json'], { cwd: app.dir });
  assert.match(audit.stdout, new RegExp(`"action":"rollback","release":"${done.id}","from":"${current}"`));

  // Rolling back again returns to the release we came from.
  const again = await mono(['rollback'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await served(), servedBefore);

  const unknown = await mono(['rollback', '20200101T000000Z-deadbeef'], { cwd: app.dir });
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /error: release 20200101T000000Z-deadbeef is not on the box\nhint: pick one that `mono releases` lists/);
  const same = await mono(['rollback', current], { cwd: app.dir });
  assert.equal(same.code, 2);
  assert.match(same.stderr, /is already the current release/);
  const garbage = await mono(['rollback', '../../etc'], { cwd: app.dir });
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /is not a release id/);
});

/** An app on mono/runtime: GET /job?ms=&tenant= starts a job that appends "done <release> <tenant>" to storage/jobs.log. */

/** A project for JOBS_SERVER on mono/runtime, with its own server name, set up and deployed once. */
async function runtimeApp(name: string, yaml: string): Promise<{ app: AppProject; v1: string }> {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const project = appProject(box, { app: name, procfile: 'web: node server.mjs\n', yaml: `shared: [storage]\n${yaml}`, files: { 'server.mjs': JOBS_SERVER } });
  project.write('runtime.mjs', readFileSync(new URL('../../dist/runtime/index.mjs', import.meta.url)));
  const yml = `${project.dir}/mono.yml`;
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(/nginx:\n  listen: (.*)\n/, `nginx:\n  listen: $1\n  server_names: [${name}.test]\n`));
  assert.equal((await mono(['setup'], { cwd: project.dir })).code, 0);
  const first = await mono(['deploy', '--json'], { cwd: project.dir });
  assert.equal(first.code, 0, first.stderr);
  return { app: project, v1: doneEvent(first.stdout).id };
}

test('the old version finishes a running job after two more deploys, then exits cleanly on its own (mono/runtime)', async () => {
  const { app: jobs, v1 } = await runtimeApp('jobs', 'handover:\n  drain_timeout: 5m\n');
  const curl = (path: string): Promise<string> => boxSsh(box, `curl -s --max-time 5 -H 'Host: jobs.test' 'http://127.0.0.1:${box.httpPort}${path}'`).then((r) => r.stdout.trim());

  // Long enough to outlast the second deploy on a busy machine.
  assert.equal(await curl('/job?ms=45000&tenant=acme'), `started on ${v1}`);
  const load = loadFor(12, 'jobs.test');
  jobs.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: jobs.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = doneEvent(second.stdout).id;
  assert.equal(await curl('/'), `version 2 release ${v2}`, 'new requests reach v2 at once');
  const during = await boxSsh(box, `systemctl is-active jobs-web@${v1}; cat /srv/jobs/.mono/instances/${v1}/web/busy.json; cat /srv/jobs/shared/storage/jobs.log 2>/dev/null; true`);
  const [state, busyJson] = during.stdout.split('\n');
  assert.equal(state, 'deactivating', 'v1 is draining, not killed');
  const busy = JSON.parse(busyJson!) as { draining: boolean; tenants: Record<string, number> };
  assert.deepEqual([busy.draining, busy.tenants], [true, { acme: 1 }]);
  assert.ok(!during.stdout.includes('done'), 'the job is still running');

  const [ok, bad] = await load;
  assert.equal(bad, 0, `${bad} failed requests during the deploy (${ok} answered)`);

  // A third release while v1 still drains: three versions alive at once, v3 serves, v2 retires, v1 keeps its job.
  jobs.write('VERSION', '3\n');
  const third = await mono(['deploy', '--json'], { cwd: jobs.dir });
  assert.equal(third.code, 0, third.stderr);
  const v3 = doneEvent(third.stdout).id;
  assert.equal(await curl('/'), `version 3 release ${v3}`);
  const three = await boxSsh(box, `systemctl is-active jobs-web@${v1} jobs-web@${v3}; cat /srv/jobs/shared/storage/jobs.log 2>/dev/null; true`);
  assert.deepEqual(three.stdout.split('\n').slice(0, 2), ['deactivating', 'active'], three.stdout);
  const glance = await mono(['status'], { cwd: jobs.dir });
  assert.match(glance.stdout, new RegExp(`jobs-web@${v1}  deactivating  \\(draining: finishing its work, exits by itself\\)`), glance.stdout);
  assert.ok(!three.stdout.includes('done'), 'the job on v1 is still running');

  // The job finishes on v1, then v1 exits by itself: status 0, not a kill.
  const after = await boxSsh(box, `for i in $(seq 1 200); do [ "$(systemctl is-active jobs-web@${v1})" = inactive ] && break; sleep 0.2; done; cat /srv/jobs/shared/storage/jobs.log; systemctl show -P Result,ExecMainStatus jobs-web@${v1}`, { timeoutMs: 60_000 });
  // Result=success and status 0: it exited by itself (a kill at the stop timeout would show Result=timeout or signal).
  assert.deepEqual(after.stdout.split('\n'), [`done ${v1} acme`, 'success', '0'], after.stdout);
  await boxSsh(box, 'systemctl stop "jobs-*@*"; true');
});

test('a failing health check leaves the previous release serving and shows the log', async () => {
  const previous = await served();
  app.write('server.js', "console.error('boom: cannot start'); process.exit(3);\n");
  const r = await mono(['deploy'], { cwd: app.dir });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: the new web instance crashed while starting; nothing was switched, the previous release still serves/);
  assert.match(r.stderr, /boom: cannot start/);
  assert.match(r.stderr, /hint: /);
  assert.equal(await served(), previous);
  const { SERVER_JS } = await import('../support/app.js');
  app.write('server.js', SERVER_JS);
});

test('deploy --wait returns only once the old instance has finished its job and exited by itself', async () => {
  const { app: waiter, v1 } = await runtimeApp('waiter', 'handover:\n  verify_window: 1s\n');
  const job = await boxSsh(box, `curl -s --max-time 5 -H 'Host: waiter.test' 'http://127.0.0.1:${box.httpPort}/job?ms=12000&tenant=acme'`);
  assert.equal(job.stdout.trim(), `started on ${v1}`);

  waiter.write('VERSION', '2\n');
  const second = await mono(['deploy', '--wait', '--json'], { cwd: waiter.dir });
  assert.equal(second.code, 0, second.stderr);
  const drained = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; instances?: { unit: string; result: string }[] }).find((e) => e.type === 'drain.done');
  assert.deepEqual(drained?.instances?.map((d) => [d.unit, d.result]), [[`waiter-web@${v1}.service`, 'success']]);
  // When --wait returns, the job is done and the old instance is gone.
  const after = await boxSsh(box, `cat /srv/waiter/shared/storage/jobs.log; systemctl is-active waiter-web@${v1} || true`);
  assert.deepEqual(after.stdout.split('\n'), [`done ${v1} acme`, 'inactive']);
  await boxSsh(box, 'systemctl stop "waiter-*@*"; true');
});

test('a new release that crashes just after the switch is switched back automatically; the old one never stopped', async () => {
  const previous = await served();
  const { SERVER_JS } = await import('../support/app.js');
  // Healthy at first, then gone 3 s after it started: after the switch, inside the 5 s verify window.
  app.write('server.js', SERVER_JS + "setTimeout(() => { console.error('late crash'); process.exit(7); }, 3000);\n");
  const r = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: the new web instance crashed within 5 s after the switch; traffic went back to \S+, which still serves/);
  assert.match(r.stderr, /late crash/);
  assert.equal(await served(), previous, 'the previous release serves again');
  const audit = await mono(['audit', '--json'], { cwd: app.dir });
  assert.match(audit.stdout, /"action":"switch back"/);
  const live = await boxSsh(box, "systemctl list-units --plain --no-legend --state=active 'shop-web@*' | wc -l");
  assert.equal(live.stdout.trim(), '1', 'only the old instance runs');
  app.write('server.js', SERVER_JS);
});

test('a failing release command stops the deploy before the switch', async () => {
  const previous = await served();
  app.write('migrate.js', "console.log('migrating…'); console.error('migration 42 failed'); process.exit(1);\n");
  const r = await mono(['deploy'], { cwd: app.dir });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: the release command failed; nothing was switched, the previous release still serves/);
  assert.match(r.stderr, /migration 42 failed/);
  assert.equal(await served(), previous);
  app.write('migrate.js', "require('node:fs').appendFileSync('storage/migrations.log', process.env.MONO_RELEASE + '\\n');\n");
});

test('a missing build folder and a failing build command stop before anything reaches the box', async () => {
  const releases = await releaseDirs();
  const missing = await mono(['deploy', '--from', '/nonexistent/build'], { cwd: app.dir });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /error: the build folder \/nonexistent\/build does not exist/);
  const failing = appProject(box, { yaml: 'release:\n  build: "echo compiling; echo broken >&2; exit 4"\n' });
  const r = await mono(['deploy'], { cwd: failing.dir });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: the build command failed with status 4: echo compiling/);
  assert.match(r.stderr, /broken/);
  assert.deepEqual(await releaseDirs(), releases);
});

test('links pointing outside the release are refused, naming each one', async () => {
  const { symlinkSync } = await import('node:fs');
  const evil = appProject(box);
  symlinkSync('../../etc/passwd', `${evil.dir}/escape`);
  symlinkSync('/etc/shadow', `${evil.dir}/absolute`);
  const r = await mono(['deploy'], { cwd: evil.dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: the release has 2 links that point outside it/);
  assert.match(r.stderr, /absolute -> \/etc\/shadow/);
  assert.match(r.stderr, /escape -> \.\.\/\.\.\/etc\/passwd/);
});

test('corrupted blobs are rejected by the box and sent again', async () => {
  app.write('lib/new-a.bin', randomBytes(50_000));
  app.write('lib/new-b.bin', randomBytes(50_000));
  const r = await mono(['deploy', '--json'], { cwd: app.dir, env: { MONO_FAULT_CORRUPT_BLOBS: '2' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /2 blobs failed verification on the box and will be sent again/);
  const done = doneEvent(r.stdout);
  assert.equal(done.resent, 2);
  const check = await boxSsh(box, `cd /srv/shop/releases/${done.id} && sha256sum lib/new-a.bin lib/new-b.bin`);
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  for (const name of ['new-a.bin', 'new-b.bin']) {
    assert.ok(check.stdout.includes(`${createHash('sha256').update(readFileSync(`${app.dir}/lib/${name}`)).digest('hex')}  lib/${name}`));
  }
});

test('two deploys at once: the second fails at once naming the holder, --wait-lock waits', async () => {
  app.write('migrate.js', "setTimeout(() => {}, 6000);\n");
  app.write('VERSION', '3\n');
  const first = mono(['deploy', '-m', 'slow migration'], { cwd: app.dir });
  const deadline = Date.now() + 60_000;
  while ((await boxSsh(box, 'test -d /srv/shop/.mono/lock')).code !== 0) {
    assert.ok(Date.now() < deadline, 'the first deploy never took the lock');
    await new Promise((r) => setTimeout(r, 200));
  }
  const second = await mono(['deploy'], { cwd: app.dir });
  assert.equal(second.code, 7, second.stderr);
  assert.match(second.stderr, /error: the app is locked by \S+@\S+ \(deploy of \d{8}T\d{6}Z-[0-9a-f]{8}, since .*: "slow migration"\)/);
  assert.match(second.stderr, /hint: wait for it to finish, or run again with --wait-lock/);
  const third = await mono(['deploy', '--wait-lock'], { cwd: app.dir });
  const firstResult = await first;
  assert.equal(firstResult.code, 0, firstResult.stderr);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /waiting for the lock held by/);
  app.write('migrate.js', "require('node:fs').appendFileSync('storage/migrations.log', process.env.MONO_RELEASE + '\\n');\n");
});

test('a stale lock is reported with a hint and can be cleared with --force', async () => {
  const plant = await boxSsh(
    box,
    `install -d -m 700 -o shop -g shop /srv/shop/.mono/lock && printf '%s' '{"by":"ghost@laptop","from":"laptop","since":"2026-01-01T00:00:00.000Z","operation":"deploy","token":"t","pid":999999}' > /srv/shop/.mono/lock/info.json && chown shop:shop /srv/shop/.mono/lock/info.json`,
  );
  assert.equal(plant.code, 0, plant.stderr);
  const status = await mono(['lock', 'status'], { cwd: app.dir });
  assert.match(status.stdout, /locked by ghost@laptop \(deploy, since 2026-01-01T00:00:00.000Z\) — its process is gone, so the lock is stale/);
  const r = await mono(['deploy'], { cwd: app.dir });
  assert.equal(r.code, 7);
  assert.match(r.stderr, /hint: .*mono lock release --force/);
  const plain = await mono(['lock', 'release'], { cwd: app.dir });
  assert.equal(plain.code, 7, 'a lock with another token needs --force');
  const forced = await mono(['lock', 'release', '--force'], { cwd: app.dir });
  assert.equal(forced.code, 0, forced.stderr);
  const after = await mono(['lock', 'status'], { cwd: app.dir });
  assert.equal(after.stdout.trim(), 'unlocked');
  const audit = await mono(['audit', '--json', '--lines', '50'], { cwd: app.dir });
  const actions = audit.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
  for (const action of ['setup', 'release', 'env', 'activate', 'lock forced']) assert.ok(actions.includes(action), `audit has ${action}: ${actions.join(',')}`);
});

test('a lock taken by hand blocks deploys until its owner releases it (no --force needed for your own)', async () => {
  const take = await mono(['lock', 'acquire', '-m', 'maintenance window'], { cwd: app.dir });
  assert.equal(take.code, 0, take.stderr);
  const blocked = await mono(['deploy'], { cwd: app.dir });
  assert.equal(blocked.code, 7);
  assert.match(blocked.stderr, /locked by \S+ \(manual lock, since .*: "maintenance window"\)/);
  const release = await mono(['lock', 'release'], { cwd: app.dir });
  assert.equal(release.code, 0, release.stderr);
  const again = await mono(['lock', 'release'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /the app was not locked/);
  const status = await mono(['lock', 'status', '--json'], { cwd: app.dir });
  assert.deepEqual(JSON.parse(status.stdout), { type: 'lock.status', locked: false });
});

test('old releases are pruned to release.keep, never the current one, and unused blobs go', async () => {
  const r = await mono(['releases', 'prune', '--dry-run'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  const dirs = await releaseDirs();
  assert.ok(dirs.length <= 3 + 1, `at most keep(3) releases plus partials: ${dirs.join(' ')}`);
  const current = (await boxSsh(box, 'readlink /srv/shop/current')).stdout.replace('releases/', '');
  assert.ok(dirs.includes(current));
  const gc = await boxSsh(box, 'cd /srv/shop && for m in releases/*/.mono/manifest.json; do grep -o "[0-9a-f]\\{64\\}" "$m"; done | sort -u > /tmp/used; find .mono/store -type f ! -name "*.x" -printf "%f\\n" | grep -v partial | sort -u > /tmp/have; comm -13 /tmp/used /tmp/have | wc -l');
  assert.equal(gc.stdout.trim(), '0', 'no blob in the store is unused by a kept release');
});

test('per-tenant cutover: a busy tenant stays on the old version until its job is done; other tenants move at once', async () => {
  const { app: multi, v1 } = await runtimeApp('multi', 'handover:\n  tenant_key: header:X-Tenant\n  verify_window: 1s\n');
  const curl = (path: string, tenant?: string): Promise<string> =>
    boxSsh(box, `curl -s --max-time 5 -H 'Host: multi.test' ${tenant === undefined ? '' : `-H 'X-Tenant: ${tenant}'`} 'http://127.0.0.1:${box.httpPort}${path}'`).then((r) => r.stdout.trim());
  assert.equal(await curl('/job?ms=30000&tenant=acme', 'acme'), `started on ${v1}`);

  // Load through the deploy: new connections (no tenant) and keep-alive connections (tenant globex).
  const fresh = loadFor(10, 'multi.test');
  const pooled = keepAliveLoadFor(10, 'multi.test', 'globex');
  multi.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: multi.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = doneEvent(second.stdout).id;
  const states = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; pins?: { tenant: string; release: string }[] });
  const pinned = states.find((e) => e.type === 'handover.state' && e.phase === 'pinned');
  assert.deepEqual(pinned?.pins?.map((p) => [p.tenant, p.release]), [['acme', v1]], 'deploy returns with acme pinned to v1');
  // acme (busy) stays on v1; everyone else is on v2 at once, including requests without a key or with a hostile one.
  assert.equal(await curl('/', 'acme'), `version 1 release ${v1}`);
  assert.equal(await curl('/', 'globex'), `version 2 release ${v2}`);
  assert.equal(await curl('/'), `version 2 release ${v2}`);
  assert.equal(await curl('/', `../${v1}`), `version 2 release ${v2}`, 'a key with "/" is not a route');
  assert.equal(await curl('/', '..'), `version 2 release ${v2}`);

  const status = await mono(['handover', 'status'], { cwd: multi.dir });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`deploy ${v1} → ${v2}  pinned \\(runner running\\)`));
  assert.match(status.stdout, new RegExp(`pinned: tenant acme → ${v1} for \\d+s`));
  const v1Active = await boxSsh(box, `systemctl is-active multi-web@${v1}`);
  assert.equal(v1Active.stdout.trim(), 'active', 'v1 is not told to drain while a tenant is pinned to it');
  const glance = await mono(['status'], { cwd: multi.dir });
  assert.equal(glance.code, 0, glance.stderr);
  assert.match(glance.stdout, new RegExp(`current release: ${v2}`));
  assert.match(glance.stdout, new RegExp(`multi-web@${v1}  active  \\(serving pinned tenants, or waiting to drain\\)`));
  assert.match(glance.stdout, new RegExp(`pinned: tenant acme → ${v1} for \\d+s`));
  for (const [kind, load] of [['new-connection', fresh], ['keep-alive', pooled]] as const) {
    const [ok, bad] = await load;
    assert.equal(bad, 0, `${bad} failed ${kind} requests during the deploy (${ok} answered)`);
    assert.ok(ok > 20, `the ${kind} load ran (${ok} requests)`);
  }

  // The job ends: acme moves to v2, then v1 drains and exits by itself.
  const follow = await mono(['handover', 'follow', '--json'], { cwd: multi.dir, timeoutMs: 120_000 });
  assert.equal(follow.code, 0, follow.stderr);
  const moved = follow.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; tenants?: string[] }).find((e) => e.type === 'tenants.moved');
  assert.deepEqual(moved?.tenants, ['acme']);
  assert.equal(await curl('/', 'acme'), `version 2 release ${v2}`);
  const after = await boxSsh(box, `cat /srv/multi/shared/storage/jobs.log; systemctl show -P Result multi-web@${v1}; systemctl is-active multi-web@${v1} || true`);
  assert.deepEqual(after.stdout.split('\n'), [`done ${v1} acme`, 'success', 'inactive'], after.stdout);
  const done = await mono(['handover', 'status', '--json'], { cwd: multi.dir });
  const newest = (JSON.parse(done.stdout) as { handovers: { phase: string; pins: unknown[]; drained: { result: string }[] }[] }).handovers[0]!;
  assert.deepEqual([newest.phase, newest.pins, newest.drained.map((d) => d.result)], ['done', [], ['success']]);
  await boxSsh(box, 'systemctl stop "multi-*@*"; true');
});

test('the handover goes on when the CLI is killed mid-handover; `mono handover status` reports it', async () => {
  const { app: orphan, v1 } = await runtimeApp('orphan', 'handover:\n  verify_window: 6s\n');
  orphan.write('VERSION', '2\n');
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [MONO, 'deploy'], { cwd: orphan.dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: mkdtempSync(join(tmpdir(), 'mono-home-')), NO_COLOR: '1' } });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Killed while the runner watches the new release (the verify window): the laptop closed, the connection is gone.
      if (/watching orphan-web@/.test(stderr)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`deploy ended before the handover was under way:\n${stderr}`)));
  });
  // The newest state file (this handover's) says "done" once the old release has drained.
  const poll = await boxSsh(box, `cd /srv/orphan/.mono/handover; for i in $(seq 1 150); do grep -q '"phase":"done"' "$(ls -t *.state.json | head -n 1)" && break; sleep 0.2; done; true`, { timeoutMs: 60_000 });
  assert.equal(poll.code, 0);
  const status = await mono(['handover', 'status', '--json'], { cwd: orphan.dir });
  assert.equal(status.code, 0, status.stderr);
  const h = (JSON.parse(status.stdout) as { handovers: { from: string; release: string; phase: string; running: boolean; switchMs: number }[] }).handovers[0]!;
  assert.equal(h.from, v1);
  assert.equal(h.phase, 'done');
  assert.equal(h.running, false);
  assert.ok(h.switchMs < 1000, `switched in ${h.switchMs} ms`);
  const served2 = await boxSsh(box, `curl -s --max-time 5 -H 'Host: orphan.test' http://127.0.0.1:${box.httpPort}/`);
  assert.equal(served2.stdout.trim(), `version 2 release ${h.release}`);
  const lock = await mono(['lock', 'status'], { cwd: orphan.dir });
  assert.equal(lock.stdout.trim(), 'unlocked', 'the runner released the lock');
  const audit = await mono(['audit', '--json'], { cwd: orphan.dir });
  assert.match(audit.stdout, new RegExp(`"action":"activate","release":"${h.release}","from":"${v1}"`));
  await boxSsh(box, 'systemctl stop "orphan-*@*"; true');
});

test('a web process that can only listen on TCP gets a loopback port per release, bridged to its socket; handovers fail no request', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const server = [
    "const http = require('node:http');",
    "const server = http.createServer((req, res) => res.end(req.url === '/up' ? 'up' : 'tcp ' + process.env.MONO_RELEASE));",
    "server.listen(Number(process.env.MONO_PORT), '127.0.0.1');",
    "process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });",
  ].join('\n');
  const tcp = appProject(box, { app: 'tcp', procfile: 'web: node server.js\n', yaml: 'handover:\n  listen: port\n  verify_window: 1s\n', files: { 'server.js': server } });
  const yml = `${tcp.dir}/mono.yml`;
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(/nginx:\n  listen: (.*)\n/, 'nginx:\n  listen: $1\n  server_names: [tcp.test]\n'));
  assert.equal((await mono(['setup'], { cwd: tcp.dir })).code, 0);
  const first = await mono(['deploy', '--json'], { cwd: tcp.dir });
  assert.equal(first.code, 0, first.stderr);
  const v1 = doneEvent(first.stdout).id;
  const get = (): Promise<string> => boxSsh(box, `curl -s --max-time 5 -H 'Host: tcp.test' http://127.0.0.1:${box.httpPort}/`).then((r) => r.stdout.trim());
  assert.equal(await get(), `tcp ${v1}`);
  // The app listens on the port in its listen.env; systemd holds the release's socket and forwards to it.
  const where = await boxSsh(box, `. /srv/tcp/.mono/instances/${v1}/listen.env; echo $MONO_PORT; ss -ltnpH "sport = :$MONO_PORT" | grep -c node; systemctl is-active tcp-bridge@${v1}.socket; stat -c '%F %U:%G' /run/tcp/${v1}.sock`);
  const [port, listening, bridge, sock] = where.stdout.trim().split('\n');
  assert.ok(Number(port) >= 20_000 && Number(port) < 30_000, `port ${port}`);
  assert.deepEqual([listening, bridge, sock], ['1', 'active', 'socket tcp:www-data']);

  const load = loadFor(8, 'tcp.test');
  tcp.write('server.js', `${server}\n// v2\n`);
  const second = await mono(['deploy', '--json'], { cwd: tcp.dir });
  assert.equal(second.code, 0, second.stderr);
  const v2 = doneEvent(second.stdout).id;
  const [ok, bad] = await load;
  assert.equal(bad, 0, `${bad} failed requests during the deploy (${ok} answered)`);
  assert.equal(await get(), `tcp ${v2}`);
  const old = await boxSsh(box, `sleep 1; systemctl is-active tcp-bridge@${v1}.socket tcp-web@${v1}; test -e /run/tcp/${v1}.sock && echo still-there || echo gone`);
  assert.deepEqual(old.stdout.trim().split('\n'), ['inactive', 'inactive', 'gone'], 'the old release and its bridge are gone');
  await boxSsh(box, 'systemctl stop "tcp-*@*"; true');
});

test('an upgraded connection (WebSocket) and a long poll open at the switch stay up on the old version until they end; then it exits', async () => {
  const { app: ws, v1 } = await runtimeApp('ws', 'handover:\n  verify_window: 1s\n');
  // On the box: a raw upgrade through nginx that listens for 16 s, then says bye; and a 12 s long poll.
  const client = [
    "const s = require('node:net').connect(" + box.httpPort + ", '127.0.0.1');",
    "s.write('GET /ws HTTP/1.1\\r\\nHost: ws.test\\r\\nUpgrade: mono-test\\r\\nConnection: Upgrade\\r\\n\\r\\n');",
    "let out = ''; s.on('data', (d) => (out += d));",
    "setTimeout(() => s.write('bye\\n'), 16000);",
    "s.on('close', () => require('node:fs').writeFileSync('/tmp/ws.out', out));",
  ].join('\n');
  await boxSsh(box, `rm -f /tmp/ws.out /tmp/slow.out; cat > /tmp/ws-client.js <<'EOF'\n${client}\nEOF\n(setsid node /tmp/ws-client.js >/dev/null 2>&1 &); (setsid sh -c "curl -s --max-time 30 -H 'Host: ws.test' 'http://127.0.0.1:${box.httpPort}/slow?ms=12000' > /tmp/slow.out" >/dev/null 2>&1 &)`);
  await new Promise((r) => setTimeout(r, 1500));
  ws.write('VERSION', '2\n');
  const second = await mono(['deploy', '--json'], { cwd: ws.dir });
  assert.equal(second.code, 0, second.stderr);
  const switchedAt = Date.parse((second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; time: string }).find((e) => e.type === 'deploy.done'))!.time);
  const v2 = doneEvent(second.stdout).id;
  const during = await boxSsh(box, `systemctl is-active ws-web@${v1}; curl -s -H 'Host: ws.test' http://127.0.0.1:${box.httpPort}/`);
  assert.deepEqual(during.stdout.trim().split('\n'), ['deactivating', `version 2 release ${v2}`], 'v1 drains while v2 serves');

  const after = await boxSsh(box, `for i in $(seq 1 150); do [ -s /tmp/ws.out ] && [ -s /tmp/slow.out ] && [ "$(systemctl is-active ws-web@${v1})" = inactive ] && break; sleep 0.2; done; cat /tmp/slow.out; echo; grep -c . /tmp/ws.out; grep '^tick' /tmp/ws.out | tail -n 1; systemctl show -P Result ws-web@${v1}`, { timeoutMs: 60_000 });
  const [slow, lines, lastTick, result] = after.stdout.trim().split('\n');
  assert.equal(slow, `slow done on ${v1}`, 'the long poll was answered by v1 after the switch');
  const [, release, at] = (lastTick ?? '').split(' ');
  assert.equal(release, v1, 'the upgraded connection stayed on v1');
  assert.ok(Number(at) > switchedAt + 3000, `v1 still sent on the upgraded connection well after the switch (${Number(at) - switchedAt} ms)`);
  assert.ok(Number(lines) >= 25, `the connection was never cut (${lines} lines)`);
  assert.equal(result, 'success', 'v1 exited by itself once both had ended');
  await boxSsh(box, 'systemctl stop "ws-*@*"; true');
});
