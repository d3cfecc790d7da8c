// The CLI's side of a handover that runs on the box: start it through the deploy's session (which hands it the lock), then
// show its journal as it grows, until traffic has switched (or, with --wait, the old release has drained).
import type { Context } from '../../cli/context.js';
import { isErrorCode, isMonoError, MonoError } from '../../errors.js';
import { handoverUnit, type HandoverSpec, type HandoverState } from '../../handover/spec.js';
import type { JournalLine } from '../../agent/handover/journal.js';
import type { Transport } from '../../transport/transport.js';
import { agentArgv, lineSplitter } from '../deploy/agent-call.js';
import type { HeldLock } from '../deploy/lock.js';

export interface StartedHandover {
  readonly id: string;
  readonly unit: string;
  readonly pid: number;
}

/** Starts the runner; from here on the lock is the runner's, and the handover goes on whatever happens to this connection. */
export async function startHandover(ctx: Context, lock: HeldLock, spec: HandoverSpec): Promise<StartedHandover> {
  lock.assertHeld();
  const started = await lock.call<StartedHandover>({ op: 'handover', spec });
  ctx.log.info(`  handing over on the box: ${started.unit} (mono handover follow reattaches)`);
  ctx.log.event('handover.started', { ...started });
  return started;
}

/** Shows the journal of handover `id` until it reaches `until`; returns the state it reached (failures are thrown). */
export async function followHandover(ctx: Context, t: Transport, where: { root: string; app: string }, id: string | undefined, until: 'switched' | 'done', timeoutMs: number): Promise<HandoverState | undefined> {
  let end: Extract<JournalLine, { type: 'end' }> | undefined;
  const onLine = (line: string): void => {
    if (line.trim() === '') return;
    let parsed: JournalLine;
    try {
      parsed = JSON.parse(line) as JournalLine;
    } catch {
      ctx.log.debug(`handover: ${line}`);
      return;
    }
    if (parsed.type === 'log') {
      if (parsed.level === 'warn') ctx.log.warn(parsed.message);
      else ctx.log.info(parsed.message);
    } else if (parsed.type === 'event') ctx.log.event(parsed.name, parsed.fields);
    else if (parsed.type === 'state') ctx.log.event('handover.state', { id: parsed.state.id, phase: parsed.state.phase, pins: parsed.state.pins });
    else end = parsed;
  };
  const journal = lineSplitter(onLine);
  const extra = [...(id === undefined ? [] : ['--id', id]), '--until', until];
  try {
    await t.run(
      { argv: agentArgv(['handover', 'follow'], where.root, extra), mutates: false },
      {
        timeoutMs,
        onStdout: journal.push,
      },
    );
  } catch (error) {
    if (isMonoError(error) && (error.code === 'SSH_DISCONNECTED' || error.code === 'SSH_TIMEOUT')) {
      throw new MonoError(error.code, `lost sight of the handover (${error.message}); it goes on on the box`, {
        hint: 'reattach with `mono handover follow`, or see where it is with `mono handover status`',
        cause: error,
      });
    }
    throw error;
  }
  journal.flush();
  const state = end?.state;
  if (end === undefined || end.lost) {
    throw new MonoError('REMOTE_FAILED', state === undefined ? 'the handover runner on the box did not start' : `the handover runner on the box stopped in phase "${state.phase}" without finishing`, {
      hint: `see journalctl -u ${handoverUnit(where.app, state?.id ?? '<id>')} on the box and \`mono handover status\`; the box serves whatever current.sock points at`,
    });
  }
  if (state?.error !== undefined) {
    const e = state.error;
    throw new MonoError(isErrorCode(e.code) ? e.code : 'REMOTE_FAILED', e.message, { ...(e.hint === undefined ? {} : { hint: e.hint }), details: e.details });
  }
  return state;
}
