// The Node.js side of mono's handover contract (ansible-free-docs/handover-protocol.md), as the package export `mono/runtime`:
//
//   import http from 'node:http';
//   import { monoServe } from 'mono/runtime';
//   const app = monoServe(http.createServer(handler));      // listens where mono says, drains on SIGTERM
//   app.job(() => importCustomers(tenant), { tenant });      // the process does not exit while jobs run
//
// It runs on the box's Node (Debian 12: Node 18), so it uses nothing newer. No dependencies.
import { lstatSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface MonoServeOptions {
  /** The environment mono gave the process (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Called once when draining starts: stop picking up new work (queues, timers). Requests and jobs already running finish. */
  readonly onDrain?: () => void;
  /** Port to listen on outside mono (local development, no MONO_LISTEN or MONO_PORT). Default 3000. */
  readonly devPort?: number;
  /** Called when everything has finished after a drain. Default: process.exit. */
  readonly exit?: (code: number) => void;
  /** Signals that start draining. Default: SIGTERM (what systemd sends) and SIGINT (Ctrl-C). */
  readonly signals?: readonly NodeJS.Signals[];
  /** While draining, idle keep-alive connections are closed this often (ms). Default 250. */
  readonly idleSweepMs?: number;
}

export interface MonoApp {
  /** The release this process runs (MONO_RELEASE), when run by mono. */
  readonly release: string | undefined;
  /** True once draining started. */
  readonly draining: boolean;
  /** Resolves once the server listens. */
  readonly listening: Promise<void>;
  /** Runs `work` as a job: the process does not exit before it settles. `tenant` marks that tenant busy meanwhile. */
  job<T>(work: () => Promise<T>, options?: { readonly tenant?: string }): Promise<T>;
  /** Starts draining, as the drain signal does. */
  drain(): void;
  /** Resolves when the drain has finished (the server closed and every job settled), just before `exit` is called. */
  readonly drained: Promise<void>;
}

/** What busy.json in the control folder says (written atomically on every change). */
export interface BusyReport {
  readonly release: string | null;
  readonly pid: number;
  readonly draining: boolean;
  readonly jobs: number;
  /** Running jobs per tenant. */
  readonly tenants: Readonly<Record<string, number>>;
  readonly updatedAt: string;
}

export function monoServe(server: Server, options: MonoServeOptions = {}): MonoApp {
  const env = options.env ?? process.env;
  const controlDir = env['MONO_CONTROL_DIR'];
  const release = env['MONO_RELEASE'];
  const tenants = new Map<string, number>();
  let jobs = 0;
  let draining = false;
  let serverClosed = false;
  let sweep: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const drained = new Promise<void>((resolve) => (finish = resolve));

  const report = (): void => {
    if (controlDir === undefined || controlDir === '') return;
    const body: BusyReport = { release: release ?? null, pid: process.pid, draining, jobs, tenants: Object.fromEntries(tenants), updatedAt: new Date().toISOString() };
    try {
      mkdirSync(controlDir, { recursive: true });
      const temp = `${controlDir}/.busy.json.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(body) + '\n');
      renameSync(temp, `${controlDir}/busy.json`);
    } catch (error) {
      process.emitWarning(`mono runtime: cannot write ${controlDir}/busy.json: ${String(error)}`);
    }
  };

  const maybeDone = (): void => {
    if (!draining || !serverClosed || jobs > 0) return;
    if (sweep !== undefined) clearInterval(sweep);
    report();
    finish();
    (options.exit ?? ((code: number) => process.exit(code)))(0);
  };

  // First listener: a response whose headers go out while draining (also one whose request came before) tells the client to
  // close the connection afterwards. res.end() without writeHead() goes through writeHead() too.
  // mono's check after a switch asks (X-Mono-Probe) which release answered.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (release !== undefined && req.headers['x-mono-probe'] !== undefined) res.setHeader('x-mono-release', release);
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]): ServerResponse => {
      if (draining && !res.headersSent) res.setHeader('connection', 'close');
      return writeHead(...args);
    });
  });

  const drain = (): void => {
    if (draining) return;
    draining = true;
    report();
    options.onDrain?.();
    // Stop accepting; the callback runs once every connection has ended.
    server.close(() => {
      serverClosed = true;
      maybeDone();
    });
    // Node >= 18.2; older ones close idle connections only when their keep-alive timeout ends.
    const closeIdle = (): void => {
      if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
    };
    closeIdle();
    sweep = setInterval(closeIdle, options.idleSweepMs ?? 250);
    sweep.unref();
  };
  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as const)) process.on(signal, drain);

  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      report();
      resolve();
    };
    const path = env['MONO_LISTEN'];
    const port = env['MONO_PORT'];
    if (path !== undefined && path !== '') {
      removeStaleSocket(path);
      server.listen(path, done);
    } else if (port !== undefined && /^\d+$/.test(port)) {
      server.listen(Number(port), '127.0.0.1', done);
    } else {
      server.listen(options.devPort ?? 3000, done);
    }
  });

  return {
    release,
    get draining() {
      return draining;
    },
    listening,
    drained,
    drain,
    async job<T>(work: () => Promise<T>, jobOptions: { readonly tenant?: string } = {}): Promise<T> {
      const tenant = jobOptions.tenant;
      jobs++;
      if (tenant !== undefined) tenants.set(tenant, (tenants.get(tenant) ?? 0) + 1);
      report();
      try {
        return await work();
      } finally {
        jobs--;
        if (tenant !== undefined) {
          const left = (tenants.get(tenant) ?? 1) - 1;
          if (left > 0) tenants.set(tenant, left);
          else tenants.delete(tenant);
        }
        report();
        maybeDone();
      }
    },
  };
}

/** A socket file left by a killed instance makes listen() fail with EADDRINUSE; a regular file is not ours to delete. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
