// Benchmark: failed requests and latency during a handover, under two kinds of client load at once, in one run on one box:
//   - mono's handover with handover.strategy nginx (`mono rollback` between two releases of examples/tenants, per-tenant
//     routing on: start, health check, switch of current.sock, confirmation through nginx, verify window, drain);
//   - `systemctl restart` of the single web unit behind the same nginx;
//   - the seed thread's approach: the app binds a TCP port itself; the old process closes it when a file is touched, the new one
//     retries bind() every 10 ms (no nginx; a hand-rolled seed.js);
//   - mono's handover with handover.strategy socket (the same example app, without tenant_key, on a public_listen port of its
//     own: one listening socket held by systemd and inherited by every version; the new version accepts beside the old one
//     through the verify window, then the old one closes its copy and drains; no nginx);
//   - mono's handover with handover.strategy bind-retry (the same example app on another port: mono/runtime's take on the
//     seed protocol, MONO_SHUTDOWN_FILE and bind() retried every 10 ms; best effort, no nginx).
// Clients (on this machine, over loopback): an open-loop generator with a new connection per request (RATE per second), and
// a pool of KEEPALIVE closed-loop clients on keep-alive connections. Each method gets HANDOVERS handovers (default 10).
// Latency: p50/p99/max of every request started inside a handover window (the handover plus 1 s), against every request
// outside the windows (after a 1 s warm-up). On stderr: the failed requests in bursts (client kind, handover, when: ms into
// it, before it returned and after its last `--json` event; why: error code or HTTP status), failures outside the windows,
// the kernel's listen queue overflows per method, and a summary of nginx's error.log on the box.
// Run as root: `npm run build && npx tsx bench/handover.ts` (about 7 minutes with the defaults).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { sandboxDown, sandboxUp, sshArgv, type BoxInfo } from '../src/sandbox/index.js';
import { benchWorkspace } from './lib.js';

