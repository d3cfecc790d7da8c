// mono agent check disk|tls|health|lock: the judges with made-up numbers, then statfs, real certificates and real HTTP servers.
// Every assert.ok has a message: without one, Node 20 parses tsx's one-line output to describe the failure, which takes minutes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { DISK_HINT, diskUsage, INODES_HINT, judgeDisk, type DiskStats } from '../../src/agent/checks/disk.js';
import { APP_HINT, checkHealth, NGINX_HINT } from '../../src/agent/checks/health.js';
import { judgeLock, STALE_HINT } from '../../src/agent/checks/lock.js';
import { reportCheck } from '../../src/agent/checks/result.js';
import { certificateExpiry, judgeTls, readCertificate, RENEW_HINT } from '../../src/agent/checks/tls.js';
import { lockStatus } from '../../src/agent/lock.js';
import { agentPaths } from '../../src/agent/paths.js';
import { Context } from '../../src/cli/context.js';
import { Logger } from '../../src/log/logger.js';
import type { LockInfo } from '../../src/release/protocol.js';

const DAY = 86_400_000;
const now = new Date('2026-12-01T12:00:00.000Z');
const thresholds = { maxUsedPercent: 90, maxInodesPercent: 90 };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mono-checks-'));
}

function fs(path: string, usedPercent: number, inodesUsedPercent = 10): DiskStats {
  return { path, totalBytes: 1000, availBytes: 1000 - usedPercent * 10, usedPercent, inodesTotal: 100, inodesFree: 100 - inodesUsedPercent, inodesUsedPercent };
}

// --- disk ------------------------------------------------------------------------------------------------------------------

test('judgeDisk: below the thresholds is ok and lists every filesystem', () => {
  const r = judgeDisk([fs('/', 41.2, 3.1), fs('/srv/shop', 89.9, 89.9)], thresholds);
  assert.equal(r.status, 'ok');
  assert.equal(r.check, 'disk');
  assert.equal(r.message, '/ 41.2% full, 3.1% of inodes used; /srv/shop 89.9% full, 89.9% of inodes used (thresholds 90% full, 90% of inodes)');
  assert.equal(r.hint, undefined);
});

test('judgeDisk: a filesystem over or exactly at a threshold fails, naming the path, the percentage and the threshold', () => {
  const over = judgeDisk([fs('/', 10), fs('/srv/shop', 93.1)], thresholds);
  assert.equal(over.status, 'fail');
  assert.equal(over.message, '/srv/shop is 93.1% full (threshold 90%)');
  assert.equal(over.hint, DISK_HINT);

  const at = judgeDisk([fs('/srv/shop', 90)], thresholds);
  assert.equal(at.status, 'fail');
  assert.equal(at.message, '/srv/shop is 90% full (threshold 90%)');

  const inodes = judgeDisk([fs('/srv/shop', 50, 95.5)], thresholds);
  assert.equal(inodes.status, 'fail');
  assert.equal(inodes.message, '/srv/shop has 95.5% of its inodes in use (threshold 90%)');
  assert.equal(inodes.hint, INODES_HINT);
});

