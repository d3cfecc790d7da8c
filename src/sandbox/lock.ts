// A directory lock (mkdir is atomic) with the owner's pid inside, so a lock left by a killed process is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MonoError } from '../errors.js';
import { sleep } from './exec.js';
import { isAlive } from './proc.js';

export interface LockOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called once when the lock is busy, with the owner's pid. */
  readonly onWait?: (ownerPid: number | undefined) => void;
}

function ownerOf(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock and returns its release function. */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let told = false;
  let ownerless = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), `${process.pid}\n`);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(dir);
    // No pid file for a few seconds, or a dead owner: the lock is stale.
    ownerless = owner === undefined ? ownerless + 1 : 0;
    if ((owner !== undefined && !isAlive(owner)) || ownerless > 20) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      options.onWait?.(owner);
      told = true;
    }
    if (Date.now() >= deadline) {
      throw new MonoError('LOCAL_FAILED', `timed out waiting for the lock ${dir}${owner === undefined ? '' : ` (held by pid ${owner})`}`, {
        hint: `if no other mono is running, remove ${dir}`,
      });
    }
    await sleep(250, options.signal);
  }
}
