// `mono agent session`: a deploy's one agent process. It answers one JSON line per request, in order: "lock" to take the deploy
// lock, then the requests that need it. It holds the lock until stdin ends (the connection closed) or says "release", and then
// removes it if it is still ours.
import { MonoError } from '../errors.js';
import type { SessionReply, SessionRequest } from '../release/protocol.js';
import { lockRequestOf, releaseIfOurs, takeLock } from './lock.js';
import type { AgentPaths } from './paths.js';
import { errorReply, MAX_REQUEST_BYTES } from './session.js';
import { isRecord, lines, parseJson } from './stdin.js';

export interface SessionLoopOptions {
  readonly pid?: number;
  /** Ends the session early (SIGHUP): the lock is released as if stdin had ended. */
  readonly signal?: AbortSignal;
  readonly warn?: (message: string) => void;
  /** Answers every request but "lock" (they come only once the lock is held). */
  readonly serve: (request: SessionRequest) => Promise<SessionReply>;
  /** Called with the token when the lock is taken (so that a signal handler can release it). */
  readonly onLocked?: (token: string) => void;
  /** True once the lock belongs to someone else (a handover runner): it is then not released at the end. */
  readonly handedOver?: () => boolean;
}

export async function runSession(paths: AgentPaths, input: AsyncIterable<Buffer | string>, send: (reply: SessionReply) => void, options: SessionLoopOptions): Promise<void> {
  const it = lines(input, MAX_REQUEST_BYTES)[Symbol.asyncIterator]();
  let token: string | undefined;
  try {
    for (;;) {
      const next = await nextLine(it, options.signal);
      if (next === undefined || next.trim() === 'release') return;
      if (next.trim() === '') continue;
      let request: SessionRequest;
      try {
        const value = parseJson(next, 'the session request');
        if (!isRecord(value) || typeof value['op'] !== 'string') throw new MonoError('USAGE', 'a session request must be a JSON object with an "op"');
        request = value as unknown as SessionRequest;
      } catch (error) {
        send(errorReply(error));
        continue;
      }
      if (request.op === 'lock') {
        if (token !== undefined) {
          send(errorReply(new MonoError('USAGE', 'this session holds the lock already')));
          continue;
        }
        let reply;
        try {
          reply = await takeLock(paths, lockRequestOf(request.request), { pid: options.pid ?? process.pid });
        } catch (error) {
          send(errorReply(error));
          return;
        }
        if (reply.locked) {
          token = reply.info.token;
          options.onLocked?.(token);
        }
        send({ ok: true, result: reply });
        if (!reply.locked) return;
        continue;
      }
      if (token === undefined) {
        send(errorReply(new MonoError('USAGE', `"${request.op}" needs the deploy lock: send "lock" first`)));
        continue;
      }
      send(await options.serve(request));
    }
  } finally {
    if (token !== undefined && options.handedOver?.() !== true && !releaseIfOurs(paths, token)) options.warn?.('the lock was no longer ours (released by force?): left it alone');
    // No it.return() here: with a read still pending (hang-up), it would wait for input that never comes.
  }
}

/** The next line; undefined at EOF, when stdin broke (the connection is gone) or when the signal fired. */
async function nextLine(it: AsyncIterator<string>, signal: AbortSignal | undefined): Promise<string | undefined> {
  if (signal?.aborted === true) return undefined;
  const aborted = new Promise<'aborted'>((resolve) => signal?.addEventListener('abort', () => resolve('aborted'), { once: true }));
  try {
    const next = await Promise.race([it.next(), aborted]);
    return next === 'aborted' || next.done === true ? undefined : next.value;
  } catch {
    return undefined;
  }
}
