// The deploy lock, held by an agent session on the box for as long as this deploy's SSH channel is open. The same session
// answers the deploy's requests (which blobs are missing, build, audit, prune): one agent process for the whole deploy.
import { createInterface } from 'node:readline';
import type { Context } from '../../cli/context.js';
import { isErrorCode, MonoError } from '../../errors.js';
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

/** A deploy's agent process on the box (`mono agent session`): requests go one JSON line each, answers come back in order. */
export class AgentSession {
  readonly #t: SshTransport;
  readonly #proc: RemoteProcess;
  readonly #reader: LineReader;
  #ended = false;

  private constructor(t: SshTransport, proc: RemoteProcess, reader: LineReader) {
    this.#t = t;
    this.#proc = proc;
    this.#reader = reader;
    void proc.exit.then(() => (this.#ended = true));
  }

  /** Starts the agent and checks its version (its first line): a different version stops here, before anything changes. */
  static async start(t: SshTransport, root: string, onWarning: (message: string) => void = () => undefined): Promise<AgentSession> {
    const proc = await t.spawn(agentArgv(['session'], root));
    // A broken channel surfaces as the end of stdout (and a null exit), not as an unhandled stream error.
    proc.stdin.on('error', () => undefined);
    // The agent's warnings (stderr) are shown as they come; unread, they would fill the channel's window and stall the agent.
    createInterface({ input: proc.stderr, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim() !== '') onWarning(`on the box: ${line.replace(/^warning: /, '')}`);
    });
    const reader = new LineReader(proc.stdout);
    const first = await reader.next();
    if (first === undefined) {
      const code = await proc.exit;
      if (code === 127) throw new MonoError('PREREQ_MISSING', `the mono agent is not installed on ${t.where}`, { hint: 'run `mono setup` first: it installs the matching agent' });
      throw new MonoError('PREREQ_MISSING', `the mono agent on ${t.where} cannot run a deploy session (exit ${String(code)})`, { hint: 'run `mono setup` first: it installs the agent that matches this mono' });
    }
    const hello = parseReply<SessionHello>(first, 'session');
    if (hello.agent !== monoVersion()) {
      proc.stdin.end();
      await proc.exit;
      throw new MonoError('PREREQ_MISSING', `the box runs mono agent ${hello.agent ?? '(an older version)'}, this is mono ${monoVersion()}`, { hint: 'run `mono setup` first: it installs the matching agent' });
    }
    return new AgentSession(t, proc, reader);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Sends one request and waits for its answer; a failure on the box is thrown as the MonoError it was there. Calls may overlap: answers come in order. */
  async call<T>(request: SessionRequest): Promise<T> {
    this.#proc.stdin.write(JSON.stringify(request) + '\n');
    const line = await this.#reader.next();
    if (line === undefined) {
      throw new MonoError('SSH_DISCONNECTED', `the agent session on ${this.#t.where} ended during "${request.op}" (the connection dropped or the agent was killed)`, {
        hint: 'run the same command again: every step checks before it changes anything',
      });
    }
    const reply = parseReply<SessionReply>(line, `"${request.op}"`);
    if (reply.ok) return reply.result as T;
    const code = isErrorCode(reply.error.code) ? reply.error.code : 'REMOTE_FAILED';
    throw new MonoError(code, reply.error.message, { ...(reply.error.hint === undefined ? {} : { hint: reply.error.hint }), details: reply.error.details });
  }

  /** Ends the session: the agent releases the lock (if it holds it) and removes what it staged. */
  async end(): Promise<void> {
    this.#proc.stdin.write('release\n');
    this.#proc.stdin.end();
    await this.#proc.exit;
  }
}

async function tryHold(session: AgentSession, request: LockRequest): Promise<{ held?: HeldLock; reply: LockReply }> {
  const reply = await session.call<LockReply>({ op: 'lock', request: lockRequester(request) });
  if (!reply.locked) {
    await session.end();
    return { reply };
  }
  let released = false;
  const lostError = (): MonoError =>
    new MonoError('LOCKED', 'the deploy lost its lock on the box (the process holding it was stopped or the connection dropped); nothing was switched', {
      hint: 'look at `mono lock status`, then deploy again',
    });
  const held: HeldLock = {
    info: reply.info,
    assertHeld() {
      if (session.ended && !released) throw lostError();
    },
    async call<T>(req: SessionRequest): Promise<T> {
      if (released || session.ended) throw lostError();
      return session.call<T>(req);
    },
    async release() {
      if (released) return;
      released = true;
      await session.end();
    },
  };
  return { held, reply };
}

/** Runs `work` holding the lock; it is released at the end, and by the CLI's cleanups on Ctrl-C. */
export async function holdingLock<T>(ctx: Context, lock: HeldLock, work: () => Promise<T>): Promise<T> {
  const unregister = ctx.onCleanup(() => lock.release());
  try {
    return await work();
  } finally {
    unregister();
    await lock.release();
  }
}

/** Takes the lock, or fails at once naming the holder; with wait, polls until it is free (each try is a new session). */
export async function acquireLock(
  t: SshTransport,
  root: string,
  request: LockRequest,
  options: { wait: boolean; log: Logger; pollMs?: number; timeoutMs?: number; session?: Promise<AgentSession> },
): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  let announced = false;
  let session = options.session ?? AgentSession.start(t, root, (m) => options.log.warn(m));
  for (;;) {
    const { held, reply } = await tryHold(await session, request);
    if (held !== undefined) return held;
    if (reply.locked) throw new MonoError('INTERNAL', 'inconsistent lock reply');
    if (!options.wait || reply.stale || Date.now() > deadline) throw lockedError(reply.holder, reply.stale);
    if (!announced) {
      options.log.info(`waiting for the lock held by ${describeHolder(reply.holder, false)}…`);
      options.log.event('lock.wait', { holder: reply.holder });
      announced = true;
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
    session = AgentSession.start(t, root, (m) => options.log.warn(m));
  }
}
