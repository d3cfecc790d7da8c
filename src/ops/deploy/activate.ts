// Activation: start the new release's units, health-check the web instance, switch, watch it for the verify window (switching
// back to the old instance, still running, if it crashes), then retire the old instances.
import { serviceProcesses, type Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { layoutOf } from '../setup/layout.js';
import { auditVia } from './audit-entry.js';
import type { HeldLock } from './lock.js';
import type { Logger } from '../../log/logger.js';
import type { Transport } from '../../transport/transport.js';
import { healthProbe, listInstances, parseInstances, priv, readCurrentSocket, releaseOfSocket, switchCurrent, watchUnit } from './units.js';

export interface Activation {
  readonly app: string;
  readonly root: string;
  readonly runDir: string;
  readonly helper: string;
  readonly release: string;
  /** Long-running process types (web first). */
  readonly processes: readonly string[];
  readonly healthPath: string;
  readonly healthTimeoutMs: number;
  /** How long the new web instance is watched after the switch (0: not at all). */
  readonly verifyWindowMs: number;
}

/** The new release crashed within the verify window and traffic went back to `to`. */
export class SwitchedBackError extends MonoError {
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string, message: string, options: { hint: string; details: readonly string[] }) {
    super('HEALTH_FAILED', message, options);
    this.from = from;
    this.to = to;
  }
}

/** What activating `release` of this app means: its long-running process types (web first) and the health check. */
export function activationFor(config: Config, release: string, processes: readonly string[] = orderedProcesses(config.processes)): Activation {
  const L = layoutOf(config);
  return {
    app: config.app,
    root: L.root,
    runDir: L.runDir,
    helper: L.privHelper,
    release,
    processes,
    healthPath: config.health.path,
    healthTimeoutMs: config.health.timeoutMs,
    verifyWindowMs: config.handover.verifyWindowMs,
  };
}

/** web first, so traffic can switch as soon as it is healthy; release is a one-off, not a unit. */
export function orderedProcesses(processes: Readonly<Record<string, string>>): string[] {
  const names = serviceProcesses({ processes });
  return [...names.filter((n) => n === 'web'), ...names.filter((n) => n !== 'web')];
}

/** activate(), and when it switched back after a crash, the audit line that says so. */
export async function activateAudited(lock: HeldLock, t: Transport, a: Activation, log: Logger): Promise<{ retired: string[] }> {
  try {
    return await activate(t, a, log);
  } catch (error) {
    if (error instanceof SwitchedBackError) await auditVia(lock, { action: 'switch back', release: error.to, from: error.from });
    throw error;
  }
}

/** Watches the new web instance; if it crashes, points traffic back at `previous` (still running) and stops the new release. */
async function verifyWindow(t: Transport, a: Activation, previous: string | undefined, log: Logger): Promise<void> {
  const unit = `${a.app}-web@${a.release}.service`;
  const seconds = a.verifyWindowMs / 1000;
  log.info(`  watching ${unit} for ${seconds} s`);
  const watch = await t.run(watchUnit(unit, a.verifyWindowMs), { timeoutMs: a.verifyWindowMs + 30_000 });
  if (watch.code === 0) return;
  const tail = await logTail(t, a, 'web');
  const hint = `fix the app (its last log lines are above; more with journalctl -u ${unit}) and deploy again`;
  if (previous === undefined) {
    throw new MonoError('HEALTH_FAILED', `the new web instance crashed within ${seconds} s after the switch, and there is no earlier release to go back to`, { hint, details: tail });
  }
  await t.run(switchCurrent(a.runDir, a.root, previous));
  log.warn(`the new web instance crashed after the switch: switched back to ${previous}`);
  await stopNew(t, a);
  throw new SwitchedBackError(a.release, previous, `the new web instance crashed within ${seconds} s after the switch; traffic went back to ${previous}, which still serves`, { hint, details: tail });
}

async function logTail(t: Transport, a: Activation, process: string, lines = 30): Promise<string[]> {
  const out = await t.run({ ...priv(a.helper, 'logs', process, a.release, String(lines)), okCodes: [0, 1] }).catch(() => undefined);
  return (out?.stdout ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-- ')).slice(-lines);
}

/** Best effort: a failure here must not hide the error that made us stop. */
async function stopNew(t: Transport, a: Activation): Promise<void> {
  for (const process of a.processes) await t.run({ ...priv(a.helper, 'retire', process, a.release), okCodes: [0, 1, 5] }).catch(() => undefined);
}

export async function activate(t: Transport, a: Activation, log: Logger): Promise<{ retired: string[] }> {
  for (const process of a.processes) {
    log.info(`  starting ${a.app}-${process}@${a.release}`);
    try {
      await t.run(priv(a.helper, 'enable', process, a.release));
    } catch (error) {
      const tail = await logTail(t, a, process);
      await stopNew(t, a);
      throw new MonoError('HEALTH_FAILED', `${a.app}-${process}@${a.release} did not start; nothing was switched, the previous release still serves`, { hint: 'fix the app (its log is above) and deploy again', details: tail, cause: error });
    }
  }
  if (a.processes.includes('web')) {
    const unit = `${a.app}-web@${a.release}.service`;
    log.info(`  health check: GET ${a.healthPath} on ${a.runDir}/${a.release}.sock`);
    const probe = await t.run(healthProbe(`${a.runDir}/${a.release}.sock`, a.healthPath, unit, Math.ceil(a.healthTimeoutMs / 1000)), { timeoutMs: a.healthTimeoutMs + 30_000 });
    if (probe.code !== 0) {
      const tail = await logTail(t, a, 'web');
      await stopNew(t, a);
      throw new MonoError(
        'HEALTH_FAILED',
        probe.code === 2
          ? `the new web instance crashed while starting; nothing was switched, the previous release still serves`
          : `the new web instance did not answer GET ${a.healthPath} with 2xx within ${Math.round(a.healthTimeoutMs / 1000)} s; nothing was switched, the previous release still serves`,
        { hint: `fix the app (its last log lines are above; more with journalctl -u ${unit}) and deploy again`, details: tail },
      );
    }
  }
  const previous = releaseOfSocket((await t.run(readCurrentSocket(a.runDir))).stdout);
  await t.run(switchCurrent(a.runDir, a.root, a.release));
  log.info(`  switched: ${a.runDir}/current.sock → ${a.release}.sock, current → releases/${a.release}`);
  if (a.processes.includes('web') && a.verifyWindowMs > 0) await verifyWindow(t, a, previous, log);
  const instances = parseInstances(a.app, (await t.run(listInstances(a.app))).stdout);
  const retired: string[] = [];
  for (const old of instances) {
    if (old.release === a.release || old.active === 'inactive' || old.active === 'failed') continue;
    await t.run({ ...priv(a.helper, 'retire', old.process, old.release), okCodes: [0, 1, 5] });
    retired.push(old.unit);
  }
  if (retired.length > 0) log.info(`  retiring ${retired.join(', ')} (they finish their work and exit)`);
  return { retired };
}
