// What a deploy or a rollback asks the box's handover runner to do, from the config.
import { serviceProcesses, type Config, type ListenAddress } from '../../config/types.js';
import { newHandoverId, type HandoverKind, type HandoverSpec } from '../../handover/spec.js';
import { operator } from '../audit.js';
import { drainTimeoutMs } from '../setup/render-files.js';
import { layoutOf } from '../setup/layout.js';

/** web first, so traffic can switch as soon as it is healthy; release is a one-off, not a unit. */
export function orderedProcesses(processes: Readonly<Record<string, string>>): string[] {
  const names = serviceProcesses({ processes });
  return [...names.filter((n) => n === 'web'), ...names.filter((n) => n !== 'web')];
}

/** How the box itself reaches nginx for this app: its listen address, or loopback when nginx listens on every address. */
function loopbackUrl(scheme: 'http' | 'https', l: ListenAddress, path: string): string {
  const a = l.address;
  const host = a === undefined || a === '0.0.0.0' || a === '*' ? '127.0.0.1' : a === '::' || a === '[::]' ? '[::1]' : a.includes(':') && !a.startsWith('[') ? `[${a}]` : a;
  return `${scheme}://${host}:${l.port}${path}`;
}

export interface SpecRequest {
  readonly kind: HandoverKind;
  readonly release: string;
  readonly processes?: readonly string[];
  readonly keep?: number;
  readonly message?: string;
}

export function handoverSpecFor(config: Config, r: SpecRequest): HandoverSpec {
  const L = layoutOf(config);
  const processes = r.processes ?? orderedProcesses(config.processes);
  const tls = config.nginx.tls;
  const host = config.nginx.serverNames.find((n) => n !== '_' && !n.includes('*') && !n.startsWith('~')) ?? 'localhost';
  return {
    id: newHandoverId(r.release),
    kind: r.kind,
    app: config.app,
    root: L.root,
    runDir: L.runDir,
    helper: L.privHelper,
    release: r.release,
    processes,
    listen: config.handover.listen,
    healthPath: config.health.path,
    healthTimeoutMs: config.health.timeoutMs,
    verifyWindowMs: config.handover.verifyWindowMs,
    drainBudgetsMs: Object.fromEntries(processes.map((p) => [p, drainTimeoutMs(config, p)])),
    confirm: { url: tls === undefined ? loopbackUrl('http', config.nginx.listen, config.health.path) : loopbackUrl('https', tls.listen, config.health.path), host },
    ...(config.handover.tenantKey === undefined ? {} : { tenants: { dir: `${L.runDir}/tenants`, pinTimeoutMs: config.handover.tenantPinTimeoutMs } }),
    ...(r.keep === undefined ? {} : { keep: r.keep }),
    by: operator(),
    ...(r.message === undefined ? {} : { message: r.message }),
  };
}
