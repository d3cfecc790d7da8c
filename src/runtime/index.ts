// The Node.js side of mono's handover contract (ansible-free-docs/handover-protocol.md), as the package export `mono/runtime`:
//
//   import http from 'node:http';
//   import { monoServe } from 'mono/runtime';
//   const app = monoServe(http.createServer(handler));      // listens where mono says, drains on SIGTERM
//   app.job(() => importCustomers(tenant), { tenant });      // the process does not exit while jobs run
//
// It runs on the box's Node (Debian 12: Node 18), so it uses nothing newer. No dependencies.
import { lstatSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net from 'node:net';

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
  /**
   * The first sweep waits this long after the drain starts (ms). Default 1000. A client on a keep-alive connection that
   * sends its next request meanwhile gets an answer with Connection: close and reconnects (to the new version, when the
   * socket is shared), instead of racing a close of its connection, which it would see as a reset. After it, only
   * connections idle since before the drain are closed, as their keep-alive timeout would.
   */
  readonly drainIdleGraceMs?: number;
  /** handover.strategy bind-retry: how often bind() is tried again while the old version holds the port (ms). Default 10. */
  readonly bindRetryMs?: number;
  /** handover.strategy bind-retry: give up binding after this long (ms). Default 120000. */
  readonly bindTimeoutMs?: number;
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
    // Stop accepting; the callback runs once every connection has ended. net's close, not http's: from Node 19 on, http's
    // also closes idle keep-alive connections at once, which races clients sending their next request on them (a reset).
    net.Server.prototype.close.call(server, () => {
      serverClosed = true;
      maybeDone();
    });
    // Node >= 18.2; older ones close idle connections only when their keep-alive timeout ends.
    const closeIdle = (): void => {
      if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
    };
    sweep = setTimeout(() => {
      closeIdle();
      sweep = setInterval(closeIdle, options.idleSweepMs ?? 250);
      sweep.unref();
    }, options.drainIdleGraceMs ?? 1000);
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
    const where = listenTarget(env, process.pid);
    if (where.kind === 'inherited') {
      // handover.strategy socket: the listening socket systemd holds for every version (fd 3). Children must not see it.
      if (env === process.env) for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[name];
      // Node calls listen(2) again on the socket, with its backlog: keep the queue systemd made (Backlog=4096), not 511.
      // (A backlog inside the options is ignored when fd is set; only the argument counts.)
      server.listen({ fd: where.fd }, 4096, done);
    } else if (where.kind === 'bind-retry') {
      server.off('error', reject);
      bindWithRetry(server, where, options, drain).then(() => {
        report();
        resolve();
      }, reject);
    } else if (where.kind === 'path') {
      removeStaleSocket(where.path);
      server.listen(where.path, done);
    } else if (where.kind === 'loopback') {
      server.listen(where.port, '127.0.0.1', done);
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

export type ListenTarget =
  | { readonly kind: 'inherited'; readonly fd: number }
  | { readonly kind: 'bind-retry'; readonly host: string | undefined; readonly port: number; readonly shutdownFile: string | undefined }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'loopback'; readonly port: number }
  | { readonly kind: 'dev' };

/** Where mono says to listen: an inherited socket (LISTEN_FDS, meant for this process), a port to take over, a socket path or a loopback port. */
export function listenTarget(env: NodeJS.ProcessEnv, pid: number): ListenTarget {
  const fds = env['LISTEN_FDS'];
  if (fds !== undefined && /^[1-9]\d*$/.test(fds)) {
    if (env['LISTEN_PID'] === String(pid)) return { kind: 'inherited', fd: 3 };
    if (env['MONO_BIND_PORT'] === undefined && env['MONO_LISTEN'] === undefined && env['MONO_PORT'] === undefined) {
      throw new Error(`mono runtime: the inherited socket (LISTEN_FDS) is meant for process ${env['LISTEN_PID'] ?? '(unnamed)'}, not this one (${pid}): start the server with exec from the Procfile line (for example "web: exec node server.mjs"), not through npm or another wrapper that stays in between`);
    }
  }
  const bindPort = env['MONO_BIND_PORT'];
  if (bindPort !== undefined && /^\d+$/.test(bindPort)) {
    const host = env['MONO_BIND_HOST'];
    const file = env['MONO_SHUTDOWN_FILE'];
    return { kind: 'bind-retry', host: host === undefined || host === '' ? undefined : host.replace(/^\[(.*)\]$/, '$1'), port: Number(bindPort), shutdownFile: file === undefined || file === '' ? undefined : file };
  }
  const path = env['MONO_LISTEN'];
  if (path !== undefined && path !== '') return { kind: 'path', path };
  const port = env['MONO_PORT'];
  if (port !== undefined && /^\d+$/.test(port)) return { kind: 'loopback', port: Number(port) };
  return { kind: 'dev' };
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * handover.strategy bind-retry (the seed thread's protocol): tell the running version to let go of the port by touching the
 * shutdown file, retry bind() until it has, then drain as soon as a later version touches the file.
 */
async function bindWithRetry(server: Server, where: Extract<ListenTarget, { kind: 'bind-retry' }>, options: MonoServeOptions, drain: () => void): Promise<void> {
  const file = where.shutdownFile;
  if (file !== undefined) writeFileSync(file, `${process.pid}\n`);
  // Our own signal; a later version's is any change after it (read now, so one that comes while we bind is not missed).
  const mine = file === undefined ? undefined : mtimeOf(file);
  const end = Date.now() + (options.bindTimeoutMs ?? 120_000);
  for (;;) {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (e: NodeJS.ErrnoException): void => resolve(e);
      server.once('error', onError);
      server.listen({ port: where.port, ...(where.host === undefined ? {} : { host: where.host }), exclusive: true }, () => {
        server.off('error', onError);
        resolve(undefined);
      });
    });
    if (error === undefined) break;
    if (error.code !== 'EADDRINUSE' || Date.now() >= end) throw error;
    await new Promise((r) => setTimeout(r, options.bindRetryMs ?? 10));
  }
  if (file === undefined) return;
  const watch = setInterval(() => {
    const now = mtimeOf(file);
    if (now !== undefined && now !== mine) {
      clearInterval(watch);
      drain();
    }
  }, 20);
  watch.unref();
}

/** A socket file left by a killed instance makes listen() fail with EADDRINUSE; a regular file is not ours to delete. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