test('diskUsage on real paths: sane numbers, one entry per filesystem, a missing path named as a failure', () => {
  const [root] = diskUsage(['/']);
  assert.ok(root !== undefined && !('error' in root), JSON.stringify(root));
  assert.equal(root.path, '/');
  assert.ok(root.totalBytes > 0 && root.availBytes >= 0 && root.availBytes <= root.totalBytes, JSON.stringify(root));
  assert.ok(root.usedPercent >= 0 && root.usedPercent <= 100, JSON.stringify(root));
  assert.equal(Math.round(root.usedPercent * 10), root.usedPercent * 10); // one decimal
  assert.ok(root.inodesFree <= root.inodesTotal && root.inodesUsedPercent >= 0 && root.inodesUsedPercent <= 100, JSON.stringify(root));

  const dir = tempDir();
  mkdirSync(join(dir, 'sub'));
  const same = diskUsage([dir, join(dir, 'sub'), tmpdir()]);
  assert.deepEqual(same.map((u) => u.path), [dir]);

  // /proc is another filesystem, with no blocks and no inode counts.
  const two = diskUsage(['/', '/proc', '/']);
  assert.deepEqual(two.map((u) => u.path), ['/', '/proc']);
  const proc = two[1];
  assert.ok(proc !== undefined && !('error' in proc), JSON.stringify(proc));
  assert.equal(proc.inodesTotal, 0);
  assert.equal(proc.inodesUsedPercent, 0);

  const missing = join(dir, 'nope');
  const withMissing = diskUsage([dir, missing]);
  assert.deepEqual(withMissing[1], { path: missing, error: 'does not exist' });
  const r = judgeDisk(withMissing, { maxUsedPercent: 100, maxInodesPercent: 100 });
  assert.equal(r.status, 'fail');
  assert.equal(r.message, `${missing} does not exist`);
});

// --- tls -------------------------------------------------------------------------------------------------------------------

const cert = (file: string, inDays: number): { file: string; subject: string; notAfter: string; daysLeft: number } => ({
  file,
  subject: 'CN=shop.example',
  notAfter: new Date(now.getTime() + inDays * DAY).toISOString(),
  daysLeft: Math.floor(inDays),
});

test('judgeTls: valid certificates are ok and the message names the first to expire', () => {
  const r = judgeTls([cert('/etc/a.pem', 90), cert('/etc/b.pem', 61), cert('/etc/c.pem', 200)], { warnDays: 14, now });
  assert.equal(r.status, 'ok');
  assert.equal(r.message, '3 certificates valid, the first to expire: /etc/b.pem in 61 days');
});

test('judgeTls: an expired certificate, or one expiring within warnDays, fails and names the file', () => {
  const soon = judgeTls([cert('/etc/a.pem', 90), cert('/etc/soon.pem', 3)], { warnDays: 14, now });
  assert.equal(soon.status, 'fail');
  assert.equal(soon.message, `/etc/soon.pem (CN=shop.example) expires in 3 days, on ${cert('', 3).notAfter} (warning at 14 days)`);
  assert.equal(soon.hint, RENEW_HINT);

  assert.equal(judgeTls([cert('/etc/soon.pem', 3)], { warnDays: 2, now }).status, 'ok');
  assert.equal(judgeTls([cert('/etc/edge.pem', 14)], { warnDays: 14, now }).status, 'fail');

  const expired = judgeTls([cert('/etc/old.pem', -2.5)], { warnDays: 14, now });
  assert.equal(expired.status, 'fail');
  assert.equal(expired.message, `/etc/old.pem (CN=shop.example) expired on ${cert('', -2.5).notAfter} (2 days ago)`);

  const unreadable = judgeTls([cert('/etc/a.pem', 90), { file: '/etc/x.pem', error: 'does not exist' }], { warnDays: 14, now });
  assert.equal(unreadable.status, 'fail');
  assert.equal(unreadable.message, '/etc/x.pem does not exist');
});

test('certificateExpiry reads a real certificate; garbage and unreadable files are failures naming the file', () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '5', '-subj', '/CN=t', '-keyout', 'k', '-out', 'c'], { cwd: dir, stdio: 'ignore' });
  const file = join(dir, 'c');
  const c = certificateExpiry(file);
  assert.equal(c.file, file);
  assert.equal(c.subject, 'CN=t');
  assert.match(c.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  const left = Date.parse(c.notAfter) - Date.now();
  assert.ok(left > 4.9 * DAY && left <= 5 * DAY, `notAfter ${c.notAfter}`);
  assert.equal(c.daysLeft, 4);
  assert.equal(judgeTls([c], { warnDays: 14, now: new Date() }).status, 'fail');
  assert.equal(judgeTls([c], { warnDays: 3, now: new Date() }).status, 'ok');

  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  assert.throws(() => certificateExpiry(garbage));
  const g = readCertificate(garbage);
  assert.ok('error' in g, JSON.stringify(g));
  assert.match(g.error, /^is not a PEM certificate: /);
  const r = judgeTls([g], { warnDays: 14, now });
  assert.equal(r.status, 'fail');
  assert.ok(r.message.startsWith(`${garbage} is not a PEM certificate: `), r.message);

  const folder = join(dir, 'folder.pem');
  mkdirSync(folder);
  const f = readCertificate(folder);
  assert.ok('error' in f, JSON.stringify(f));
  assert.match(f.error, /^cannot be read: EISDIR/);
  assert.deepEqual(readCertificate(join(dir, 'nope')), { file: join(dir, 'nope'), error: 'does not exist' });
});

