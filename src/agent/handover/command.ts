// Handlers of `mono agent handover run|follow|status` (box side).
import type { Context } from '../../cli/context.js';
import { agentHandler } from '../handler.js';
import { agentPaths, requireRoot } from '../paths.js';
import { pidAlive } from '../pid.js';
import { follow } from './follow.js';
import { checkId, listStates, readState } from './journal.js';
import { runHandover } from './run.js';

const handoverDir = (root: string | undefined): string => `${agentPaths(requireRoot(root)).monoDir}/handover`;

export const runHandler = agentHandler('handover run', async (_ctx: Context, options: { root?: string; id?: string }) => {
  return runHandover(requireRoot(options.root), checkId(options.id));
});

export const followHandler = agentHandler('handover follow', async (ctx: Context, options: { root?: string; id?: string; until?: string }) => {
  const dir = handoverDir(options.root);
  const id = options.id === undefined ? listStates(dir)[0]?.id : checkId(options.id);
  if (id === undefined) {
    ctx.log.data(JSON.stringify({ type: 'end', time: new Date().toISOString(), state: undefined, lost: false }));
    return;
  }
  await follow(dir, id, (line) => ctx.log.data(line), { until: options.until === 'switched' ? 'switched' : 'done' });
});

/** The newest handovers (or one), each with whether its runner still runs. */
export const statusHandler = agentHandler('handover status', async (ctx: Context, options: { root?: string; id?: string; last?: string }) => {
  const dir = handoverDir(options.root);
  const states = options.id === undefined ? listStates(dir).slice(0, Number(options.last ?? 5)) : [readState(dir, checkId(options.id))].flatMap((s) => s ?? []);
  ctx.log.data(JSON.stringify({ handovers: states.map((s) => ({ ...s, running: pidAlive(s.pid) })) }));
});
