// Takes boxes down: stop nspawn (clean power-off), remove its cgroups, unmount, delete the state dir. Safe twice and on half-made boxes.
import { MonoError } from '../errors.js';
import { cgroupPids, removeCgroups } from './cgroups.js';
import { inFlight } from './inflight.js';
import { removeTree, removeTreeSync, unmountAll } from './mounts.js';
import { stopNspawn, stopNspawnSync } from './nspawn.js';
import { boxPaths, checkBoxName } from './paths.js';
import { checkPrerequisites } from './prereq.js';
import { listBoxNames, readStateFile } from './state.js';

/** Tears down whatever exists of a box (the process, its cgroups, the mount, the files). */
export async function teardownBox(name: string, stopTimeoutMs?: number): Promise<void> {
  const paths = boxPaths(name);
  const state = readStateFile(paths.stateFile);
  await stopNspawn(paths.root, state !== undefined && state.pid > 0 ? state.pid : undefined, stopTimeoutMs, () => cgroupPids(name));
  removeCgroups(name);
  await unmountAll(paths.dir);
  await removeTree(paths.dir);
}

/** Cancels an `up` of this box that is running in this process, and waits until it has undone what it made. No-op otherwise. */
export async function cancelUp(name: string): Promise<void> {
  const flight = inFlight.get(name);
  if (flight === undefined) return;
  flight.controller.abort(new MonoError('INTERRUPTED', `sandbox "${name}" was taken down while it was starting`));
  await flight.done;
}

export async function sandboxDown(name: string): Promise<void> {
  checkBoxName(name);
  checkPrerequisites();
  await cancelUp(name);
  await teardownBox(name);
}

export async function sandboxDownAll(): Promise<void> {
  const names = [...new Set([...listBoxNames(), ...inFlight.keys()])];
  const results = await Promise.allSettled(names.map((name) => sandboxDown(name)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i] ?? '?'}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
  if (failed.length > 0) {
    throw new MonoError('LOCAL_FAILED', `could not take down ${failed.length} sandbox box${failed.length === 1 ? '' : 'es'}`, { details: failed, hint: 'run mono sandbox status, then try again' });
  }
}

/**
 * Best-effort synchronous teardown for process 'exit' handlers, where nothing asynchronous runs any more:
 * SIGTERM (SIGKILL after a few seconds), lazy unmount, delete the state dir. Never throws.
 */
export function sandboxDownSync(name: string): void {
  try {
    const paths = boxPaths(checkBoxName(name));
    const state = readStateFile(paths.stateFile);
    stopNspawnSync(paths.root, state !== undefined && state.pid > 0 ? state.pid : undefined, undefined, () => cgroupPids(name));
    removeCgroups(name);
    removeTreeSync(paths.dir);
  } catch {
    // best effort
  }
}
