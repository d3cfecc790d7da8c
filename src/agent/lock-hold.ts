// `mono agent session` (and its older name `lock hold`): takes the lock for as long as the CLI's connection lives (until stdin
// ends or says "release"), answering the deploy's requests meanwhile.
import { MonoError } from '../errors.js';
import type { LockReply } from '../release/protocol.js';
import { type LockRequest, parseLockRequest, releaseIfOurs, takeLock } from './lock.js';
import type { AgentPaths } from './paths.js';
import { lines } from './stdin.js';
import { MAX_REQUEST_BYTES } from './session.js';

export interface HoldOptions {
  readonly pid?: number;
  /** Ends the hold early (SIGHUP): the lock is released as if stdin had ended. */
  readonly signal?: AbortSignal;
  readonly warn?: (message: string) => void;
  /** Answers a request line that arrives while the lock is held (each is awaited before the next is read). Without it, such lines are ignored. */
  readonly serve?: (line: string) => Promise<void>;
}

/**
 * Reads the request (first line), takes the lock and calls `reply` at once; if taken, waits for EOF or a "release"
 * line, then removes the lock if it is still ours. Resolves with the reply.
 */
export async function holdLock(paths: AgentPaths, input: AsyncIterable<Buffer | string>, reply: (r: LockReply) => void, options: HoldOptions = {}): Promise<LockReply> {
  const it = lines(input, MAX_REQUEST_BYTES)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new MonoError('USAGE', 'lock hold: expected the lock request (one JSON line) on stdin');
  const request: LockRequest = parseLockRequest(first.value);
  const result = await takeLock(paths, request, { pid: options.pid ?? process.pid });
  reply(result);
  if (!result.locked) return result;
  try {
    await untilReleased(it, options.signal, options.serve);
  } finally {
    if (!releaseIfOurs(paths, result.info.token)) options.warn?.('the lock was no longer ours (released by force?): left it alone');
    // No it.return() here: with a read still pending (hang-up), it would wait for input that never comes.
  }
  return result;
}

async function untilReleased(it: AsyncIterator<string>, signal: AbortSignal | undefined, serve: HoldOptions['serve']): Promise<void> {
  if (signal?.aborted === true) return;
  const aborted = new Promise<'aborted'>((resolve) => signal?.addEventListener('abort', () => resolve('aborted'), { once: true }));
  for (;;) {
    let next: IteratorResult<string> | 'aborted';
    try {
      next = await Promise.race([it.next(), aborted]);
    } catch {
      return; // stdin broke: the connection is gone
    }
    if (next === 'aborted' || next.done === true || next.value.trim() === 'release') return;
    if (serve !== undefined && next.value.trim() !== '') await serve(next.value);
  }
}
