// What a deploy or a rollback asks the box's handover runner to do, from the config.
import { serviceProcesses, type Config } from '../../config/types.js';
import { newHandoverId, type HandoverKind, type HandoverSpec } from '../../handover/spec.js';
import { operator } from '../audit.js';
import { drainTimeoutMs } from '../setup/render-files.js';
import { layoutOf } from '../setup/layout.js';
import { frontProbe, frontProbeUrl } from '../front-probe.js';

/** web first, so traffic can switch as soon as it is healthy; release is a one-off, not a unit. */
export function orderedProcesses(processes: Readonly<Record<string, string>>): string[] {
  const names = serviceProcesses({ processes });
  return [...names.filter((n) => n === 'web'), ...names.filter((n) => n !== 'web')];
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
  const front = frontProbe(config);
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
    strategy: config.handover.strategy,
    healthPath: config.health.path,
    healthTimeoutMs: config.health.timeoutMs,
    verifyWindowMs: config.handover.verifyWindowMs,
    drainBudgetsMs: Object.fromEntries(processes.map((p) => [p, drainTimeoutMs(config, p)])),
    confirm: { url: frontProbeUrl(front, config.health.path), host: front.host },
    ...(config.handover.tenantKey === undefined ? {} : { tenants: { dir: `${L.runDir}/tenants`, pinTimeoutMs: config.handover.tenantPinTimeoutMs } }),
    ...(r.keep === undefined ? {} : { keep: r.keep }),
    by: operator(),
    ...(r.message === undefined ? {} : { message: r.message }),
  };
}
