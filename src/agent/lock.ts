// The deploy lock: an atomic mkdir of <root>/.mono/lock holding info.json (who, from where, what, a token, maybe a pid).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MonoError } from '../errors.js';
import type { LockInfo, LockReply } from '../release/protocol.js';
import { errnoCode } from './fs-errors.js';
import { pidAlive } from './pid.js';
import type { AgentPaths } from './paths.js';
import { isRecord, parseJson } from './stdin.js';

/** What the CLI sends to take the lock. */
export interface LockRequest {
  readonly by: string;
  readonly from: string;
  readonly operation: string;
  readonly release?: string;
  readonly message?: string;
}

export type LockStatusReply = { readonly locked: false } | { readonly locked: true; readonly holder: LockInfo; readonly stale: boolean };

export type LockReleaseReply = { readonly released: true; readonly holder: LockInfo } | { readonly released: false; readonly holder?: LockInfo; readonly reason: string };

/** How long a lock folder without info.json is given to get one (its taker writes it right after the mkdir). */
export const INFO_WAIT_MS = 2000;

export function parseLockRequest(text: string): LockRequest {
  return lockRequestOf(parseJson(text, 'the lock request'));
}

export function lockRequestOf(value: unknown): LockRequest {
  if (!isRecord(value)) throw new MonoError('USAGE', 'the lock request must be a JSON object {by, from, operation, release?, message?}');
  const field = (name: string, required: boolean, max: number): string | undefined => {
    const v = value[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || (required && v.trim() === '') || v.length > max) {
      throw new MonoError('USAGE', `the lock request's "${name}" must be a ${required ? 'non-empty ' : ''}string of at most ${max} characters`);
    }
    return v;
  };
  const release = field('release', false, 200);
  const message = field('message', false, 2000);
  return {
    by: field('by', true, 200)!,
    from: field('from', true, 200)!,
    operation: field('operation', true, 200)!,
    ...(release === undefined ? {} : { release }),
    ...(message === undefined ? {} : { message }),
  };
}

/** Takes the lock, or reports who holds it. `pid` marks a lock held by a running process (stale once it is gone). */
export async function takeLock(paths: AgentPaths, request: LockRequest, options: { pid?: number; now?: Date; waitMs?: number } = {}): Promise<LockReply> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      mkdirSync(paths.lockDir, { mode: 0o700 });
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') throw new MonoError('PREREQ_MISSING', `${paths.monoDir} does not exist`, { hint: 'run `mono setup` first' });
      if (code !== 'EEXIST') throw error;
      const holder = await readHolder(paths, options.waitMs);
      if (holder === undefined) continue; // released meanwhile: try again
      return { locked: false, holder, stale: isStale(holder) };
    }
    const info: LockInfo = {
      by: request.by,
      from: request.from,
      since: (options.now ?? new Date()).toISOString(),
      operation: request.operation,
      ...(request.release === undefined ? {} : { release: request.release }),
      ...(request.message === undefined ? {} : { message: request.message }),
      token: randomBytes(16).toString('hex'),
      ...(options.pid === undefined ? {} : { pid: options.pid }),
    };
    try {
      const tmp = `${paths.lockDir}/.info.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600, flag: 'wx' });
      renameSync(tmp, paths.lockInfo);
    } catch (error) {
      rmSync(paths.lockDir, { recursive: true, force: true });
      throw error;
    }
    return { locked: true, info };
  }
  return { locked: false, holder: unknownHolder(paths.lockDir), stale: false };
}

/** The holder's info; waits up to `waitMs` for info.json to appear. Undefined when the lock went away meanwhile. */
export async function readHolder(paths: AgentPaths, waitMs = INFO_WAIT_MS): Promise<LockInfo | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return toLockInfo(JSON.parse(readFileSync(paths.lockInfo, 'utf8')) as unknown) ?? unknownHolder(paths.lockDir);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') return unknownHolder(paths.lockDir);
    }
    if (statSync(paths.lockDir, { throwIfNoEntry: false }) === undefined) return undefined;
    if (Date.now() >= deadline) return unknownHolder(paths.lockDir);
    await sleep(50);
  }
}

/** A holder with a pid that no longer runs on this box. */
export function isStale(holder: LockInfo): boolean {
  const { pid } = holder;
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) return false;
  return !pidAlive(pid);
}

export async function lockStatus(paths: AgentPaths, waitMs?: number): Promise<LockStatusReply> {
  const holder = statSync(paths.lockDir, { throwIfNoEntry: false }) === undefined ? undefined : await readHolder(paths, waitMs);
  return holder === undefined ? { locked: false } : { locked: true, holder, stale: isStale(holder) };
}

/** Releases the lock if `token` is the holder's, or whoever holds it with `force`. */
export async function releaseLock(paths: AgentPaths, options: { force?: boolean; token?: string; waitMs?: number }): Promise<LockReleaseReply> {
  const holder = statSync(paths.lockDir, { throwIfNoEntry: false }) === undefined ? undefined : await readHolder(paths, options.waitMs);
  if (holder === undefined) return { released: false, reason: 'not locked' };
  const ours = options.token !== undefined && options.token !== '' && options.token === holder.token;
  if (!ours && options.force !== true) {
    const who = `${holder.by} from ${holder.from} (${holder.operation}) since ${holder.since}`;
    return { released: false, holder, reason: options.token === undefined ? `held by ${who}; pass --token to release your own lock, or --force` : `the token does not match the holder's: held by ${who}` };
  }
  removeLockDir(paths);
  return { released: true, holder };
}

/** Removes the lock only if info.json still carries `token` (a forced release and a new holder may have come meanwhile). */
export function releaseIfOurs(paths: AgentPaths, token: string): boolean {
  if (heldWith(paths, token) === undefined) return false;
  removeLockDir(paths);
  return true;
}

/** The holder's info if it carries `token`. */
function heldWith(paths: AgentPaths, token: string): LockInfo | undefined {
  try {
    const info = toLockInfo(JSON.parse(readFileSync(paths.lockInfo, 'utf8')) as unknown);
    return info?.token === token ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Renamed away first, so that nobody ever sees a half-removed lock folder. */
function removeLockDir(paths: AgentPaths): void {
  const gone = `${paths.monoDir}/.lock-released-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(paths.lockDir, gone);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  rmSync(gone, { recursive: true, force: true });
}

function unknownHolder(lockDir: string): LockInfo {
  const st = statSync(lockDir, { throwIfNoEntry: false });
  return { by: 'unknown', from: 'unknown', since: (st?.mtime ?? new Date()).toISOString(), operation: 'unknown', token: '' };
}

function toLockInfo(value: unknown): LockInfo | undefined {
  if (!isRecord(value)) return undefined;
  const { by, from, since, operation, token, release, message, pid } = value;
  if (typeof by !== 'string' || typeof from !== 'string' || typeof since !== 'string' || typeof operation !== 'string' || typeof token !== 'string') return undefined;
  return {
    by,
    from,
    since,
    operation,
    ...(typeof release === 'string' ? { release } : {}),
    ...(typeof message === 'string' ? { message } : {}),
    token,
    ...(typeof pid === 'number' ? { pid } : {}),
  };
}

/** Hands a held lock to another process on the box (the handover runner): same token, its pid. False if it is not ours now. */
export function transferLock(paths: AgentPaths, token: string, pid: number): boolean {
  const info = heldWith(paths, token);
  if (info === undefined) return false;
  const tmp = `${paths.lockDir}/.info.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...info, pid }) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, paths.lockInfo);
  return true;
}
