// mono/runtime against real HTTP over a unix socket: where it listens, busy.json, and a drain that lets requests and jobs finish.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { monoServe, type BusyReport } from '../../src/runtime/index.js';

function get(socketPath: string, path: string, agent?: http.Agent): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, ...(agent === undefined ? {} : { agent }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function setup(): { dir: string; env: NodeJS.ProcessEnv; socket: string; busy: () => BusyReport } {
  const dir = mkdtempSync(join(tmpdir(), 'mono-runtime-'));
  const socket = join(dir, 'r1.sock');
  const control = join(dir, 'control');
  return { dir, socket, env: { MONO_LISTEN: socket, MONO_RELEASE: 'r1', MONO_CONTROL_DIR: control }, busy: () => JSON.parse(readFileSync(join(control, 'busy.json'), 'utf8')) as BusyReport };
}

test('listens on MONO_LISTEN (a stale socket file is replaced, a regular file is not), and reports busy tenants', async () => {
  const { env, socket, busy, dir } = setup();
  // A socket file left behind by a killed instance.
  const stale = http.createServer();
  await new Promise<void>((r) => stale.listen(socket, r));
  await new Promise<void>((r) => {
    stale.close(() => r());
  });
  writeFileSync(join(dir, 'plain'), 'x');
  const exits: number[] = [];
  const app = monoServe(http.createServer((_req, res) => res.end('ok')), { env, exit: (c) => exits.push(c), signals: [] });
  await app.listening;
  assert.equal(app.release, 'r1');
  assert.equal((await get(socket, '/')).body, 'ok');
  assert.deepEqual({ ...busy(), updatedAt: '', pid: 0 }, { release: 'r1', pid: 0, draining: false, jobs: 0, tenants: {}, updatedAt: '' });

  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const jobs = [app.job(() => gate, { tenant: 'acme' }), app.job(() => gate, { tenant: 'acme' }), app.job(() => gate, { tenant: 'globex' }), app.job(() => gate)];
  assert.deepEqual(busy().tenants, { acme: 2, globex: 1 });
  assert.equal(busy().jobs, 4);
  release();
  await Promise.all(jobs);
  assert.deepEqual([busy().jobs, busy().tenants], [0, {}]);
  app.drain();
  await app.drained;
  assert.deepEqual(exits, [0]);

  const blocked = monoServe(http.createServer(), { env: { MONO_LISTEN: join(dir, 'plain') }, exit: () => undefined, signals: [] });
  await assert.rejects(blocked.listening, /EADDRINUSE/);
  assert.ok(existsSync(join(dir, 'plain')), 'a regular file at the socket path is left alone');
});

test('a drain lets in-flight requests and jobs finish, closes keep-alive connections, and exits only at the end', async () => {
  const { env, socket, busy } = setup();
  const events: string[] = [];
  const app = monoServe(
    http.createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow done'), 400);
      else res.end('fast');
    }),
    { env, exit: (c) => events.push(`exit ${c}`), onDrain: () => events.push('drain'), signals: [], idleSweepMs: 20 },
  );
  await app.listening;
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  assert.equal((await get(socket, '/', keepAlive)).body, 'fast'); // leaves an idle keep-alive connection open
  let finishJob!: () => void;
  const job = app.job(() => new Promise<void>((r) => (finishJob = r)).then(() => events.push('job done')), { tenant: 'acme' });
  const slow = get(socket, '/slow');
  await sleep(50);

  app.drain();
  assert.equal(app.draining, true);
  assert.equal(busy().draining, true);
  assert.deepEqual(busy().tenants, { acme: 1 });
  const slowAnswer = await slow;
  assert.deepEqual([slowAnswer.status, slowAnswer.body, slowAnswer.connection], [200, 'slow done', 'close'], 'the in-flight request finishes, told to close');
  await assert.rejects(get(socket, '/'), /ECONNREFUSED|ENOENT/, 'no new connections while draining');
  await sleep(100);
  assert.deepEqual(events, ['drain'], 'not gone while a job runs');

  finishJob();
  await job;
  await app.drained;
  assert.deepEqual(events, ['drain', 'job done', 'exit 0']);
  assert.deepEqual([busy().jobs, busy().tenants, busy().draining], [0, {}, true]);
  keepAlive.destroy();
});

