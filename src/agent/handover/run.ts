// `mono agent handover run --root R --id ID`: the handover itself, on the box, in a transient systemd unit started by the
// deploy's session (so that a dropped SSH connection or a closed laptop does not stop it). It holds the deploy lock, handed
// over by the session, until traffic has switched and the new release survived its verify window; then it moves pinned
// tenants as their jobs finish, tells the old release to drain and waits until it has exited.
import { setTimeout as sleep } from 'node:timers/promises';
import { isMonoError } from '../../errors.js';
import { otherInstances, retire, startNew, stopNew, SwitchedBackError, switchTo, verifyAfterSwitch } from '../../handover/activate.js';
import { waitForDrain } from '../../handover/drain-wait.js';
import { currentReleaseNow } from '../../handover/route.js';
import { TERMINAL, type HandoverSpec, type Pin } from '../../handover/spec.js';
import { LocalTransport } from '../../transport/local.js';
import type { Transport } from '../../transport/transport.js';
import { appendAudit } from '../audit.js';
import { releaseIfOurs } from '../lock.js';
import { agentPaths } from '../paths.js';
import { prune } from '../prune.js';
import { errorReply } from '../session.js';
import { Journal, listStates, readSpec } from './journal.js';
import { pidAlive } from '../pid.js';
import { busyTenants, pin, routeOf, routes, TENANT_KEY, unpin } from './tenants.js';

export interface RunOptions {
  readonly transport?: Transport;
  /** How often pinned tenants' busy reports are read (ms). */
  readonly pollMs?: number;
}

export async function runHandover(root: string, id: string, options: RunOptions = {}): Promise<number> {
  const paths = agentPaths(root);
  const dir = `${paths.monoDir}/handover`;
  const { spec, lockToken } = readSpec(dir, id);
  const t = options.transport ?? new LocalTransport();
  const now = new Date().toISOString();
  const j = new Journal(dir, { id, kind: spec.kind, release: spec.release, phase: 'starting', pid: process.pid, startedAt: now, updatedAt: now, pins: [], draining: [], drained: [] });
  let lockHeld = true;
  const releaseLock = (): void => {
    if (lockHeld) releaseIfOurs(paths, lockToken);
    lockHeld = false;
  };
  let pins: Pin[] = [];
  try {
    const previous = currentReleaseNow(spec.runDir);
    j.update({ ...(previous === undefined ? {} : { from: previous }) });
    await startNew(t, spec, j);
    let switchMs: number | undefined;
    try {
      if (spec.tenants !== undefined) releaseOrphanedPins(spec.tenants.dir, dir, id, j);
      if (spec.tenants !== undefined && previous !== undefined && previous !== spec.release) pins = pinBusy(spec, previous, j);
      switchMs = await switchTo(t, spec, previous, j);
      j.event('handover.switched', { release: spec.release, from: previous, ms: switchMs, pinned: pins.length });
      await verifyAfterSwitch(t, spec, previous, j);
    } catch (error) {
      // Traffic is back on `previous` (or never left it): the pinned tenants go with everybody else.
      unpinAll(spec, pins);
      pins = [];
      // Failed before the switch (switchTo stops the new release itself when the switch is not confirmed): stop what started.
      if (switchMs === undefined && !(isMonoError(error) && error.code === 'HEALTH_FAILED')) await stopNew(t, spec);
      throw error;
    }
    // Old instances drain now, unless tenants are pinned to them; the release before `previous` may still drain meanwhile.
    const retired = pins.length === 0 ? await retireOld(t, spec, dir, id, j) : [];
    appendAudit(paths.auditLog, { by: spec.by, action: spec.kind === 'deploy' ? 'activate' : 'rollback', release: spec.release, from: previous, retired, pinned: pins.map((p) => p.tenant), switchMs, message: spec.message });
    if (spec.keep !== undefined) {
      // The new release serves by now: a failed prune is reported, not a failed handover.
      await pruneReleases(spec, paths.auditLog, j).catch((error: unknown) => j.warn(`pruning old releases failed: ${String(error)}`));
    }
    releaseLock();
    j.update({ phase: pins.length > 0 ? 'pinned' : 'switched', switchMs, pins, draining: retired.map((unit) => ({ unit, since: new Date().toISOString() })) });
    j.info(`  ${spec.release} serves${pins.length > 0 ? `; ${pins.length} tenant${pins.length === 1 ? '' : 's'} stay on ${previous!} until their jobs finish` : ''}`);
    if (pins.length > 0) {
      await movePinned(spec, previous!, pins, j, options.pollMs ?? 500);
      const more = await retireOld(t, spec, dir, id, j);
      j.update({ draining: [...j.state.draining, ...more.map((unit) => ({ unit, since: new Date().toISOString() }))] });
    }
    const units = j.state.draining.map((d) => d.unit);
    if (units.length > 0) {
      j.update({ phase: 'draining' });
      const budget = Math.max(...Object.values(spec.drainBudgetsMs), 0) + 120_000;
      const drained = await waitForDrain(t, units, budget, j);
      j.event('drain.done', { instances: drained });
      j.update({ drained });
    }
    j.update({ phase: 'done' });
    return 0;
  } catch (error) {
    unpinAll(spec, pins);
    if (error instanceof SwitchedBackError) appendAudit(paths.auditLog, { by: spec.by, action: 'switch back', release: error.to, from: error.from });
    releaseLock();
    const reply = errorReply(error);
    j.update({ phase: error instanceof SwitchedBackError ? 'switched-back' : 'failed', pins: [], ...(reply.ok ? {} : { error: reply.error }) });
    if (!isMonoError(error)) j.warn(`handover runner failed: ${String(error)}`);
    return 1;
  }
}