// --- health ----------------------------------------------------------------------------------------------------------------

/** A server answering every request with `status`; `never` accepts requests and never answers. */
async function serve(where: string | 0, status: number | 'never', seen: IncomingMessage[] = []): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    seen.push(req);
    // Hangs up after 3 s, so that a check without a working timeout fails instead of waiting forever.
    if (status === 'never') return void setTimeout(() => req.socket.destroy(), 3000).unref();
    res.writeHead(status).end('hi');
  });
  await new Promise<void>((resolve) => server.listen(where === 0 ? { port: 0, host: '127.0.0.1' } : { path: where }, resolve));
  server.unref(); // a failed assertion must not leave the test process waiting on it
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve())); // also when closed already
}

test('checkHealth: ok when the socket and nginx both answer 2xx; the Host header reaches nginx', async () => {
  const socketPath = join(tempDir(), 'current.sock');
  const seen: IncomingMessage[] = [];
  const app = await serve(socketPath, 200);
  const nginx = await serve(0, 204, seen);
  try {
    const r = await checkHealth({ socketPath, path: '/health', timeoutMs: 2000, nginx: { port: nginx.port, host: 'shop.example' } });
    assert.equal(r.status, 'ok', r.message);
    assert.match(r.message, new RegExp(`^GET /health: the app on ${socketPath} answered 200 in \\d+ ms, nginx on 127\\.0\\.0\\.1:${nginx.port} \\(Host shop\\.example\\) answered 204 in \\d+ ms$`));
    assert.equal(seen[0]?.headers.host, 'shop.example');
    assert.equal(seen[0]?.url, '/health');

    const appOnly = await checkHealth({ socketPath, path: '/health', timeoutMs: 2000 });
    assert.equal(appOnly.status, 'ok');
    assert.deepEqual((appOnly.details as { probes: { via: string }[] }).probes.map((p) => p.via), ['app']);
  } finally {
    await close(app.server);
    await close(nginx.server);
  }
});

test('checkHealth over HTTPS: nginx with TLS is asked on its HTTPS port with the Host as server name (a self-signed certificate is no failure)', async () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '5', '-subj', '/CN=shop.example', '-keyout', 'k', '-out', 'c'], { cwd: dir, stdio: 'ignore' });
  const socketPath = join(dir, 'current.sock');
  const app = await serve(socketPath, 200);
  const names: string[] = [];
  const nginx = createHttpsServer({ key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')), SNICallback: (name, cb) => { names.push(name); cb(null); } }, (req, res) => res.writeHead(req.headers.host === 'shop.example' ? 200 : 421).end());
  await new Promise<void>((resolve) => nginx.listen({ port: 0, host: '127.0.0.1' }, resolve));
  nginx.unref();
  const port = (nginx.address() as AddressInfo).port;
  try {
    const r = await checkHealth({ socketPath, path: '/health', timeoutMs: 2000, nginx: { port, host: 'shop.example', tls: true } });
    assert.equal(r.status, 'ok', r.message);
    assert.match(r.message, new RegExp(`nginx on https://127\\.0\\.0\\.1:${port} \\(Host shop\\.example\\) answered 200`));
    assert.deepEqual(names, ['shop.example']);
    const plain = await checkHealth({ socketPath, path: '/health', timeoutMs: 2000, nginx: { port, host: 'shop.example' } });
    assert.equal(plain.status, 'fail', 'plain HTTP to a TLS port is no answer');
  } finally {
    await close(app.server);
    nginx.closeAllConnections();
    nginx.close();
  }
});

