// The steps of a handover, run on the box by the handover runner: start the new release's units, health-check the web
// instance through its own socket, switch traffic (one atomic rename), confirm through nginx that the new release answers,
// watch it for the verify window (switching back to the old instance, still running, if it crashes), and retire old ones.
import { MonoError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import type { HandoverSpec } from './spec.js';
import { isActive } from '../commands/system.js';
import { assignPort } from './port.js';
import { answeringRelease, awaitOnFront } from './front.js';
import { confirmRouteNow, switchCurrentNow } from './route.js';
import { healthProbe, listInstances, parseInstances, priv, watchUnit, type Instance } from './units.js';

/** Where a handover reports progress: the CLI's logger, or the runner's journal on the box. */
export interface Say {
  info(message: string): void;
  warn(message: string): void;
  event(type: string, fields?: Record<string, unknown>): void;
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

const webUnit = (s: HandoverSpec): string => `${s.app}-web@${s.release}.service`;
const fixHint = (s: HandoverSpec): string => `fix the app (its last log lines are above; more with journalctl -u ${webUnit(s)}) and deploy again`;

async function logTail(t: Transport, s: HandoverSpec, process: string, lines = 30): Promise<string[]> {
  const out = await t.run({ ...priv(s.helper, 'logs', process, s.release, String(lines)), okCodes: [0, 1] }).catch(() => undefined);
  return (out?.stdout ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-- ')).slice(-lines);
}

/** Best effort: a failure here must not hide the error that made us stop. */
export async function stopNew(t: Transport, s: HandoverSpec): Promise<void> {
  for (const process of s.processes) await t.run({ ...priv(s.helper, 'retire', process, s.release), okCodes: [0, 1, 5] }).catch(() => undefined);
}

/** Starts every process type of the new release and health-checks its web instance. On failure nothing was switched. */
export async function startNew(t: Transport, s: HandoverSpec, say: Say): Promise<void> {
  if (s.strategy === 'nginx' && s.listen === 'port' && s.processes.includes('web')) {
    const running = (await t.run(isActive(webUnit(s)))).code === 0;
    const port = await assignPort(`${s.root}/.mono/instances`, s.release, running);
    say.info(`  web listens on 127.0.0.1:${port}, bridged to ${s.runDir}/${s.release}.sock`);
  }
  for (const process of s.processes) {
    say.info(`  starting ${s.app}-${process}@${s.release}`);
    try {
      await t.run(priv(s.helper, 'enable', process, s.release));
    } catch (error) {
      const tail = await logTail(t, s, process);
      await stopNew(t, s);
      throw new MonoError('HEALTH_FAILED', `${s.app}-${process}@${s.release} did not start; nothing was switched, the previous release still serves`, { hint: 'fix the app (its log is above) and deploy again', details: tail, cause: error });
    }
  }
  if (!s.processes.includes('web')) return;
  if (s.strategy !== 'nginx') return checkOnFront(t, s, say);
  say.info(`  health check: GET ${s.healthPath} on ${s.runDir}/${s.release}.sock`);
  const probe = await t.run(healthProbe(`${s.runDir}/${s.release}.sock`, s.healthPath, webUnit(s), Math.ceil(s.healthTimeoutMs / 1000)), { timeoutMs: s.healthTimeoutMs + 30_000 });
  if (probe.code === 0) return;
  const tail = await logTail(t, s, 'web');
  await stopNew(t, s);
  throw new MonoError(
    'HEALTH_FAILED',
    probe.code === 2
      ? `the new web instance crashed while starting; nothing was switched, the previous release still serves`
      : `the new web instance did not answer GET ${s.healthPath} with 2xx within ${Math.round(s.healthTimeoutMs / 1000)} s; nothing was switched, the previous release still serves`,
    { hint: fixHint(s), details: tail },
  );
}

/**
 * Without a proxy the health check goes where clients connect: until an answer from the new release comes, the new version
 * has not started accepting (socket) or not taken the port over (bind-retry), and the old one serves.
 */
async function checkOnFront(t: Transport, s: HandoverSpec, say: Say): Promise<void> {
  const how = s.strategy === 'socket' ? 'accepting on the shared socket' : 'taking the port over';
  say.info(`  health check: GET ${s.confirm.url} until the new release answers (${how})`);
  const result = await awaitOnFront(t, s.confirm.url, s.confirm.host, s.release, webUnit(s), s.healthTimeoutMs);
  if (result === 'healthy') return;
  const tail = await logTail(t, s, 'web');
  await stopNew(t, s);
  const serving = await answeringRelease(s.confirm.url, s.confirm.host);
  const after =
    serving === undefined
      ? s.strategy === 'bind-retry'
        ? `nothing answers on ${s.confirm.url} now: the previous release let go of the port when told to (bind-retry is best effort)`
        : `nothing answers on ${s.confirm.url} now`
      : 'nothing was switched, the previous release still serves';
  const what =
    result === 'crashed'
      ? 'the new web instance crashed while starting'
      : `no answer from the new release to GET ${s.healthPath} on ${s.confirm.url} within ${Math.round(s.healthTimeoutMs / 1000)} s (it must accept ${s.strategy === 'socket' ? 'on the socket it inherits' : 'on the port once the old version lets go'} when ready, answer 2xx, and name itself in X-Mono-Release when asked with X-Mono-Probe)`;
  throw new MonoError('HEALTH_FAILED', `${what}; ${after}`, {
    hint: serving === undefined && s.strategy === 'bind-retry' ? `start the previous release's web unit again on the box, or deploy a fixed release; ${fixHint(s)}` : fixHint(s),
    details: tail,
  });
}

/**
 * Switches traffic to the new release and confirms through nginx that it answers; returns the milliseconds from the call
 * (the new release is healthy) to confirmed. Not confirmed: traffic goes back to `previous` and the new release stops.
 */
export async function switchTo(t: Transport, s: HandoverSpec, previous: string | undefined, say: Say): Promise<number> {
  const started = performance.now();
  switchCurrentNow(s.runDir, s.root, s.release);
  if (s.strategy !== 'nginx') {
    // Nothing to switch: the health check saw the new release answer where clients connect. current follows it.
    say.info(s.strategy === 'socket' ? `  ${s.release} accepts on the shared socket (${s.confirm.url}) beside the old version` : `  ${s.release} took over ${s.confirm.url}`);
    return Math.round(performance.now() - started);
  }
  const confirmed = await confirmRouteNow(s.confirm.url, s.confirm.host, s.release, 5000);
  const ms = Math.round(performance.now() - started);
  if (confirmed) {
    say.info(`  switched: ${s.runDir}/current.sock → ${s.release}.sock, confirmed through nginx in ${ms} ms`);
    return ms;
  }
  if (previous !== undefined) switchCurrentNow(s.runDir, s.root, previous);
  await stopNew(t, s);
  throw new MonoError('HEALTH_FAILED', `nginx did not route requests to the new release within 5 s of the switch (GET ${s.confirm.url} with Host ${s.confirm.host}); ${previous === undefined ? 'it was stopped' : `traffic went back to ${previous}`}`, {
    hint: 'check the nginx site (`nginx -T`) and that mono setup ran with this config, then deploy again',
  });
}

/** Watches the new web instance for the verify window; if it crashes, points traffic back at `previous` (still running). */
export async function verifyAfterSwitch(t: Transport, s: HandoverSpec, previous: string | undefined, say: Say): Promise<void> {
  if (!s.processes.includes('web') || s.verifyWindowMs <= 0) return;
  const seconds = s.verifyWindowMs / 1000;
  say.info(`  watching ${webUnit(s)} for ${seconds} s`);
  const watch = await t.run(watchUnit(webUnit(s), s.verifyWindowMs), { timeoutMs: s.verifyWindowMs + 30_000 });
  if (watch.code === 0) return;
  const tail = await logTail(t, s, 'web');
  if (s.strategy === 'bind-retry') {
    // The old version closed its listener when the new one signalled it: there is nothing to go back to. systemd restarts
    // the new one (Restart=on-failure); the old one finishes its work and exits.
    throw new MonoError('HEALTH_FAILED', `the new web instance crashed within ${seconds} s after it took over ${s.confirm.url}; bind-retry cannot give the port back to the old version`, {
      hint: `systemd restarts it; ${fixHint(s)} (handover.strategy: socket can switch back)`,
      details: tail,
    });
  }
  if (previous === undefined) {
    throw new MonoError('HEALTH_FAILED', `the new web instance crashed within ${seconds} s after the switch, and there is no earlier release to go back to`, { hint: fixHint(s), details: tail });
  }
  switchCurrentNow(s.runDir, s.root, previous);
  say.warn(`the new web instance crashed after the switch: switched back to ${previous}`);
  await stopNew(t, s);
  throw new SwitchedBackError(s.release, previous, `the new web instance crashed within ${seconds} s after the switch; traffic went back to ${previous}, which still serves`, { hint: fixHint(s), details: tail });
}

const running = (i: Instance): boolean => i.active !== 'inactive' && i.active !== 'failed';

/** The app's instances (loaded units, running or not) of another release than `release`. */
export async function otherInstances(t: Transport, app: string, release: string): Promise<Instance[]> {
  const instances = parseInstances(app, (await t.run(listInstances(app))).stdout);
  // <app>-bridge@ units (handover.listen: port) go with their web instance: the helper's retire stops them.
  return instances.filter((i) => i.process !== 'bridge' && i.release !== release);
}

/**
 * Tells old instances to drain: no restart at boot, SIGTERM now; each exits once its work is done. Instances that already
 * exited by themselves (bind-retry: the old version drains as soon as the new one signals it) are only disabled, so a
 * reboot does not start them again. Returns the units that were still running.
 */
export async function retire(t: Transport, s: HandoverSpec, old: readonly Instance[], say: Say): Promise<string[]> {
  for (const i of old) await t.run({ ...priv(s.helper, 'retire', i.process, i.release), okCodes: [0, 1, 5] });
  const units = old.filter(running).map((i) => i.unit);
  if (units.length > 0) say.info(`  retiring ${units.join(', ')} (they finish their work and exit)`);
  return units;
}