const HANDOVERS = Number(process.env['HANDOVERS'] ?? 10);
const RATE = Number(process.env['RATE'] ?? 1000);
const KEEPALIVE = Number(process.env['KEEPALIVE'] ?? 8);
const APP = 'hb';
/** The same example app, handed over without nginx: handover.strategy socket and bind-retry (no tenant_key with either). */
const SOCKET_APP = 'hs';
const BIND_RETRY_APP = 'hr';
const MONO = new URL('../dist/cli/mono.mjs', import.meta.url).pathname;
const RUNTIME = new URL('../dist/runtime/index.mjs', import.meta.url).pathname;
// With the time of day (UTC, as the box's logs): failures can be matched with what the box logged.
const log = (m: string): void => void process.stderr.write(`# ${new Date().toISOString().slice(11, 23)} ${m}\n`);

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
function runAsync(file: string, args: readonly string[], cwd?: string, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      // Complete lines as they come (the events of `mono … --json`, timed on arrival).
      const from = stdout.lastIndexOf('\n') + 1;
      stdout += d;
      if (onLine !== undefined) for (const line of stdout.slice(from, stdout.lastIndexOf('\n') + 1).split('\n')) if (line !== '') onLine(line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: exit ${String(code)} ${String(signal)}\n${stderr.slice(-2000)}`))));
  });
}

const monoAsync = (dir: string, args: string[], onLine?: (line: string) => void): Promise<string> => runAsync(process.execPath, [MONO, ...args], dir, onLine);

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
  /** Why it failed: an error code (ECONNREFUSED, ECONNRESET, timeout…) or the HTTP status. */
  readonly why?: string;
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
      const failed = (error: NodeJS.ErrnoException): void => resolve({ t, ms: performance.now() - t, ok: false, why: error.code ?? error.message });
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/', headers: { host: this.host, 'x-tenant': tenant }, agent: keepAlive ? this.#agent : false, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? { t, ms: performance.now() - t, ok: true } : { t, ms: performance.now() - t, ok: false, why: `HTTP ${String(res.statusCode)}` }));
        res.on('error', failed);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', failed);
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
  /** Failed requests outside every handover window (not in the table's counts), per client kind. */
  readonly outside: { fresh: number; pooled: number };
}

/** A moment inside a handover: an event of `mono rollback --json` (its type), timed when its line arrived. */
interface Mark {
  readonly at: number;
  readonly what: string;
}

/** Runs `handover` HANDOVERS times under load; a window is the handover plus 1 s after it. Failed requests go to stderr. */
async function measure(name: string, port: number, host: string, handover: (i: number) => Promise<Mark[] | void>): Promise<MethodResult> {
  const overflowsBefore = listenOverflows();
  const load = new Load(port, host);
  const started = performance.now();
  await sleep(3000);
  const steadyEnd = performance.now();
  const windows: [number, number][] = [];
  const marks: Mark[][] = [];
  for (let i = 0; i < HANDOVERS; i++) {
    const a = performance.now();
    marks.push((await handover(i)) ?? []);
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
  const outside = describeFailures(name, started, windows, marks, load);
  // The box shares this machine's network namespace: the count covers every listening socket here, the box's included.
  const overflows = listenOverflows() - overflowsBefore;
  if (overflows > 0) log(`${name}: the kernel counted ${overflows} listen queue overflow(s) on this machine meanwhile (TcpExt ListenOverflows: a full accept queue, any listener)`);
  return {
    name,
    outside,
    failedFresh: windows.map((w) => load.fresh.filter((s) => !s.ok && inWindow(s, w)).length),
    failedPooled: windows.map((w) => load.pooled.filter((s) => !s.ok && inWindow(s, w)).length),
    steady: { p50: quantile(steady, 0.5), p99: quantile(steady, 0.99) },
    during: { p50: quantile(during, 0.5), p99: quantile(during, 0.99), max: during.reduce((m, v) => Math.max(m, v), 0) },
    rate: freshTotal / ((end - steadyEnd) / 1000),
    handoverMs: windows.map((w) => w[1] - 1000 - w[0]),
  };
}

/**
 * The failed requests of a method on stderr, in bursts (one client kind, failures less than 200 ms apart): how many, why,
 * when they started (ms into the handover and before `measure` saw it return, and the last event of the handover before
 * them), or, outside the windows, when after the load started and after which window. Returns the failures outside windows.
 */
function describeFailures(name: string, started: number, windows: readonly [number, number][], marks: readonly Mark[][], load: Load): { fresh: number; pooled: number } {
  const outside = { fresh: 0, pooled: 0 };
  const kinds = [
    ['new connection', load.fresh, 'fresh'],
    ['keep-alive', load.pooled, 'pooled'],
  ] as const;
  for (const [kind, samples, key] of kinds) {
    const failed = samples.filter((s) => !s.ok).sort((x, y) => x.t - y.t);
    const windowOf = (s: Sample): number => windows.findIndex((w) => s.t >= w[0] && s.t < w[1]);
    outside[key] = failed.filter((s) => windowOf(s) < 0).length;
    const bursts: Sample[][] = [];
    for (const s of failed) {
      const last = bursts.at(-1)?.at(-1);
      if (last !== undefined && s.t - last.t < 200 && windowOf(s) === windowOf(last)) bursts.at(-1)!.push(s);
      else bursts.push([s]);
    }
    for (const burst of bursts) {
      const first = burst[0]!;
      const lastOne = burst.at(-1)!;
      const why = [...new Set(burst.map((s) => s.why ?? '?'))].map((w) => `${w} ×${burst.filter((s) => (s.why ?? '?') === w).length}`).join(', ');
      const span = (from: number): string => `${(first.t - from).toFixed(0)}–${(lastOne.t - from).toFixed(0)} ms`;
      const took = `took ${burst.reduce((m, s) => Math.min(m, s.ms), Infinity).toFixed(1)}–${burst.reduce((m, s) => Math.max(m, s.ms), 0).toFixed(1)} ms`;
      const i = windowOf(first);
      if (i < 0) {
        const before = windows.filter((w) => w[1] <= first.t).length;
        const where = before === 0 ? 'before handover 1' : `${(first.t - windows[before - 1]![1]).toFixed(0)} ms after the window of handover ${before} ended`;
        log(`${name}: ${burst.length} failed ${kind} request(s) outside the handover windows, started ${span(started)} after the load started (${where}); ${took}; ${why}`);
        continue;
      }
      const w = windows[i]!;
      const returned = w[1] - 1000;
      const mark = marks[i]!.filter((m) => m.at <= first.t).at(-1);
      const event = mark === undefined ? '' : `, ${(first.t - mark.at).toFixed(0)} ms after the event ${mark.what}`;
      const vsReturn = first.t <= returned ? `${(returned - first.t).toFixed(0)} ms before the handover returned` : `${(first.t - returned).toFixed(0)} ms after the handover returned`;
      log(`${name}: ${burst.length} failed ${kind} request(s) in handover ${i + 1} (${(returned - w[0]).toFixed(0)} ms long), started ${span(w[0])} into it (${vsReturn}${event}); ${took}; ${why}`);
    }
  }
  return outside;
}

/** TcpExt ListenOverflows of this machine's network namespace (/proc/net/netstat): SYNs or ACKs dropped on a full accept queue. */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? 0);
}

/** A TCP port free on this machine (the box shares its network), none of `taken`. */
async function freePort(taken: readonly number[]): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    if (!taken.includes(port)) return port;
  }
}

/**
 * A project folder for examples/tenants as `app` (runtime.mjs is mono's dist/runtime/index.mjs), set up on the box with
 * VERSION 1 deployed, then VERSION 2: `mono rollback` goes back and forth between the two.
 */
function exampleProject(app: string, handover: string): string {
  const dir = join(work, app);
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'Procfile'), readFileSync(join(EXAMPLE, 'Procfile')));
  writeFileSync(join(dir, 'server.mjs'), readFileSync(join(EXAMPLE, 'server.mjs')));
  writeFileSync(join(dir, 'runtime.mjs'), readFileSync(RUNTIME));
  writeFileSync(join(dir, '.monoignore'), 'mono.yml\n.monoignore\n');
  writeFileSync(
    join(dir, 'mono.yml'),
    `app: ${app}\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\nshared: [storage]\nhandover:\n${handover}`,
  );
  log(`${app}: setup, deploy VERSION 1, deploy VERSION 2`);
  mono(dir, ['setup']);
  writeFileSync(join(dir, 'VERSION'), '1\n');
  mono(dir, ['deploy']);
  writeFileSync(join(dir, 'VERSION'), '2\n');
  mono(dir, ['deploy']);
  return dir;
}

/** One `mono rollback --json`: the handover's events, timed as they arrive, and the switch time it reports. */
async function rollback(dir: string): Promise<{ marks: Mark[]; switchMs?: number }> {
  const marks: Mark[] = [];
  let switchMs: number | undefined;
  await monoAsync(dir, ['rollback', '--json'], (line) => {
    let e: { type?: unknown; switchMs?: unknown; phase?: unknown };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    if (typeof e.type !== 'string') return;
    marks.push({ at: performance.now(), what: typeof e.phase === 'string' ? `${e.type} ${e.phase}` : e.type });
    if (e.type === 'rollback.done' && typeof e.switchMs === 'number') switchMs = e.switchMs;
  });
  return { marks, ...(switchMs === undefined ? {} : { switchMs }) };
}

// ---------------------------------------------------------------------------------------------------------------------------
// The run

log(`booting sandbox box ${boxName}…`);
const box = await sandboxUp({ name: boxName, kind: 'app' });
// Ports of their own, free on this machine: the seed app's (box.httpPort + 1, below), the socket app's and the bind-retry app's.
const seedPort = box.httpPort + 1;
const socketPort = await freePort([box.httpPort, box.sshPort, seedPort]);
const bindRetryPort = await freePort([box.httpPort, box.sshPort, seedPort, socketPort]);
log(`box: ${onBox(box, 'node --version; nginx -v 2>&1').trim().replace(/\n/g, ', ')}`);
log(`ports: nginx ${box.httpPort}, seed ${seedPort}, socket ${socketPort}, bind-retry ${bindRetryPort}`);
// All three apps are set up and deployed before any measurement: a setup problem shows at once, and every method runs on
// the same box with the same neighbours.
const dir = exampleProject(APP, '  tenant_key: header:X-Tenant\n');
const socketDir = exampleProject(SOCKET_APP, `  strategy: socket\n  public_listen: 127.0.0.1:${socketPort}\n`);
const bindRetryDir = exampleProject(BIND_RETRY_APP, `  strategy: bind-retry\n  public_listen: 127.0.0.1:${bindRetryPort}\n`);
const host = 'localhost';

// From "new version healthy" to "traffic switched and confirmed through nginx", as the runner on the box measured it.
const switchMs: number[] = [];
const nginxResult = await measure('mono handover (mono rollback, symlink switch)', box.httpPort, host, async () => {
  const r = await rollback(dir);
  if (r.switchMs !== undefined) switchMs.push(r.switchMs);
  return r.marks;
});

const current = onBox(box, `readlink /srv/${APP}/current`).trim().replace('releases/', '');
const restartResult = await measure('systemctl restart (one unit behind nginx)', box.httpPort, host, async () => {
  // The unit allows 5 starts a minute (StartLimitBurst): a benchmark restarting it 10 times clears the count first.
  await onBoxAsync(box, `systemctl reset-failed ${APP}-web@${current}; systemctl restart ${APP}-web@${current}`);
});

// The seed thread's approach, on a port of its own.
onBox(box, `cat > /root/seed.js <<'EOF'\n${SEED}EOF\nrm -f /root/seed.flag*; (setsid node /root/seed.js ${seedPort} /root/seed.flag >/dev/null 2>&1 &); for i in $(seq 1 100); do ls /root/seed.flag.ready-* >/dev/null 2>&1 && break; sleep 0.05; done`);
const seedResult = await measure("the seed thread's approach (close on file touch, bind retry every 10 ms)", seedPort, host, async () => {
  // Start the new process (it retries bind while the old one listens), then tell the old one to let go.
  // Shell builtins only in the wait loop (set -- glob; $#): a process per check would be slower than the handover itself.
  await onBoxAsync(
    box,
    `set -- /root/seed.flag.ready-*; before=$#; (setsid node /root/seed.js ${seedPort} /root/seed.flag >/dev/null 2>&1 &); sleep 0.3; touch /root/seed.flag; i=0; while [ $i -lt 500 ]; do set -- /root/seed.flag.ready-*; [ $# -gt $before ] && break; sleep 0.01; i=$((i+1)); done`,
  );
});
// [s]: the pattern must not match this very command line (pkill -f would kill the SSH session running it).
onBox(box, "pkill -f 'node /root/[s]eed.js' || true");

