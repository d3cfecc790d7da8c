// The lock check: a deploy lock whose holder is gone (stale) fails, one held too long warns.
import { formatDuration } from '../../release/progress.js';
import type { LockStatusReply } from '../lock.js';
import type { CheckResult } from './result.js';

export const STALE_HINT = 'mono lock release --force, after checking nothing is deploying';
export const DEFAULT_MAX_HELD_MS = 2 * 3_600_000;

export function judgeLock(status: LockStatusReply, o: { maxHeldMs: number; now: Date }): CheckResult {
  if (!status.locked) return { check: 'lock', status: 'ok', message: 'the deploy lock is free', details: { ...status, maxHeldMs: o.maxHeldMs } };
  const h = status.holder;
  const since = Date.parse(h.since);
  const heldMs = Number.isNaN(since) ? 0 : Math.max(0, o.now.getTime() - since);
  const details = { ...status, heldMs, maxHeldMs: o.maxHeldMs };
  const what = `${h.operation}${h.release === undefined ? '' : ` of ${h.release}`}`;
  const who = `${h.by} from ${h.from} for ${what} since ${h.since}`;
  if (status.stale) {
    return { check: 'lock', status: 'fail', message: `the deploy lock is stale: held by ${who}, and its process ${h.pid ?? '?'} is gone`, hint: STALE_HINT, details };
  }
  if (heldMs > o.maxHeldMs) {
    return { check: 'lock', status: 'warning', message: `the deploy lock has been held for ${formatDuration(heldMs)} (more than ${formatDuration(o.maxHeldMs)}) by ${who}`, details };
  }
  return { check: 'lock', status: 'ok', message: `the deploy lock is held by ${who} (${formatDuration(heldMs)})`, details };
}
