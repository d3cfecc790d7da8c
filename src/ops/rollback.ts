// `mono rollback [RELEASE]`: activates a release that is still on the box (by default the one active before the current one),
// through the same activation as a deploy, under the deploy lock. Nothing is uploaded or built, and the release command
// (migrations) does not run: a rollback does not undo a migration.
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { RELEASE_ID, type ReleaseInfo } from '../release/protocol.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { acquireLock, holdingLock } from './deploy/lock.js';
import { followHandover, startHandover } from './handover/follow.js';
import { handoverSpecFor, orderedProcesses } from './handover/spec-for.js';
import { describeAfter, handoverWatchMs } from './handover/watch.js';
import { layoutOf } from './setup/layout.js';

export interface RollbackOptions {
  readonly waitLock?: boolean;
  readonly message?: string;
  readonly wait?: boolean;
}

/**
 * The release to go back to: the newest one, other than the current, that an earlier deploy or rollback activated and
 * that is still on the box. `entries` are audit entries, oldest first.
 */
export function previousRelease(entries: readonly Record<string, unknown>[], releases: readonly ReleaseInfo[]): string | undefined {
  const current = releases.find((r) => r.current)?.id;
  const present = new Set(releases.map((r) => r.id));
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    const id = e['release'];
    if ((e['action'] === 'activate' || e['action'] === 'rollback') && typeof id === 'string' && id !== current && present.has(id)) return id;
  }
  return undefined;
}

export async function rollbackCommand(ctx: Context, release: string | undefined, options: RollbackOptions): Promise<number> {
  const started = performance.now();
  const config = await ctx.config();
  const L = layoutOf(config);
  if (release !== undefined && !RELEASE_ID.test(release)) {
    throw new MonoError('USAGE', `${JSON.stringify(release)} is not a release id`, { hint: 'release ids look like 20261130T232000Z-1a2b3c4d: see `mono releases`' });
  }
  const t = await connect(ctx, config, 'deploy');
  const { releases } = await agentCall<{ releases: ReleaseInfo[] }>(t, ['releases'], L.root, { extra: ['--app', config.app] });
  const current = releases.find((r) => r.current);
  let target = release;
  if (target === undefined) {
    const { entries } = await agentCall<{ entries: Record<string, unknown>[] }>(t, ['audit'], L.root, { extra: ['--lines', '500'] });
    target = previousRelease(entries, releases);
    if (target === undefined) throw new MonoError('USAGE', 'there is no earlier activated release on the box to go back to', { hint: 'name one: mono rollback <release> (see `mono releases`)' });
  }
  const info = releases.find((r) => r.id === target);
  if (info === undefined) throw new MonoError('USAGE', `release ${target} is not on the box`, { hint: 'pick one that `mono releases` lists (pruned releases are gone; deploy that version again)' });
  if (info.current) throw new MonoError('USAGE', `release ${target} is already the current release`, { hint: 'pick another one from `mono releases`' });
  // The process types of that release that this config runs as services (web first).
  const processes = orderedProcesses(config.processes).filter((p) => info.processes.includes(p));
  if (!processes.includes('web')) {
    throw new MonoError('USAGE', `release ${target} has no web process script`, { hint: 'it predates the web process: pick another release, or deploy again' });
  }
  const missing = orderedProcesses(config.processes).filter((p) => !info.processes.includes(p));
  if (missing.length > 0) ctx.log.warn(`release ${target} has no ${missing.join(', ')} process: those will not run after the rollback`);

  const lock = await acquireLock(t, L.root, { operation: 'rollback', release: target, ...(options.message === undefined ? {} : { message: options.message }) }, { wait: options.waitLock === true, log: ctx.log });
  const handover = await holdingLock(ctx, lock, async () => {
    ctx.log.info(`rolling back to ${ctx.log.colors.bold(target)}${current === undefined ? '' : ` (current: ${current.id})`}`);
    return startHandover(ctx, lock, handoverSpecFor(config, { kind: 'rollback', release: target, processes, ...(options.message === undefined ? {} : { message: options.message }) }));
  });
  const state = await followHandover(ctx, t, { root: L.root, app: config.app }, handover.id, options.wait === true ? 'done' : 'switched', handoverWatchMs(config, options.wait === true));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  ctx.log.event('rollback.done', { id: target, from: current?.id, seconds: Number(seconds), switchMs: state?.switchMs });
  ctx.log.info(ctx.log.colors.green(`rolled back to ${target} in ${seconds} s`) + describeAfter(state));
  return 0;
}