// mono's handovers without nginx: the clients connect to the app's public_listen port, the example app answers on any Host.
const socketResult = await measure('mono handover, strategy socket (shared listening socket, no proxy)', socketPort, host, async () => (await rollback(socketDir)).marks);
const bindRetryResult = await measure('mono handover, strategy bind-retry (seed protocol, no proxy)', bindRetryPort, host, async () => (await rollback(bindRetryDir)).marks);
const results = [nginxResult, restartResult, seedResult, socketResult, bindRetryResult];

const f = (ms: number): string => `${ms.toFixed(1)} ms`;
const total = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
const lines = [
  `| method (${HANDOVERS} handovers, ${RATE}/s new-connection + ${KEEPALIVE} keep-alive clients) | failed per handover, new connections | failed per handover, keep-alive | p50 / p99 / max during handover | p50 / p99 steady | new-connection rate reached |`,
  '|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.failedFresh.join(' ')} (total ${total(r.failedFresh)}) | ${r.failedPooled.join(' ')} (total ${total(r.failedPooled)}) | ${f(r.during.p50)} / ${f(r.during.p99)} / ${f(r.during.max)} | ${f(r.steady.p50)} / ${f(r.steady.p99)} | ${r.rate.toFixed(0)}/s |`,
  ),
];
process.stdout.write(`\n${lines.join('\n')}\n`);
/** No failed request in any handover window, with either client kind. */
const noFailures = (r: MethodResult): boolean => [...r.failedFresh, ...r.failedPooled].every((n) => n === 0);
const zero = noFailures(nginxResult);
const p99Ratio = nginxResult.during.p99 / nginxResult.steady.p99;
process.stdout.write(`\nmono: 0 failed requests in every handover: ${zero ? 'PASS' : 'MISS'}; p99 during / steady = ${p99Ratio.toFixed(2)} (target <= 2): ${p99Ratio <= 2 ? 'PASS' : 'MISS'}\n`);
process.stdout.write(`mono handover durations (start, health, switch, verify window, retire): median ${f(quantile(nginxResult.handoverMs, 0.5))}\n`);
const switchMedian = quantile(switchMs, 0.5);
const switchMax = switchMs.reduce((m, v) => Math.max(m, v), 0);
process.stdout.write(`mono healthy → switched and confirmed through nginx: median ${f(switchMedian)}, max ${f(switchMax)} over ${switchMs.length} handovers (target < 100 ms): ${switchMs.length === HANDOVERS && switchMax < 100 ? 'PASS' : 'MISS'}\n`);
const socketZero = noFailures(socketResult);
process.stdout.write(
  `socket: 0 failed requests in every handover, both client kinds: ${socketZero ? 'PASS' : 'MISS'} (failed: ${total(socketResult.failedFresh)} new-connection, ${total(socketResult.failedPooled)} keep-alive over ${HANDOVERS} handovers; handover median ${f(quantile(socketResult.handoverMs, 0.5))})\n`,
);
process.stdout.write(
  `bind-retry (best effort, no target): ${total(bindRetryResult.failedFresh)} failed new-connection and ${total(bindRetryResult.failedPooled)} failed keep-alive requests over ${HANDOVERS} handovers; handover median ${f(quantile(bindRetryResult.handoverMs, 0.5))}\n`,
);
// What nginx on the box said during the run (a reset or a 502 through nginx usually shows there).
// Each kind of message once: how many, the first and the last time (the box's clock, UTC).
const nginxErrors = onBox(
  box,
  `[ -f /var/log/nginx/error.log ] && awk '{ t = $1 " " $2; m = $0; sub(/^[^]]*] [0-9#]+: (\\*[0-9]+ )?/, "", m); sub(/, client: .*/, "", m); if (!(m in n)) first[m] = t; n[m]++; last[m] = t } END { for (m in n) print n[m] " × " m " (" first[m] " – " last[m] ")" }' /var/log/nginx/error.log | sort -rn | head -n 15 || true`,
).trimEnd();
log(`nginx error.log on the box:${nginxErrors === '' ? ' empty' : `\n${nginxErrors}`}`);
// Not in the table (it counts the windows only), but not hidden either.
for (const r of results.filter((x) => x.outside.fresh + x.outside.pooled > 0)) {
  process.stdout.write(`${r.name}: ${r.outside.fresh} new-connection and ${r.outside.pooled} keep-alive requests failed outside the handover windows (not counted above; when: stderr)\n`);
}
await sandboxDown(boxName);
