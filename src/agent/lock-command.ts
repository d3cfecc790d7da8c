// Handlers of `mono agent session` and `mono agent lock acquire|status|release` (one JSON reply line each).
import type { Context } from '../cli/context.js';
import { monoVersion } from '../cli/version.js';
import type { SessionHello, SessionReply } from '../release/protocol.js';
import { runSession } from './session-loop.js';
import { serveRequest, sessionContext } from './session.js';
import { lockStatus, parseLockRequest, releaseIfOurs, releaseLock, takeLock } from './lock.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { readAll } from './stdin.js';

export const sessionHandler = agentHandler('session', async (ctx: Context, options: { root?: string }) => {
  const paths = agentPaths(requireRoot(options.root));
  const session = sessionContext(paths, (m) => ctx.log.warn(m));
  const hangup = new AbortController();
  const onHangup = (): void => hangup.abort();
  process.once('SIGHUP', onHangup);
  let token: string | undefined;
  // SIGINT/SIGTERM: the CLI entry runs cleanups before it exits.
  const unregister = ctx.onCleanup(() => {
    if (token !== undefined && !session.handedOver) releaseIfOurs(paths, token);
  });
  const send = (reply: SessionReply | SessionHello): void => ctx.log.data(JSON.stringify(reply));
  try {
    send({ agent: monoVersion() });
    await runSession(paths, process.stdin, send, {
      signal: hangup.signal,
      warn: (m) => ctx.log.warn(m),
      onLocked: (t) => {
        token = t;
        session.token = t;
      },
      handedOver: () => session.handedOver,
      serve: (request) => serveRequest(session, request),
    });
  } finally {
    process.off('SIGHUP', onHangup);
    unregister();
  }
});

export const acquireHandler = agentHandler('lock acquire', async (ctx: Context, options: { root?: string }) => {
  const paths = agentPaths(requireRoot(options.root));
  const request = parseLockRequest((await readAll(process.stdin, 64 * 1024, 'the lock request')).trim());
  ctx.log.data(JSON.stringify(await takeLock(paths, request)));
});

export const statusHandler = agentHandler('lock status', async (ctx: Context, options: { root?: string }) => {
  ctx.log.data(JSON.stringify(await lockStatus(agentPaths(requireRoot(options.root)))));
});

export const releaseHandler = agentHandler('lock release', async (ctx: Context, options: { root?: string; force?: boolean; token?: string }) => {
  const paths = agentPaths(requireRoot(options.root));
  const reply = await releaseLock(paths, { force: options.force === true, ...(options.token === undefined ? {} : { token: options.token }) });
  ctx.log.data(JSON.stringify(reply));
});
