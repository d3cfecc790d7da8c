// A small multi-tenant app on mono's handover contract (ansible-free-docs/handover-protocol.md), through the mono/runtime
// helper. The tenant of a request is its X-Tenant header (mono.yml: handover.tenant_key: header:X-Tenant).
//
//   GET  /up                    200 once the app can serve (mono's health check)
//   GET  /                      which release answers, for which tenant
//   POST /jobs?seconds=N        starts a job of N seconds for the tenant (202); a drain waits for it
//   GET  /jobs                  the jobs of this process
//
// Jobs append to storage/jobs.log (a shared folder), so the demo can show a job finishing on the old release after v2 is live.
import http from 'node:http';
import { appendFileSync, mkdirSync } from 'node:fs';
// In an app that depends on mono from npm: import { monoServe } from 'mono/runtime';
import { monoServe } from './runtime.mjs';

const release = process.env.MONO_RELEASE ?? 'dev';
const jobs = new Map();
let nextId = 1;

function log(line) {
  try {
    mkdirSync('storage', { recursive: true });
    appendFileSync('storage/jobs.log', `${new Date().toISOString()} ${line}\n`);
  } catch (error) {
    console.error(`cannot write storage/jobs.log (is storage in mono.yml's shared list?): ${error.message}`);
  }
  console.log(line);
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  const tenant = req.headers['x-tenant'];
  if (url.pathname === '/up') return send(res, 200, { up: true, release });
  if (url.pathname === '/jobs' && req.method === 'POST') {
    if (typeof tenant !== 'string' || tenant === '') return send(res, 400, { error: 'send the tenant in X-Tenant' });
    const seconds = Math.min(Number(url.searchParams.get('seconds') ?? '5') || 5, 3600);
    const id = `${release}-${nextId++}`;
    jobs.set(id, { id, tenant, seconds, state: 'running', release });
    log(`job ${id} tenant=${tenant} started on ${release} (${seconds} s)`);
    // app.job(): mono sees the tenant as busy while it runs, and this process does not exit before it ends.
    void app.job(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        jobs.get(id).state = 'done';
        log(`job ${id} tenant=${tenant} finished on ${release}`);
      },
      { tenant },
    );
    return send(res, 202, { job: id, tenant, release });
  }
  if (url.pathname === '/jobs') return send(res, 200, { release, jobs: [...jobs.values()] });
  return send(res, 200, { release, tenant: tenant ?? null });
});

const app = monoServe(server, { onDrain: () => log(`release ${release} draining (pid ${process.pid})`) });
await app.listening;
log(`release ${release} listening (pid ${process.pid})`);
app.drained.then(() => log(`release ${release} drained, exiting (pid ${process.pid})`));