test('checkHealth: a 500, a missing socket, a refused port and a timeout each fail and say which and how', { timeout: 10_000 }, async () => {
  const dir = tempDir();
  const socketPath = join(dir, 'current.sock');
  const goodSocket = join(dir, 'good.sock');
  const app = await serve(socketPath, 500);
  const good = await serve(goodSocket, 200);
  const nginx = await serve(0, 200);
  const silent = await serve(0, 'never');
  try {
    const bad = await checkHealth({ socketPath, path: '/health', timeoutMs: 2000, nginx: { port: nginx.port } });
    assert.equal(bad.status, 'fail');
    assert.equal(bad.message, `the app on ${socketPath} answered GET /health with 500`);
    assert.equal(bad.hint, APP_HINT);

    const missing = join(dir, 'gone.sock');
    const none = await checkHealth({ socketPath: missing, path: '/health', timeoutMs: 2000 });
    assert.equal(none.status, 'fail');
    assert.equal(none.message, `no current release is serving (the socket ${missing} is missing)`);

    const started = Date.now();
    const slow = await checkHealth({ socketPath: goodSocket, path: '/health', timeoutMs: 300, nginx: { port: silent.port, host: 'shop.example' } });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal(slow.status, 'fail');
    assert.equal(slow.message, `nginx on 127.0.0.1:${silent.port} (Host shop.example) did not answer GET /health within 300 ms`);

    await close(nginx.server);
    const refused = await checkHealth({ socketPath: goodSocket, path: '/health', timeoutMs: 2000, nginx: { port: nginx.port } });
    assert.equal(refused.status, 'fail');
    assert.equal(refused.message, `nginx on 127.0.0.1:${nginx.port} could not be reached for GET /health (ECONNREFUSED)`);
    assert.equal(refused.hint, NGINX_HINT);
  } finally {
    for (const s of [app, good, nginx, silent]) await close(s.server);
  }
});

// --- lock ------------------------------------------------------------------------------------------------------------------

const holder: LockInfo = { by: 'ann@laptop', from: '10.0.0.5', since: new Date(now.getTime() - 3 * 3_600_000).toISOString(), operation: 'deploy', token: 't', pid: 4242 };

test('judgeLock: free and briefly held are ok, held too long warns, a stale holder fails', () => {
  const maxHeldMs = 2 * 3_600_000;
  const free = judgeLock({ locked: false }, { maxHeldMs, now });
  assert.deepEqual([free.status, free.message], ['ok', 'the deploy lock is free']);

  const brief = judgeLock({ locked: true, holder: { ...holder, since: new Date(now.getTime() - 60_000).toISOString() }, stale: false }, { maxHeldMs, now });
  assert.equal(brief.status, 'ok');
  assert.match(brief.message, /^the deploy lock is held by ann@laptop from 10\.0\.0\.5 for deploy since /);

  const atLimit = judgeLock({ locked: true, holder: { ...holder, since: new Date(now.getTime() - maxHeldMs).toISOString() }, stale: false }, { maxHeldMs, now });
  assert.equal(atLimit.status, 'ok');

  const long = judgeLock({ locked: true, holder: { ...holder, release: 'r1' }, stale: false }, { maxHeldMs, now });
  assert.equal(long.status, 'warning');
  assert.equal(long.message, `the deploy lock has been held for 3h00m (more than 2h00m) by ann@laptop from 10.0.0.5 for deploy of r1 since ${holder.since}`);

  const stale = judgeLock({ locked: true, holder, stale: true }, { maxHeldMs, now });
  assert.equal(stale.status, 'fail');
  assert.equal(stale.message, `the deploy lock is stale: held by ann@laptop from 10.0.0.5 for deploy since ${holder.since}, and its process 4242 is gone`);
  assert.equal(stale.hint, STALE_HINT);
});

