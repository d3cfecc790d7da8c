// The deploy lock, held by an agent session on the box for as long as this deploy's SSH channel is open. The same session
// answers the deploy's requests (which blobs are missing, build, audit, prune): one agent process for the whole deploy.
import { MonoError, type ErrorCode } from '../../errors.js';
import { monoVersion } from '../../cli/version.js';
import type { Logger } from '../../log/logger.js';
import type { LockInfo, LockReply, SessionHello, SessionReply, SessionRequest } from '../../release/protocol.js';
import type { RemoteProcess, SshTransport } from '../../transport/ssh.js';
import { operator } from '../audit.js';
import { agentArgv, parseReply } from './agent-call.js';
import { LineReader } from './line-reader.js';

export interface HeldLock {
  readonly info: LockInfo;
  /** Throws when the agent process that held the lock on the box has gone (killed, or the box restarted). */
  assertHeld(): void;
  /** Sends one request to the session and waits for its answer; a failure on the box is thrown as the MonoError it was there. */
  call<T>(request: SessionRequest): Promise<T>;
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

/** An agent session started on the box, not yet holding the lock (its Node start-up overlaps with local work). */
export interface PendingSession {
  readonly proc: RemoteProcess;
  readonly reader: LineReader;
}

export async function startSession(t: SshTransport, root: string): Promise<PendingSession> {
  const proc = await t.spawn(agentArgv(['session'], root));
  // A broken channel surfaces as the end of stdout (and a null exit), not as an unhandled stream error.
  proc.stdin.on('error', () => undefined);
  return { proc, reader: new LineReader(proc.stdout) };
}

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>(['USAGE', 'REMOTE_FAILED', 'LOCAL_FAILED', 'CHECK_FAILED', 'DISK_FULL', 'LOCKED', 'PREREQ_MISSING', 'INTERNAL']);

async function tryHold(t: SshTransport, pending: PendingSession, request: LockRequest): Promise<{ held?: HeldLock; reply: LockReply }> {
  const { proc, reader } = pending;
  proc.stdin.write(JSON.stringify(lockRequester(request)) + '\n');
  const first = await reader.next();
  if (first === undefined) {
    const code = await proc.exit;
    if (code === 127) throw new MonoError('PREREQ_MISSING', `the mono agent is not installed on ${t.where}`, { hint: 'run `mono setup` first: it installs the matching agent' });
    throw new MonoError('REMOTE_FAILED', `the agent on the box could not take the deploy lock (exit ${String(code)})`, { hint: 'run `mono setup` to install the agent, then try again' });
  }
  const hello = parseReply<SessionHello>(first, 'session');
  if (hello.agent !== monoVersion()) {
    proc.stdin.end();
    await proc.exit;
    throw new MonoError('PREREQ_MISSING', `the box runs mono agent ${hello.agent ?? '(an older version)'}, this is mono ${monoVersion()}`, { hint: 'run `mono setup` first: it installs the matching agent' });
  }
  if (!hello.locked) {
    proc.stdin.end();
    await proc.exit;
    return { reply: hello };
  }
  let released = false;
  let lost = false;
  void proc.exit.then(() => {
    if (!released) lost = true;
  });
  const lostError = (): MonoError =>
    new MonoError('LOCKED', 'the deploy lost its lock on the box (the process holding it was stopped or the connection dropped); nothing was switched', {
      hint: 'look at `mono lock status`, then deploy again',
    });
  const held: HeldLock = {
    info: hello.info,
    assertHeld() {
      if (lost) throw lostError();
    },
    async call<T>(req: SessionRequest): Promise<T> {
      if (lost || released) throw lostError();
      proc.stdin.write(JSON.stringify(req) + '\n');
      const line = await reader.next();
      if (line === undefined) {
        throw new MonoError('SSH_DISCONNECTED', `the agent session on ${t.where} ended during "${req.op}" (the connection dropped or the agent was killed)`, {
          hint: 'run the same command again: every step checks before it changes anything',
        });
      }
      const reply = parseReply<SessionReply>(line, `"${req.op}"`);
      if (reply.ok) return reply.result as T;
      const code = ERROR_CODES.has(reply.error.code) ? (reply.error.code as ErrorCode) : 'REMOTE_FAILED';
      throw new MonoError(code, reply.error.message, { ...(reply.error.hint === undefined ? {} : { hint: reply.error.hint }), details: reply.error.details });
    },
    async release() {
      if (released) return;
      released = true;
      proc.stdin.write('release\n');
      proc.stdin.end();
      await proc.exit;
    },
  };
  return { held, reply: hello };
}

/** Takes the lock, or fails at once naming the holder; with wait, polls until it is free. */
export async function acquireLock(
  t: SshTransport,
  root: string,
  request: LockRequest,
  options: { wait: boolean; log: Logger; pollMs?: number; timeoutMs?: number; session?: Promise<PendingSession> },
): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  let announced = false;
  let pending = options.session ?? startSession(t, root);
  for (;;) {
    const { held, reply } = await tryHold(t, await pending, request);
    if (held !== undefined) return held;
    if (reply.locked) throw new MonoError('INTERNAL', 'inconsistent lock reply');
    if (!options.wait || reply.stale || Date.now() > deadline) throw lockedError(reply.holder, reply.stale);
    if (!announced) {
      options.log.info(`waiting for the lock held by ${describeHolder(reply.holder, false)}…`);
      options.log.event('lock.wait', { holder: reply.holder });
      announced = true;
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
    pending = startSession(t, root);
  }
}