/** Pins every tenant busy on `previous` to it (before the switch, so their next request still reaches it). */
function pinBusy(spec: HandoverSpec, previous: string, j: Journal): Pin[] {
  const dir = spec.tenants!.dir;
  const since = new Date().toISOString();
  const pins: Pin[] = [];
  for (const tenant of [...busyTenants(`${spec.root}/.mono/instances`, previous, spec.processes)].sort()) {
    if (!TENANT_KEY.test(tenant)) {
      j.warn(`tenant ${JSON.stringify(tenant)} is busy but is not a valid tenant key (letters, digits, "_", "." and "-"): it moves with everybody`);
      continue;
    }
    const route = routeOf(dir, tenant);
    if (route !== undefined && route !== 'current') continue; // pinned to an older release by an earlier handover still running
    pin(dir, tenant, previous);
    pins.push({ tenant, release: previous, since });
  }
  if (pins.length > 0) j.info(`  pinned to ${previous} until their jobs finish: ${pins.map((p) => p.tenant).join(', ')}`);
  return pins;
}

/** Moves each pinned tenant once its jobs are done (or at the pin timeout); changes found in one poll go together. */
async function movePinned(spec: HandoverSpec, previous: string, pins: Pin[], j: Journal, pollMs: number): Promise<void> {
  const { dir, pinTimeoutMs } = spec.tenants!;
  let left = pins;
  while (left.length > 0) {
    await sleep(pollMs);
    const busy = busyTenants(`${spec.root}/.mono/instances`, previous, spec.processes);
    const now = Date.now();
    const done = left.filter((p) => !busy.has(p.tenant));
    const expired = left.filter((p) => busy.has(p.tenant) && now - Date.parse(p.since) >= pinTimeoutMs);
    if (done.length === 0 && expired.length === 0) continue;
    for (const p of [...done, ...expired]) unpin(dir, p.tenant);
    if (done.length > 0) j.info(`  moved to ${spec.release} (their jobs finished): ${done.map((p) => p.tenant).join(', ')}`);
    if (expired.length > 0) j.warn(`moved to ${spec.release} at the pin timeout with jobs still running on ${previous}: ${expired.map((p) => p.tenant).join(', ')}`);
    left = left.filter((p) => !done.includes(p) && !expired.includes(p));
    j.event('tenants.moved', { to: spec.release, tenants: done.map((p) => p.tenant), timedOut: expired.map((p) => p.tenant) });
    j.update({ pins: left });
  }
}

/**
 * Retires running instances of other releases, except the current one (a later handover may have switched since), those
 * another live handover still pins tenants to, and those another live handover is starting.
 */
async function retireOld(t: Transport, spec: HandoverSpec, dir: string, id: string, j: Journal): Promise<string[]> {
  const others = listStates(dir).filter((s) => s.id !== id && !TERMINAL.has(s.phase) && pidAlive(s.pid));
  const spared = new Set([spec.release, currentReleaseNow(spec.runDir), ...others.map((s) => s.release), ...others.flatMap((s) => s.pins.map((p) => p.release))]);
  const old = (await otherInstances(t, spec.app, spec.release)).filter((i) => !spared.has(i.release));
  return retire(t, spec, old, j);
}

function unpinAll(spec: HandoverSpec, pins: readonly Pin[]): void {
  for (const p of pins) unpin(spec.tenants!.dir, p.tenant);
}

/** Tenants still routed to an old release by a handover that is gone (killed, or the box restarted it away) move back. */
function releaseOrphanedPins(tenantsDir: string, dir: string, id: string, j: Journal): void {
  const held = new Set(listStates(dir).filter((s) => s.id !== id && pidAlive(s.pid)).flatMap((s) => s.pins.map((p) => p.tenant)));
  const orphaned = [...routes(tenantsDir)].filter(([tenant, route]) => route !== 'current' && !held.has(tenant)).map(([tenant]) => tenant);
  for (const tenant of orphaned) unpin(tenantsDir, tenant);
  if (orphaned.length > 0) j.warn(`tenants left pinned by a handover that is gone now go with everybody: ${orphaned.join(', ')}`);
}

async function pruneReleases(spec: HandoverSpec, auditLog: string, j: Journal): Promise<void> {
  const pruned = await prune(spec.root, { keep: spec.keep!, app: spec.app, dryRun: false, warn: (m) => j.warn(m) });
  if (pruned.removedReleases.length === 0 && pruned.removedBlobs === 0) return;
  j.info(`  pruned ${pruned.removedReleases.length} old releases and ${pruned.removedBlobs} unused blobs`);
  appendAudit(auditLog, { by: spec.by, action: 'prune', removed: pruned.removedReleases, blobs: pruned.removedBlobs, freedBytes: pruned.freedBytes });
}
