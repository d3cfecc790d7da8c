// Starts a box's systemd-nspawn in its own session (it outlives mono) and stops it with a clean power-off.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { sleep } from './exec.js';
import { findTool } from './which.js';
import { childrenOf, findNspawnPids, isAlive, isNspawnFor, signal } from './proc.js';

export interface StartOptions {
  readonly rootDir: string;
  /** Container host name. */
  readonly machine: string;
  /** nspawn's own output and the box's console go here. */
  readonly logFile: string;
  /** cgroup.procs files the process moves itself into before nspawn starts (the box's own cgroups). */
  readonly cgroupProcs?: readonly string[];
}

/**
 * A fixed wrapper: move this shell into each cgroup given ("$1" is how many), then exec nspawn with the rest,
 * so that nspawn starts in the box's own cgroup and keeps this pid.
 */
const WRAPPER = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; n=$((n - 1)); done; exec "$@"';

/** The full argv that starts a box: the cgroup wrapper around nspawnArgv. */
export function startArgv(options: StartOptions, nspawnPath = 'systemd-nspawn'): string[] {
  const cgroups = options.cgroupProcs ?? [];
  const [, ...args] = nspawnArgv(options);
  return ['/bin/sh', '-c', WRAPPER, 'mono-sandbox', String(cgroups.length), ...cgroups, nspawnPath, ...args];
}

/** The argv that boots a box (exported so tests can assert it). */
export function nspawnArgv(options: Pick<StartOptions, 'rootDir' | 'machine'>): string[] {
  return ['systemd-nspawn', '--register=no', '--keep-unit', '--link-journal=no', '-D', options.rootDir, '--boot', `--machine=${options.machine}`];
}

/** Spawns systemd-nspawn detached (setsid) with output to logFile; returns its pid at once, without waiting for the boot. */
export function startNspawn(options: StartOptions): number {
  const [file, ...args] = startArgv(options, findTool('systemd-nspawn') ?? 'systemd-nspawn');
  const fd = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(file ?? '/bin/sh', args, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {
      // reported below through the missing pid, or later by the readiness check
    });
    if (child.pid === undefined) {
      throw new MonoError('PREREQ_MISSING', 'could not start systemd-nspawn', { hint: 'apt-get install systemd-container' });
    }
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

async function waitGone(pids: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Stops every nspawn running rootDir (the recorded pid is only a hint; /proc is the truth).
 * SIGTERM asks the box to power off; after timeoutMs the container's init and nspawn get SIGKILL.
 */
export async function stopNspawn(rootDir: string, hintPid: number | undefined, timeoutMs = 20_000, extraPids: () => number[] = () => []): Promise<void> {
  const pids = new Set(findNspawnPids(rootDir));
  if (hintPid !== undefined && isNspawnFor(hintPid, rootDir)) pids.add(hintPid);
  if (pids.size === 0) return;
  const list = [...pids];
  for (const pid of list) signal(pid, 'SIGTERM');
  if (await waitGone(list, timeoutMs)) return;
  // Killing nspawn alone would orphan the container; SIGKILL to the container's init ends its whole PID namespace.
  for (const pid of list) {
    for (const child of childrenOf(pid)) signal(child, 'SIGKILL');
    signal(pid, 'SIGKILL');
  }
  for (const pid of extraPids()) signal(pid, 'SIGKILL');
  if (!(await waitGone(list, 5_000))) {
    throw new MonoError('LOCAL_FAILED', `systemd-nspawn (pid ${list.join(', ')}) did not stop`, { hint: `kill it by hand: kill -KILL ${list.join(' ')}` });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous variant for process 'exit' handlers: SIGTERM, a short wait, then SIGKILL. Never throws. */
export function stopNspawnSync(rootDir: string, hintPid: number | undefined, timeoutMs = 5_000, extraPids: () => number[] = () => []): void {
  const pids = new Set(findNspawnPids(rootDir));
  if (hintPid !== undefined && isNspawnFor(hintPid, rootDir)) pids.add(hintPid);
  const list = [...pids];
  if (list.length === 0) return;
  for (const pid of list) signal(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (list.some(isAlive) && Date.now() < deadline) sleepSync(100);
  for (const pid of list.filter(isAlive)) {
    for (const child of childrenOf(pid)) signal(child, 'SIGKILL');
    signal(pid, 'SIGKILL');
  }
  if (list.some(isAlive)) for (const pid of extraPids()) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2_000;
  while (list.some(isAlive) && Date.now() < killDeadline) sleepSync(50);
}
