// Benchmark: failed requests and latency during a handover, under two kinds of client load at once, in one run:
//   - mono's handover (`mono rollback` between two releases of examples/tenants, per-tenant routing on: start, health check,
//     switch of current.sock, confirmation through nginx, verify window, drain);
//   - `systemctl restart` of the single web unit behind the same nginx;
//   - the seed thread's approach: the app binds a TCP port itself; the old process closes it when a file is touched, the new one
//     retries bind() every 10 ms (no nginx).
// Clients (on this machine, over loopback): an open-loop generator with a new connection per request (RATE per second), and
// a pool of KEEPALIVE closed-loop clients on keep-alive connections. Each method gets HANDOVERS handovers (default 10).
// Latency: p50/p99/max of every request started inside a handover window (the handover plus 1 s), against every request
// outside the windows (after a 1 s warm-up). Run as root: `npm run build && npx tsx bench/handover.ts` (about 5 minutes).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { sandboxDown, sandboxUp, sshArgv, type BoxInfo } from '../src/sandbox/index.js';
import { benchWorkspace } from './lib.js';

const HANDOVERS = Number(process.env['HANDOVERS'] ?? 10);
const RATE = Number(process.env['RATE'] ?? 1000);
const KEEPALIVE = Number(process.env['KEEPALIVE'] ?? 8);
const APP = 'hb';
const MONO = new URL('../dist/cli/mono.mjs', import.meta.url).pathname;
const RUNTIME = new URL('../dist/runtime/index.mjs', import.meta.url).pathname;
const log = (m: string): void => void process.stderr.write(`# ${m}\n`);

const { boxName, work } = benchWorkspace('handover');

// ---------------------------------------------------------------------------------------------------------------------------
// The apps

// mono's side runs the example app (examples/tenants) with per-tenant cutover on: every request names one of 20 tenants.
const EXAMPLE = new URL('../examples/tenants/', import.meta.url).pathname;
const TENANTS = 20;

/** The seed thread's protocol: listen on PORT, retrying bind every 10 ms; when FLAG is touched, close the listener and exit. */
const SEED = `const http = require('node:http');
const fs = require('node:fs');
const [port, flag] = process.argv.slice(2);
const server = http.createServer((req, res) => res.end('seed ' + process.pid));
const start = Date.now();
const tryListen = () => server.listen(Number(port), '127.0.0.1');
server.on('error', (e) => { if (e.code === 'EADDRINUSE') setTimeout(tryListen, 10); else throw e; });
server.on('listening', () => {
  fs.writeFileSync(flag + '.ready-' + process.pid, '');
  const mtime = fs.existsSync(flag) ? fs.statSync(flag).mtimeMs : 0;
  const poll = setInterval(() => {
    if (fs.existsSync(flag) && fs.statSync(flag).mtimeMs !== mtime) {
      clearInterval(poll);
      server.close(() => process.exit(0));
      server.closeIdleConnections();
    }
  }, 10);
});
tryListen();
`;

// ---------------------------------------------------------------------------------------------------------------------------
// Helpers

function onBox(box: BoxInfo, script: string): string {
  const [file, ...args] = sshArgv(box, [script]);
  const r = spawnSync(file!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`on the box: ${script}\nexit ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A command run without blocking this process: the load generator shares its event loop, and a synchronous spawn during a
 * handover would stop the load exactly when it matters.
 */
function runAsync(file: string, args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: exit ${String(code)} ${String(signal)}\n${stderr.slice(-2000)}`))));
  });
}

const monoAsync = (dir: string, args: string[]): Promise<string> => runAsync(process.execPath, [MONO, ...args], dir);

async function onBoxAsync(box: BoxInfo, script: string): Promise<void> {
  const [file, ...args] = sshArgv(box, [script]);
  await runAsync(file!, args);
}

