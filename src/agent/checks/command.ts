// Handlers of `mono agent check disk|tls|health|lock`: one CheckResult JSON line on stdout; exit 0 (ok, warning) or 5 (fail).
import type { Context } from '../../cli/context.js';
import { MonoError } from '../../errors.js';
import { lstatSync } from 'node:fs';
import { errnoCode } from '../fs-errors.js';
import { agentHandler } from '../handler.js';
import { lockStatus } from '../lock.js';
import { parseApp, parseCount } from '../options.js';
import { agentPaths, requireRoot } from '../paths.js';
import { diskUsage, judgeDisk } from './disk.js';
import { checkHealth } from './health.js';
import { DEFAULT_MAX_HELD_MS, judgeLock } from './lock.js';
import { reportCheck } from './result.js';
import { judgeTls, readCertificate } from './tls.js';

export const diskHandler = agentHandler('check disk', async (ctx: Context, o: { root?: string; path?: string[]; maxUsedPercent?: string; maxInodesPercent?: string }) => {
  const root = requireRoot(o.root);
  const thresholds = { maxUsedPercent: percent(o.maxUsedPercent, '--max-used-percent'), maxInodesPercent: percent(o.maxInodesPercent, '--max-inodes-percent') };
  return reportCheck(ctx, judgeDisk(diskUsage(o.path ?? [root]), thresholds));
});

export const tlsHandler = agentHandler('check tls', async (ctx: Context, o: { root?: string; cert?: string[]; warnDays?: string }) => {
  requireRoot(o.root);
  if (o.cert === undefined || o.cert.length === 0) throw new MonoError('USAGE', 'give at least one --cert <file>');
  const now = new Date();
  return reportCheck(ctx, judgeTls(o.cert.map((file) => readCertificate(file, now)), { warnDays: parseCount(o.warnDays, '--warn-days'), now }));
});

export const healthHandler = agentHandler('check health', async (ctx: Context, o: { root?: string; app?: string; path?: string; nginxPort?: string; host?: string; nginxTls?: boolean; nginxAddress?: string; public?: boolean; timeoutMs?: string }) => {
  const root = requireRoot(o.root);
  const app = parseApp(o.app);
  if (app === undefined) throw new MonoError('USAGE', '--app is required');
  if (o.path === undefined || !o.path.startsWith('/')) throw new MonoError('USAGE', `--path must start with "/", got ${JSON.stringify(o.path ?? '')}`);
  const timeoutMs = parseCount(o.timeoutMs, '--timeout-ms', 5000);
  if (timeoutMs === 0) throw new MonoError('USAGE', '--timeout-ms must be above 0');
  const port = o.nginxPort === undefined ? undefined : parseCount(o.nginxPort, '--nginx-port');
  if (port === undefined && o.host !== undefined) throw new MonoError('USAGE', '--host is the Host header of the request through nginx: it needs --nginx-port');
  if (port !== undefined && (port < 1 || port > 65535)) throw new MonoError('USAGE', `--nginx-port must be a port (1-65535), got ${port}`);
  if (port === undefined && o.nginxTls === true) throw new MonoError('USAGE', '--nginx-tls asks nginx over HTTPS: it needs --nginx-port');
  if (port === undefined && o.public === true) throw new MonoError('USAGE', '--public asks the app on its public address: it needs --nginx-port');
  const nginx = port === undefined ? {} : { nginx: { port, address: bracketless(o.nginxAddress ?? '127.0.0.1'), tls: o.nginxTls === true, ...(o.host === undefined ? {} : { host: o.host }) } };
  if (!deployed(agentPaths(root).current)) {
    return reportCheck(ctx, { check: 'health', status: 'ok', message: 'nothing to check: no release has been deployed yet', details: { path: o.path, probes: [] } });
  }
  // Without a proxy (handover.strategy socket, bind-retry) the app has no socket of its own: its public address is all there is.
  return reportCheck(ctx, await checkHealth({ ...(o.public === true ? {} : { socketPath: `/run/${app}/current.sock` }), path: o.path, timeoutMs, ...nginx }));
});

export const lockHandler = agentHandler('check lock', async (ctx: Context, o: { root?: string; maxHeldMs?: string }) => {
  const paths = agentPaths(requireRoot(o.root));
  const maxHeldMs = parseCount(o.maxHeldMs, '--max-held-ms', DEFAULT_MAX_HELD_MS);
  return reportCheck(ctx, judgeLock(await lockStatus(paths), { maxHeldMs, now: new Date() }));
});

function percent(value: string | undefined, option: string): number {
  const n = parseCount(value, option);
  if (n < 1 || n > 100) throw new MonoError('USAGE', `${option} must be a percentage from 1 to 100, got ${n}`);
  return n;
}

/** Whether the box has a current release at all (the current link exists, even if it points nowhere). */
function deployed(current: string): boolean {
  try {
    lstatSync(current);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** [::1] → ::1, as node:http wants an IPv6 host. */
function bracketless(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}
