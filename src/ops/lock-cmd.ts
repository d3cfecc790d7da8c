// `mono lock status|acquire|release [--force]`: look at, take by hand, or clear the deploy lock.
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import type { LockInfo, LockReply } from '../release/protocol.js';
import { operator } from './audit.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { recordAudit } from './deploy/audit-entry.js';
import { describeHolder, lockedError, lockRequester } from './deploy/lock.js';
import { layoutOf } from './setup/layout.js';

type Status = { locked: false } | { locked: true; holder: LockInfo; stale: boolean };
type Released = { released: boolean; holder?: LockInfo; reason?: string };

export async function lockCommand(ctx: Context, action: string, options: { message?: string; force?: boolean }): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const root = layoutOf(config).root;
  switch (action) {
    case 'status': {
      const s = await agentCall<Status>(t, ['lock', 'status'], root);
      if (ctx.options.json) {
        ctx.log.data(JSON.stringify({ type: 'lock.status', ...s }));
        return 0;
      }
      if (!s.locked) ctx.log.data('unlocked');
      else {
        ctx.log.data(`locked by ${describeHolder(s.holder, s.stale)}`);
        if (s.stale) ctx.log.info('hint: the holder is gone; clear it with `mono lock release --force` after checking `mono releases`');
      }
      return 0;
    }
    case 'acquire': {
      const reply = await agentCall<LockReply>(t, ['lock', 'acquire'], root, { input: JSON.stringify(lockRequester({ operation: 'manual lock', ...(options.message === undefined ? {} : { message: options.message }) })) + '\n' });
      if (!reply.locked) throw lockedError(reply.holder, reply.stale);
      await recordAudit(t, root, { action: 'lock', message: options.message });
      ctx.log.info(`locked: deploys wait or fail until \`mono lock release\``);
      return 0;
    }
    case 'release': {
      const s = await agentCall<Status>(t, ['lock', 'status'], root);
      if (!s.locked) {
        ctx.log.info('the app was not locked');
        return 0;
      }
      // Your own lock (taken by hand, or left by your own interrupted run) is released by its token; anyone else's needs --force.
      const own = s.holder.by === operator();
      if (!own && options.force !== true) throw lockedError(s.holder, s.stale);
      const r = await agentCall<Released>(t, ['lock', 'release'], root, { extra: options.force === true ? ['--force'] : ['--token', s.holder.token] });
      if (!r.released) {
        throw new MonoError('LOCKED', `the lock was not released: ${r.reason ?? 'it is held by another run'}`, { hint: 'it changed hands meanwhile: look again with mono lock status' });
      }
      await recordAudit(t, root, { action: options.force === true ? 'lock forced' : 'unlock', holder: r.holder?.by });
      ctx.log.info(r.holder === undefined ? 'the app was not locked' : `released the lock of ${describeHolder(r.holder, false)}`);
      return 0;
    }
    default:
      throw new MonoError('USAGE', `unknown lock action "${action}"`, { hint: 'use mono lock status, mono lock acquire or mono lock release' });
  }
}

export async function auditCommand(ctx: Context, options: { lines?: string }): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const { entries } = await agentCall<{ entries: Record<string, unknown>[] }>(t, ['audit'], layoutOf(config).root, { extra: ['--lines', options.lines ?? '20'] });
  if (ctx.options.json) {
    for (const e of entries) ctx.log.data(JSON.stringify(e));
    return 0;
  }
  for (const e of entries) {
    const { time, by, action, ...rest } = e;
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    ctx.log.data(`${String(time)}  ${(typeof by === 'string' ? by : '?').padEnd(20)}  ${String(action).padEnd(10)}  ${extra}`);
  }
  return 0;
}
