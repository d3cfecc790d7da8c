// Simple activation: start the new release's units, health-check the web instance, switch, retire the old instances.
import { serviceProcesses, type Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { layoutOf } from '../setup/layout.js';
import type { Logger } from '../../log/logger.js';
import type { Transport } from '../../transport/transport.js';
import { healthProbe, listInstances, parseInstances, priv, switchCurrent } from './units.js';

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
}

/** What activating `release` of this app means: its long-running process types (web first) and the health check. */
export function activationFor(config: Config, release: string, processes: readonly string[] = orderedProcesses(config.processes)): Activation {
  const L = layoutOf(config);
  return { app: config.app, root: L.root, runDir: L.runDir, helper: L.privHelper, release, processes, healthPath: config.health.path, healthTimeoutMs: config.health.timeoutMs };
}

/** web first, so traffic can switch as soon as it is healthy; release is a one-off, not a unit. */
export function orderedProcesses(processes: Readonly<Record<string, string>>): string[] {
  const names = serviceProcesses({ processes });
  return [...names.filter((n) => n === 'web'), ...names.filter((n) => n !== 'web')];
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
  await t.run(switchCurrent(a.runDir, a.root, a.release));
  log.info(`  switched: ${a.runDir}/current.sock → ${a.release}.sock, current → releases/${a.release}`);
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