function mono(dir: string, args: string[]): void {
  const r = spawnSync(process.execPath, [MONO, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`mono ${args.join(' ')}: exit ${String(r.status)}\n${r.stderr}`);
}

interface Sample {
  readonly t: number;
  readonly ms: number;
  readonly ok: boolean;
}

/** Load against one address: an open-loop new-connection generator and a keep-alive pool, each recording its samples. */
class Load {
  readonly fresh: Sample[] = [];
  readonly pooled: Sample[] = [];
  #running = true;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: KEEPALIVE });
  readonly #workers: Promise<void>[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    // Open loop: every 10 ms, the requests due since the start, whatever the answers (so a stall shows as latency, not less load).
    const t0 = performance.now();
    let sent = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
      for (; sent < due; sent++) void this.#one(false).then((s) => this.fresh.push(s));
    }, 10);
    for (let i = 0; i < KEEPALIVE; i++) {
      this.#workers.push(
        (async () => {
          while (this.#running) this.pooled.push(await this.#one(true));
        })(),
      );
    }
  }

  #n = 0;

  #one(keepAlive: boolean): Promise<Sample> {
    const t = performance.now();
    const tenant = `t${this.#n++ % TENANTS}`;
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/', headers: { host: this.host, 'x-tenant': tenant }, agent: keepAlive ? this.#agent : false, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ t, ms: performance.now() - t, ok: res.statusCode === 200 }));
        res.on('error', () => resolve({ t, ms: performance.now() - t, ok: false }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ t, ms: performance.now() - t, ok: false }));
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#running = false;
    await Promise.all(this.#workers);
    await new Promise((r) => setTimeout(r, 1000));
    this.#agent.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

interface MethodResult {
  readonly name: string;
  /** Failed requests per handover, per client kind. */
  readonly failedFresh: number[];
  readonly failedPooled: number[];
  readonly steady: { p50: number; p99: number };
  readonly during: { p50: number; p99: number; max: number };
  readonly rate: number;
  readonly handoverMs: number[];
}

/** Runs `handover` HANDOVERS times under load; a window is the handover plus 1 s after it. */
async function measure(name: string, port: number, host: string, handover: (i: number) => Promise<void>): Promise<MethodResult> {
  const load = new Load(port, host);
  const started = performance.now();
  await sleep(3000);
  const steadyEnd = performance.now();
  const windows: [number, number][] = [];
  for (let i = 0; i < HANDOVERS; i++) {
    const a = performance.now();
    await handover(i);
    const b = performance.now();
    await sleep(1000);
    windows.push([a, b + 1000]);
    log(`${name}: handover ${i + 1}/${HANDOVERS} in ${((b - a) / 1000).toFixed(2)} s`);
  }
  const end = performance.now();
  await load.stop();
  log(`${name}: done`);
  const inWindow = (s: Sample, w: [number, number]): boolean => s.t >= w[0] && s.t < w[1];
  const all = [...load.fresh, ...load.pooled];
  // Steady state: outside every handover window, after the first second (client warm-up).
  const steady = all.filter((s) => s.t >= started + 1000 && !windows.some((w) => inWindow(s, w)) && s.ok).map((s) => s.ms);
  const during = all.filter((s) => windows.some((w) => inWindow(s, w))).map((s) => s.ms);
  const freshTotal = load.fresh.filter((s) => s.t >= steadyEnd && s.t < end).length;
  return {
    name,
    failedFresh: windows.map((w) => load.fresh.filter((s) => !s.ok && inWindow(s, w)).length),
    failedPooled: windows.map((w) => load.pooled.filter((s) => !s.ok && inWindow(s, w)).length),
    steady: { p50: quantile(steady, 0.5), p99: quantile(steady, 0.99) },
    during: { p50: quantile(during, 0.5), p99: quantile(during, 0.99), max: during.reduce((m, v) => Math.max(m, v), 0) },
    rate: freshTotal / ((end - steadyEnd) / 1000),
    handoverMs: windows.map((w) => w[1] - 1000 - w[0]),
  };
}

// ---------------------------------------------------------------------------------------------------------------------------
// The run

log(`booting sandbox box ${boxName}…`);
const box = await sandboxUp({ name: boxName, kind: 'app' });
const dir = join(work, 'project');
spawnSync('mkdir', ['-p', dir]);
writeFileSync(join(dir, 'Procfile'), readFileSync(join(EXAMPLE, 'Procfile')));
writeFileSync(join(dir, 'server.mjs'), readFileSync(join(EXAMPLE, 'server.mjs')));
writeFileSync(join(dir, 'runtime.mjs'), readFileSync(RUNTIME));
writeFileSync(join(dir, '.monoignore'), 'mono.yml\n.monoignore\n');
writeFileSync(
  join(dir, 'mono.yml'),
  `app: ${APP}\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\nshared: [storage]\nhandover:\n  tenant_key: header:X-Tenant\n`,
);
mono(dir, ['setup']);
writeFileSync(join(dir, 'VERSION'), '1\n');
mono(dir, ['deploy']);
writeFileSync(join(dir, 'VERSION'), '2\n');
mono(dir, ['deploy']);
const host = 'localhost';

const results: MethodResult[] = [];
// From "new version healthy" to "traffic switched and confirmed through nginx", as the runner on the box measured it.
const switchMs: number[] = [];
results.push(
  await measure('mono handover (mono rollback, symlink switch)', box.httpPort, host, async () => {
    const out = await monoAsync(dir, ['rollback', '--json']);
    const done = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; switchMs?: number }).find((e) => e.type === 'rollback.done');
    if (done?.switchMs !== undefined) switchMs.push(done.switchMs);
  }),
);

