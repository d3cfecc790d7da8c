// The health check: GET <path> from the current release on its unix socket and, given a port, through nginx on loopback;
// without a proxy in front (no socket path), from the app on its public address.
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { errnoCode, errorMessage } from '../fs-errors.js';
import type { CheckResult } from './result.js';

export interface Probe {
  readonly via: 'app' | 'nginx';
  /** The socket path, or 127.0.0.1:<port>. */
  readonly target: string;
  readonly ok: boolean;
  readonly status?: number;
  /** An errno code (ECONNREFUSED, ENOENT…) or "timeout". */
  readonly error?: string;
  readonly ms: number;
}

export interface HealthOptions {
  /** The current release's socket; none when no proxy is in front: then `nginx` is the app's own public address. */
  readonly socketPath?: string;
  readonly path: string;
  readonly timeoutMs: number;
  /** tls: nginx is asked over HTTPS (its certificate is not verified here: the tls job watches it). */
  readonly nginx?: { readonly port: number; readonly address?: string; readonly host?: string; readonly tls?: boolean };
}

export const APP_HINT = 'see `mono status` and `mono logs` for the app\'s web process';
export const NGINX_HINT = 'the app answers on its socket but not through nginx: check nginx (systemctl status nginx, its error log) and the Host name';

export async function checkHealth(o: HealthOptions): Promise<CheckResult> {
  const probes = o.socketPath === undefined ? [] : [await probe('app', { socketPath: o.socketPath }, o)];
  if (o.nginx !== undefined) {
    const headers = o.nginx.host === undefined ? {} : { host: o.nginx.host };
    probes.push(await probe(o.socketPath === undefined ? 'app' : 'nginx', { host: o.nginx.address ?? '127.0.0.1', port: o.nginx.port, headers, tls: o.nginx.tls === true, ...(o.nginx.host === undefined ? {} : { servername: o.nginx.host }) }, o));
  }
  return judgeHealth(probes, o);
}

/** Ok when every probe answered 2xx. */
export function judgeHealth(probes: readonly Probe[], o: { path: string; timeoutMs: number; nginx?: { readonly host?: string } }): CheckResult {
  const details = { path: o.path, probes };
  const name = (p: Probe): string => (p.via === 'app' ? `the app on ${p.target}` : `nginx on ${p.target}${o.nginx?.host === undefined ? '' : ` (Host ${o.nginx.host})`}`);
  const failed = probes.filter((p) => !p.ok);
  if (failed.length === 0) {
    return { check: 'health', status: 'ok', message: `GET ${o.path}: ${probes.map((p) => `${name(p)} answered ${p.status ?? '?'} in ${p.ms} ms`).join(', ')}`, details };
  }
  const how = (p: Probe): string => {
    if (p.via === 'app' && p.error === 'ENOENT') return `no current release is serving (the socket ${p.target} is missing)`;
    if (p.error === 'timeout') return `${name(p)} did not answer GET ${o.path} within ${o.timeoutMs} ms`;
    if (p.error !== undefined) return `${name(p)} could not be reached for GET ${o.path} (${p.error})`;
    return `${name(p)} answered GET ${o.path} with ${p.status ?? '?'}`;
  };
  const hint = failed.some((p) => p.via === 'app') ? APP_HINT : NGINX_HINT;
  return { check: 'health', status: 'fail', message: failed.map(how).join('; '), hint, details };
}

/** One GET with an overall deadline; never throws. */
type Where = { socketPath: string } | { host: string; port: number; headers: Record<string, string>; tls: boolean; servername?: string };

function probe(via: Probe['via'], where: Where, o: HealthOptions): Promise<Probe> {
  const target = 'socketPath' in where ? where.socketPath : `${where.tls ? 'https://' : ''}${where.host}:${where.port}`;
  const tls = 'tls' in where && where.tls;
  const started = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: { status?: number; error?: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      const ok = r.status !== undefined && r.status >= 200 && r.status < 300;
      resolve({ via, target, ok, ...r, ms: Date.now() - started });
    };
    const options = { ...where, path: o.path, method: 'GET', agent: false, headers: { connection: 'close', ...('headers' in where ? where.headers : {}) } };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      res.resume();
      finish({ ...(res.statusCode === undefined ? {} : { status: res.statusCode }) });
    };
    const req = tls ? requestTls({ ...options, rejectUnauthorized: false }, onResponse) : request(options, onResponse);
    req.on('error', (error) => finish({ error: errnoCode(error) ?? errorMessage(error) }));
    const timer = setTimeout(() => finish({ error: 'timeout' }), o.timeoutMs);
    req.end();
  });
}
