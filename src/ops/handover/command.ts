// `mono handover status [ID]` and `mono handover follow [ID]`: where the box's handovers are, and reattaching to one.
import type { Context } from '../../cli/context.js';
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { HANDOVER_ID, type HandoverState } from '../../handover/spec.js';
import { connect } from '../connect.js';
import { agentCall } from '../deploy/agent-call.js';
import { age } from '../releases.js';
import { layoutOf } from '../setup/layout.js';
import { followHandover } from './follow.js';
import { describeAfter, handoverWatchMs } from './watch.js';

export type HandoverRow = HandoverState & { readonly running: boolean };

function checkId(id: string | undefined): void {
  if (id !== undefined && !HANDOVER_ID.test(id)) throw new MonoError('USAGE', `${JSON.stringify(id)} is not a handover id`, { hint: 'ids look like 20261130T232000Z-1a2b3c4d.m3x9k2: see `mono handover status`' });
}

function duration(fromIso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Human lines for one handover: the headline, then its pinned tenants, draining and drained instances, and its error. */
export function describeHandover(h: HandoverRow, now = Date.now()): string[] {
  const lines = [
    `${h.id}  ${h.kind} ${h.from ?? '(none)'} → ${h.release}  ${h.phase}${h.running ? ' (runner running)' : ''}  started ${age(h.startedAt, now)}${h.switchMs === undefined ? '' : `, switched in ${h.switchMs} ms`}`,
  ];
  for (const p of h.pins) lines.push(`    pinned: tenant ${p.tenant} → ${p.release} for ${duration(p.since, now)} (its jobs are still running there)`);
  const drained = new Set(h.drained.map((d) => d.unit));
  for (const d of h.draining) if (!drained.has(d.unit)) lines.push(`    draining: ${d.unit} for ${duration(d.since, now)}`);
  for (const d of h.drained) lines.push(`    exited: ${d.unit} (${d.result}, after ${d.seconds} s)`);
  if (h.error !== undefined) lines.push(`    error: ${h.error.message}`);
  return lines;
}

export async function handoverRows(ctx: Context, config: Config, extra: readonly string[] = []): Promise<HandoverRow[]> {
  const t = await connect(ctx, config, 'deploy');
  return (await agentCall<{ handovers: HandoverRow[] }>(t, ['handover', 'status'], layoutOf(config).root, { extra })).handovers;
}

export async function handoverStatusCommand(ctx: Context, id: string | undefined): Promise<number> {
  checkId(id);
  const config = await ctx.config();
  const rows = await handoverRows(ctx, config, id === undefined ? [] : ['--id', id]);
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'handovers', handovers: rows }));
  else ctx.log.data(rows.length === 0 ? (id === undefined ? 'no handovers yet: run mono deploy' : `no handover ${id} on the box`) : rows.flatMap((r) => describeHandover(r)).join('\n'));
  if (id !== undefined && rows.length === 0) return 1;
  return 0;
}

export async function handoverFollowCommand(ctx: Context, id: string | undefined): Promise<number> {
  checkId(id);
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const state = await followHandover(ctx, t, { root: layoutOf(config).root, app: config.app }, id, 'done', handoverWatchMs(config, true));
  if (state === undefined) {
    ctx.log.info('no handovers yet: run mono deploy');
    return 0;
  }
  ctx.log.info(ctx.log.colors.green(`handover ${state.id} (${state.kind} of ${state.release}): ${state.phase}`) + describeAfter(state));
  return 0;
}
