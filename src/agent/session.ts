// The requests of a deploy's agent session (see session-loop.ts), and their answers: { ok, result } or { ok: false, error }.
// One process for the whole deploy saves a Node start per step (~0.4 s each on the sandbox box).
import { writeCronSpec } from './cron/spec-file.js';
import { isMonoError, MonoError, type ErrorCode } from '../errors.js';
import type { BuildRequest, PruneRequest, SessionReply, SessionRequest } from '../release/protocol.js';
import { appendAudit } from './audit.js';
import { BlobSource } from './blob-source.js';
import { parseBuildRequest } from './build-request.js';
import { errnoCode, errorMessage } from './fs-errors.js';
import { APP_NAME } from './options.js';
import type { AgentPaths } from './paths.js';
import { prune } from './prune.js';
import { buildRelease } from './release-build.js';
import { startHandover } from './handover/start.js';
import { parseHandoverSpec } from '../handover/spec.js';
import { isRecord } from './stdin.js';

/** The largest request line (a build request carries the manifest: ~150 bytes per file). */
export const MAX_REQUEST_BYTES = 256 * 1024 * 1024;

export interface SessionContext {
  readonly paths: AgentPaths;
  readonly warn: (message: string) => void;
  /** Blob stats taken by "plan", reused by "build" (only the deploy holding the lock changes the store meanwhile: it adds). */
  readonly blobs: BlobSource;
  /** The release "plan" announced, which "build" builds. */
  planned?: BuildRequest | undefined;
  /** The lock's token, once "lock" took it. */
  token?: string | undefined;
  /** The lock went to a handover runner: the session must not release it. */
  handedOver: boolean;
}

export function sessionContext(paths: AgentPaths, warn: (message: string) => void): SessionContext {
  return { paths, warn, blobs: new BlobSource(paths.store), handedOver: false };
}

export function errorReply(error: unknown): SessionReply {
  if (isMonoError(error)) return { ok: false, error: { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }), details: [...error.details] } };
  const code: ErrorCode = errnoCode(error) === undefined ? 'INTERNAL' : 'LOCAL_FAILED';
  return { ok: false, error: { code, message: `the agent failed on the box: ${errorMessage(error)}`, details: [] } };
}

/** Answers one request; never throws (a failure is an error reply, and the session goes on). */
export async function serveRequest(ctx: SessionContext, request: SessionRequest): Promise<SessionReply> {
  try {
    return { ok: true, result: await dispatch(ctx, request) };
  } catch (error) {
    return errorReply(error);
  }
}

async function dispatch(ctx: SessionContext, request: SessionRequest): Promise<unknown> {
  switch (request.op) {
    case 'plan': {
      const planned = parseBuildRequest(request.request);
      ctx.planned = planned;
      return { missing: ctx.blobs.absent(planned.manifest.files) };
    }
    case 'build': {
      if (ctx.planned === undefined) throw new MonoError('USAGE', '"build" needs a "plan" first');
      return buildRelease(ctx.paths.root, ctx.planned, ctx.warn, ctx.blobs);
    }
    case 'audit': {
      if (!isRecord(request.entry)) throw new MonoError('USAGE', 'the audit entry must be a JSON object');
      const line = appendAudit(ctx.paths.auditLog, request.entry);
      return { appended: true, time: line['time'] };
    }
    case 'handover': {
      if (ctx.token === undefined || ctx.handedOver) throw new MonoError('USAGE', '"handover" needs the deploy lock, once');
      const started = await startHandover(ctx.paths, ctx.token, parseHandoverSpec(request.spec));
      ctx.handedOver = true;
      return started;
    }
    case 'cron':
      return writeCronSpec(ctx.paths, request.spec);
    case 'prune':
      return prune(ctx.paths.root, { ...checkPrune(request), warn: ctx.warn });
    default:
      throw new MonoError('USAGE', `unknown session request ${JSON.stringify((request as { op: unknown }).op)}`, { hint: 'the CLI and the agent differ in version: run `mono setup`' });
  }
}

function checkPrune(request: PruneRequest): { keep: number; app: string; dryRun: false } {
  if (!Number.isSafeInteger(request.keep) || request.keep < 0) throw new MonoError('USAGE', 'prune: "keep" must be a non-negative integer');
  if (typeof request.app !== 'string' || !APP_NAME.test(request.app)) throw new MonoError('USAGE', 'prune: "app" must be an app name');
  return { keep: request.keep, app: request.app, dryRun: false };
}
