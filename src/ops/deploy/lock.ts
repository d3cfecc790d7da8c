// The deploy lock: held by an agent process on the box for as long as this deploy's SSH channel is open.
import { createInterface } from 'node:readline';
import { MonoError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { LockInfo, LockReply } from '../../release/protocol.js';
import type { SshTransport } from '../../transport/ssh.js';
import { operator } from '../audit.js';
import { agentArgv, parseReply } from './agent-call.js';

export interface HeldLock {
  readonly info: LockInfo;
  /** Throws when the agent process that held the lock on the box has gone (killed, or the box restarted). */
  assertHeld(): void;
  release(): Promise<void>;
}

export interface LockRequest {
  readonly operation: string;
  readonly release?: string;
  readonly message?: string;
}

/** Who asks for the lock: this operator and the machine they run mono on. */
export function lockRequester(request: LockRequest): LockRequest & { by: string; from: string } {
  const by = operator();
  return { by, from: by.split('@')[1] ?? 'unknown', ...request };
}

export function describeHolder(holder: LockInfo, stale: boolean): string {
  const what = holder.release === undefined ? holder.operation : `${holder.operation} of ${holder.release}`;
  return `${holder.by} (${what}, since ${holder.since}${holder.message === undefined ? '' : `: "${holder.message}"`})${stale ? ' — its process is gone, so the lock is stale' : ''}`;
}

export function lockedError(holder: LockInfo, stale: boolean): MonoError {
  return new MonoError('LOCKED', `the app is locked by ${describeHolder(holder, stale)}`, {
    hint: stale
      ? 'the run that held it was killed or the box restarted: check `mono releases`, then clear it with `mono lock release --force`'
      : 'wait for it to finish, or run again with --wait-lock to wait',
  });
}

async function tryHold(t: SshTransport, root: string, request: LockRequest): Promise<{ held?: HeldLock; reply: LockReply }> {
  const proc = await t.spawn(agentArgv(['lock', 'hold'], root));
  proc.stdin.write(JSON.stringify(lockRequester(request)) + '\n');
  const lines = createInterface({ input: proc.stdout });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(undefined));
  });
  if (first === undefined) {
    const code = await proc.exit;
    throw new MonoError('REMOTE_FAILED', `the agent on the box could not take the deploy lock (exit ${String(code)})`, { hint: 'run `mono setup` to install the agent, then try again' });
  }
  const reply = parseReply<LockReply>(first, 'lock hold');
  if (!reply.locked) {
    proc.stdin.end();
    await proc.exit;
    return { reply };
  }
  let released = false;
  let lost = false;
  void proc.exit.then(() => {
    if (!released) lost = true;
  });
  const held: HeldLock = {
    info: reply.info,
    assertHeld() {
      if (lost) {
        throw new MonoError('LOCKED', 'the deploy lost its lock on the box (the process holding it was stopped); nothing was switched', {
          hint: 'look at `mono lock status`, then deploy again',
        });
      }
    },
    async release() {
      if (released) return;
      released = true;
      proc.stdin.write('release\n');
      proc.stdin.end();
      await proc.exit;
    },
  };
  return { held, reply };
}

/** Takes the lock, or fails at once naming the holder; with wait, polls until it is free. */
export async function acquireLock(t: SshTransport, root: string, request: LockRequest, options: { wait: boolean; log: Logger; pollMs?: number; timeoutMs?: number }): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  let announced = false;
  for (;;) {
    const { held, reply } = await tryHold(t, root, request);
    if (held !== undefined) return held;
    if (reply.locked) throw new MonoError('INTERNAL', 'inconsistent lock reply');
    if (!options.wait || reply.stale || Date.now() > deadline) throw lockedError(reply.holder, reply.stale);
    if (!announced) {
      options.log.info(`waiting for the lock held by ${describeHolder(reply.holder, false)}…`);
      options.log.event('lock.wait', { holder: reply.holder });
      announced = true;
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
  }
}
