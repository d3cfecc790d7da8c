// Waits until a booted box accepts an SSH login as root and systemd reports the boot finished.
import { readFileSync } from 'node:fs';
import { MonoError, tail } from '../errors.js';
import { run, sleep } from './exec.js';
import { isAlive } from './proc.js';
import { sshArgv, type SshTarget } from './ssh.js';

export interface ReadyTarget extends SshTarget {
  readonly name: string;
  readonly pid: number;
  readonly consoleLog: string;
}

export interface ReadyResult {
  readonly state: 'running' | 'degraded';
  /** `systemctl --failed` output when degraded. */
  readonly failedUnits: string;
}

export interface ReadyOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export const READY_TIMEOUT_MS = 90_000;

export function consoleTail(file: string, lines = 20): string[] {
  try {
    return tail(readFileSync(file, 'utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', ''), lines);
  } catch {
    return [];
  }
}

function notReady(box: ReadyTarget, message: string, lastError: string): MonoError {
  const details = [...consoleTail(box.consoleLog).map((l) => `console: ${l}`), ...(lastError === '' ? [] : [`ssh: ${lastError}`])];
  return new MonoError('LOCAL_FAILED', message, { hint: `the box's console is in ${box.consoleLog}`, details });
}

export async function waitReady(box: ReadyTarget, options: ReadyOptions = {}): Promise<ReadyResult> {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const signalOpt = options.signal === undefined ? {} : { signal: options.signal };
  let lastError = '';
  for (;;) {
    options.signal?.throwIfAborted();
    if (!isAlive(box.pid)) throw notReady(box, `sandbox "${box.name}" stopped while it was booting`, lastError);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw notReady(box, `sandbox "${box.name}" was not ready within ${timeoutMs / 1000} s`, lastError);
    const result = await run(sshArgv(box, ['systemctl is-system-running --wait']), { timeoutMs: Math.min(remaining, 60_000), ...signalOpt });
    const state = result.stdout.trim().split('\n').at(-1)?.trim() ?? '';
    if (state === 'running') return { state, failedUnits: '' };
    if (state === 'degraded') {
      const failed = await run(sshArgv(box, ['systemctl --failed --no-legend --plain']), { timeoutMs: 15_000, ...signalOpt });
      return { state, failedUnits: failed.stdout.trim() };
    }
    if (state === 'maintenance' || state === 'stopping' || state === 'offline') {
      throw notReady(box, `sandbox "${box.name}" booted into state "${state}"`, result.stderr.trim());
    }
    // 255: sshd not up yet (or the login failed); anything else: still starting.
    lastError = result.stderr.trim() || (state === '' ? lastError : `systemd state: ${state}`);
    await sleep(250, options.signal);
  }
}