test('a lock left by a process that is gone is judged stale from the real lock folder', async () => {
  const paths = agentPaths(tempDir());
  mkdirSync(paths.lockDir, { recursive: true });
  const pid = spawnSync('true').pid;
  writeFileSync(paths.lockInfo, JSON.stringify({ ...holder, since: new Date().toISOString(), pid }));
  const r = judgeLock(await lockStatus(paths), { maxHeldMs: 3_600_000, now: new Date() });
  assert.equal(r.status, 'fail');
  assert.match(r.message, new RegExp(`^the deploy lock is stale: held by ann@laptop .* its process ${pid} is gone$`));
});

// --- output ----------------------------------------------------------------------------------------------------------------

function capture(): { ctx: Context; out: () => string; err: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const ctx = new Context({ dryRun: false, json: false, verbose: false, yes: false }, new Logger({ json: false, verbose: false, out, err }));
  return { ctx, out: () => String(out.read() ?? ''), err: () => String(err.read() ?? '') };
}

test('reportCheck: one JSON line on stdout, the message and hint on stderr, exit 5 only for a failure', () => {
  const failed = capture();
  const result = { check: 'disk', status: 'fail', message: '/srv/shop is 93.1% full (threshold 90%)', hint: DISK_HINT, details: { x: 1 } } as const;
  assert.equal(reportCheck(failed.ctx, result), 5);
  assert.equal(failed.out(), JSON.stringify(result) + '\n');
  assert.equal(failed.err(), `error: /srv/shop is 93.1% full (threshold 90%)\nhint: ${DISK_HINT}\n`);

  const warned = capture();
  assert.equal(reportCheck(warned.ctx, { check: 'lock', status: 'warning', message: 'held long', details: null }), 0);
  assert.equal(warned.err(), 'warning: held long\n');

  const ok = capture();
  assert.equal(reportCheck(ok.ctx, { check: 'lock', status: 'ok', message: 'the deploy lock is free', details: null }), 0);
  assert.equal(ok.err(), 'the deploy lock is free\n');
});

test('mono agent check … through the CLI: the JSON line and the exit status', () => {
  const repo = new URL('../..', import.meta.url).pathname;
  const root = tempDir();
  const mono = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'agent', 'check', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const lock = mono(['lock', '--root', root]);
  assert.equal(lock.status, 0, lock.stderr);
  assert.deepEqual(JSON.parse(lock.stdout), { check: 'lock', status: 'ok', message: 'the deploy lock is free', details: { locked: false, maxHeldMs: 7_200_000 } });

  const tls = mono(['tls', '--root', root, '--cert', join(root, 'nope.pem'), '--warn-days', '14']);
  assert.equal(tls.status, 5);
  assert.equal((JSON.parse(tls.stdout) as { message: string }).message, `${join(root, 'nope.pem')} does not exist`);
  assert.match(tls.stderr, /^error: .*nope\.pem does not exist$/m);

  // Before the first deploy there is nothing to probe, and that is no failure; once a release is current, its socket must answer.
  const health = ['health', '--root', root, '--app', 'zz-not-an-app', '--path', '/up', '--timeout-ms', '500'];
  const fresh = mono(health);
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.equal((JSON.parse(fresh.stdout) as { message: string }).message, 'nothing to check: no release has been deployed yet');
  symlinkSync('releases/r1', join(root, 'current'));
  const deployed = mono(health);
  assert.equal(deployed.status, 5, deployed.stdout);
  assert.match(deployed.stderr, /^error: no current release is serving \(the socket \/run\/zz-not-an-app\/current\.sock is missing\)$/m);
  const tlsOnly = mono([...health, '--nginx-tls']);
  assert.equal(tlsOnly.status, 2);
  assert.match(tlsOnly.stderr, /--nginx-tls asks nginx over HTTPS: it needs --nginx-port/);
});
