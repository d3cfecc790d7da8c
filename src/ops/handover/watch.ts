// How long the CLI watches a handover, and the short summary it prints when it stops watching.
import { serviceProcesses, type Config } from '../../config/types.js';
import type { HandoverState } from '../../handover/spec.js';
import { drainTimeoutMs } from '../setup/render-files.js';

/** Until switched: the health timeout and verify window, plus margin. Until done: also the longest drain and the pin timeout. */
export function handoverWatchMs(config: Config, untilDone: boolean): number {
  const switched = config.health.timeoutMs + config.handover.verifyWindowMs + 10 * 60_000;
  if (!untilDone) return switched;
  const drain = Math.max(...serviceProcesses(config).map((p) => drainTimeoutMs(config, p)), 0);
  return switched + drain + (config.handover.tenantKey === undefined ? 0 : config.handover.tenantPinTimeoutMs);
}

export function describeAfter(state: HandoverState | undefined): string {
  if (state === undefined) return '';
  const parts: string[] = [];
  if (state.switchMs !== undefined) parts.push(`switched in ${state.switchMs} ms`);
  if (state.pins.length > 0) parts.push(`${state.pins.length} busy tenant${state.pins.length === 1 ? '' : 's'} still on ${state.pins[0]!.release}`);
  if (state.phase === 'done') {
    if (state.drained.length > 0) parts.push(`old instances exited: ${state.drained.map((d) => `${d.unit} (${d.result})`).join(', ')}`);
  } else if (state.draining.length > 0) parts.push(`draining in the background: ${state.draining.map((d) => d.unit).join(', ')}`);
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}
