// After the switch, the handover runner waits until the retired instances have finished their work and exited, and says how
// each ended (systemd's Result).
import { probe } from '../commands/cmd.js';
import { MonoError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import type { Say } from './activate.js';

export interface Drained {
  readonly unit: string;
  /** systemd's Result: "success" when it exited by itself; "timeout" or "signal" when it was killed. */
  readonly result: string;
  readonly seconds: number;
}

const GONE = new Set(['inactive', 'failed']);

/** `systemctl show -p A,B` output ("A=x" lines) as a map. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return out;
}

/** Polls the units every second until none is running; fails after `budgetMs` (the longest drain budget plus a margin). */
export async function waitForDrain(t: Transport, units: readonly string[], budgetMs: number, log: Say, pollMs = 1000): Promise<Drained[]> {
  const started = Date.now();
  const done = new Map<string, Drained>();
  let lastNote = started;
  log.info(`  waiting for ${units.length} old instance${units.length === 1 ? '' : 's'} to finish their work`);
  for (;;) {
    for (const unit of units) {
      if (done.has(unit)) continue;
      // key=value lines: systemd prints properties in its own order, not in the order asked for.
      const props = parseProperties((await t.run(probe(['systemctl', 'show', '-p', 'ActiveState,Result', '--', unit]))).stdout);
      const state = props.get('ActiveState') ?? '';
      const result = props.get('Result') ?? '';
      if (GONE.has(state)) {
        const seconds = Math.round((Date.now() - started) / 1000);
        done.set(unit, { unit, result, seconds });
        if (result === 'success') log.info(`  ${unit} finished its work and exited (${seconds} s)`);
        else log.warn(`${unit} ended with result "${result}" after ${seconds} s: it did not exit by itself within its drain budget`);
      }
    }
    if (done.size === units.length) return units.map((u) => done.get(u)!);
    if (Date.now() - started > budgetMs) {
      const left = units.filter((u) => !done.has(u));
      throw new MonoError('REMOTE_FAILED', `${left.join(', ')} still running after ${Math.round(budgetMs / 1000)} s`, {
        hint: 'the new release serves; the old one is still draining and systemd stops it at its TimeoutStopSec: see `mono releases`',
      });
    }
    if (Date.now() - lastNote >= 30_000) {
      lastNote = Date.now();
      log.info(`  still draining: ${units.filter((u) => !done.has(u)).join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