test('keep-alive clients sending back to back across a drain see no reset: each gets Connection: close, then the server goes', async () => {
  const { env, socket } = setup();
  let exited = false;
  const app = monoServe(http.createServer((_req, res) => res.end('ok')), { env, signals: [], exit: () => (exited = true), idleSweepMs: 5 });
  await app.listening;
  const errors: string[] = [];
  const clients = Array.from({ length: 4 }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let answered = 0;
    // Until the server says it closes this connection: the client's next request would go to a new connection.
    for (;;) {
      const r = await get(socket, '/', agent).catch((e: NodeJS.ErrnoException) => void errors.push(e.code ?? String(e)));
      if (r === undefined) break;
      answered++;
      if (r.connection === 'close') break;
    }
    agent.destroy();
    return answered;
  });
  await sleep(150);
  app.drain();
  const answered = await Promise.all(clients);
  await app.drained;
  assert.deepEqual(errors, [], 'no request was reset');
  assert.ok(answered.every((n) => n > 5), `every client was busy across the drain (${answered.join(', ')})`);
  assert.equal(exited, true);
});

test('where to listen: an inherited socket only when LISTEN_PID is this process, then a port to take over, a socket path, a loopback port', async () => {
  const { listenTarget } = await import('../../src/runtime/index.js');
  assert.deepEqual(listenTarget({ LISTEN_FDS: '1', LISTEN_PID: '42', MONO_LISTEN: '/run/x.sock' }, 42), { kind: 'inherited', fd: 3 });
  assert.deepEqual(listenTarget({ LISTEN_FDS: '1', LISTEN_PID: '41', MONO_LISTEN: '/run/x.sock' }, 42), { kind: 'path', path: '/run/x.sock' }, "another process's sockets");
  assert.deepEqual(listenTarget({ LISTEN_FDS: '1', MONO_PORT: '2000' }, 42), { kind: 'loopback', port: 2000 }, 'no LISTEN_PID: not ours');
  assert.deepEqual(listenTarget({ MONO_BIND_HOST: '', MONO_BIND_PORT: '8080', MONO_SHUTDOWN_FILE: '/run/x/shutdown.txt' }, 42), { kind: 'bind-retry', host: undefined, port: 8080, shutdownFile: '/run/x/shutdown.txt' });
  assert.deepEqual(listenTarget({ MONO_BIND_HOST: '[::1]', MONO_BIND_PORT: '8080' }, 42), { kind: 'bind-retry', host: '::1', port: 8080, shutdownFile: undefined });
  assert.deepEqual(listenTarget({}, 42), { kind: 'dev' });
  assert.throws(() => listenTarget({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42), /meant for process 41, not this one \(42\): start the server with exec/);
});

test('bind-retry: a new version touches the shutdown file, the old one lets go of the port and drains, the new one takes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-runtime-'));
  const port = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const env = (release: string): NodeJS.ProcessEnv => ({ MONO_BIND_HOST: '127.0.0.1', MONO_BIND_PORT: String(port), MONO_SHUTDOWN_FILE: join(dir, 'shutdown.txt'), MONO_RELEASE: release });
  const exits: string[] = [];
  const serve = (release: string) => monoServe(http.createServer((_req, res) => res.end(release)), { env: env(release), signals: [], exit: () => exits.push(release) });
  const askPort = (): Promise<string> =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += String(d)));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
  const v1 = serve('v1');
  await v1.listening;
  assert.equal(await askPort(), 'v1');
  const v2 = serve('v2');
  await v2.listening;
  await v1.drained;
  assert.equal(v1.draining, true, 'v1 drains once v2 touched the file');
  assert.equal(v2.draining, false, 'v2 does not react to its own touch');
  assert.equal(await askPort(), 'v2');
  assert.deepEqual(exits, ['v1']);
  v2.drain();
  await v2.drained;
});