const current = onBox(box, `readlink /srv/${APP}/current`).trim().replace('releases/', '');
results.push(
  await measure('systemctl restart (one unit behind nginx)', box.httpPort, host, async () => {
    // The unit allows 5 starts a minute (StartLimitBurst): a benchmark restarting it 10 times clears the count first.
    await onBoxAsync(box, `systemctl reset-failed ${APP}-web@${current}; systemctl restart ${APP}-web@${current}`);
  }),
);

// The seed thread's approach, on a port of its own.
const seedPort = box.httpPort + 1;
onBox(box, `cat > /root/seed.js <<'EOF'\n${SEED}EOF\nrm -f /root/seed.flag*; (setsid node /root/seed.js ${seedPort} /root/seed.flag >/dev/null 2>&1 &); for i in $(seq 1 100); do ls /root/seed.flag.ready-* >/dev/null 2>&1 && break; sleep 0.05; done`);
results.push(
  await measure("the seed thread's approach (close on file touch, bind retry every 10 ms)", seedPort, host, async () => {
    // Start the new process (it retries bind while the old one listens), then tell the old one to let go.
    // Shell builtins only in the wait loop (set -- glob; $#): a process per check would be slower than the handover itself.
    await onBoxAsync(
      box,
      `set -- /root/seed.flag.ready-*; before=$#; (setsid node /root/seed.js ${seedPort} /root/seed.flag >/dev/null 2>&1 &); sleep 0.3; touch /root/seed.flag; i=0; while [ $i -lt 500 ]; do set -- /root/seed.flag.ready-*; [ $# -gt $before ] && break; sleep 0.01; i=$((i+1)); done`,
    );
  }),
);
// [s]: the pattern must not match this very command line (pkill -f would kill the SSH session running it).
onBox(box, "pkill -f 'node /root/[s]eed.js' || true");

const f = (ms: number): string => `${ms.toFixed(1)} ms`;
const lines = [
  `| method (${HANDOVERS} handovers, ${RATE}/s new-connection + ${KEEPALIVE} keep-alive clients) | failed per handover, new connections | failed per handover, keep-alive | p50 / p99 / max during handover | p50 / p99 steady | new-connection rate reached |`,
  '|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.failedFresh.join(' ')} (total ${r.failedFresh.reduce((a, b) => a + b, 0)}) | ${r.failedPooled.join(' ')} (total ${r.failedPooled.reduce((a, b) => a + b, 0)}) | ${f(r.during.p50)} / ${f(r.during.p99)} / ${f(r.during.max)} | ${f(r.steady.p50)} / ${f(r.steady.p99)} | ${r.rate.toFixed(0)}/s |`,
  ),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
const monoResult = results[0]!;
const zero = monoResult.failedFresh.every((n) => n === 0) && monoResult.failedPooled.every((n) => n === 0);
const p99Ratio = monoResult.during.p99 / monoResult.steady.p99;
process.stdout.write(`\nmono: 0 failed requests in every handover: ${zero ? 'PASS' : 'MISS'}; p99 during / steady = ${p99Ratio.toFixed(2)} (target <= 2): ${p99Ratio <= 2 ? 'PASS' : 'MISS'}\n`);
process.stdout.write(`mono handover durations (start, health, switch, verify window, retire): median ${f(quantile(monoResult.handoverMs, 0.5))}\n`);
const switchMedian = quantile(switchMs, 0.5);
const switchMax = switchMs.reduce((m, v) => Math.max(m, v), 0);
process.stdout.write(`mono healthy → switched and confirmed through nginx: median ${f(switchMedian)}, max ${f(switchMax)} over ${switchMs.length} handovers (target < 100 ms): ${switchMs.length === HANDOVERS && switchMax < 100 ? 'PASS' : 'MISS'}\n`);
await sandboxDown(boxName);
