// Overlay mounts for boxes: mount, find what is mounted under a directory, and unmount with retries.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { run, runOk, sleep } from './exec.js';
import { findTool } from './which.js';

function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Every mount point on this machine, in mount order. */
export function mountPoints(): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((f): f is string => f !== undefined)
    .map(unescapeMountPath);
}

export function isMounted(path: string): boolean {
  return mountPoints().includes(path);
}

/** Mount points at or below dir, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found = mountPoints().filter((m) => m === dir || m.startsWith(prefix));
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

export async function mountOverlay(lower: string, upper: string, work: string, merged: string, signal?: AbortSignal): Promise<void> {
  await runOk(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged], { timeoutMs: 30_000, ...(signal === undefined ? {} : { signal }) });
}

/** Unmounts everything at or below dir: a few plain attempts, then a lazy unmount as the last resort. */
export async function unmountAll(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const targets = mountsUnder(dir);
    if (targets.length === 0) return;
    for (const target of targets) await run(['umount', target], { timeoutMs: 30_000 });
    if (mountsUnder(dir).length === 0) return;
    await sleep(300);
  }
  for (const target of mountsUnder(dir)) await run(['umount', '-l', target], { timeoutMs: 30_000 });
  const left = mountsUnder(dir);
  if (left.length > 0) {
    throw new MonoError('LOCAL_FAILED', `could not unmount ${left.join(', ')}`, { hint: `find what uses it with: fuser -vm ${left[0] ?? dir}` });
  }
}

/** Synchronous last-resort unmount for exit handlers: lazy, never throws. */
export function unmountAllSync(dir: string): void {
  for (const target of mountsUnder(dir)) {
    try {
      execFileSync(findTool('umount') ?? 'umount', ['-l', target], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // best effort
    }
  }
}

/** Removes a directory tree after unmounting anything below it, never crossing into another file system. */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountAll(dir);
  await runOk(['rm', '-rf', '--one-file-system', '--', dir], { timeoutMs: 300_000 });
}

/** Synchronous variant of removeTree for exit handlers (lazy unmounts). Never throws. */
export function removeTreeSync(dir: string): void {
  if (!existsSync(dir)) return;
  unmountAllSync(dir);
  try {
    execFileSync(findTool('rm') ?? 'rm', ['-rf', '--one-file-system', '--', dir], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // best effort
  }
}
