// Which backups a retention policy keeps: grandfather-father-son counts (the newest backup of each of the last N hours,
// days, ISO weeks and months that have one), and rules that no count can override: the newest verified backup stays, so
// does the newest one a restore drill proved, at least `min_verified` verified backups stay (those a drill restored
// first), and nothing is pruned while the last backup run failed (the caller checks).
import type { Retention } from '../config/types.js';

export interface BackupRef {
  readonly id: string;
  /** When the backup started. */
  readonly at: Date;
  /** Passed its checks (every complete backup has). */
  readonly verified: boolean;
  /** A restore drill restored it and it passed every check there: preferred over backups only checked. */
  readonly restored?: boolean;
}

export interface RetentionPlan {
  readonly keep: readonly { readonly id: string; readonly why: readonly string[] }[];
  readonly remove: readonly string[];
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The ISO 8601 week of a UTC date, as "2026-W49". */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

const BUCKETS: readonly [keyof Omit<Retention, 'min_verified'>, (d: Date) => string][] = [
  ['hourly', (d) => d.toISOString().slice(0, 13)],
  ['daily', (d) => d.toISOString().slice(0, 10)],
  ['weekly', isoWeek],
  ['monthly', (d) => d.toISOString().slice(0, 7)],
];

export function planRetention(backups: readonly BackupRef[], policy: Retention): RetentionPlan {
  const newestFirst = [...backups].sort((a, b) => b.at.getTime() - a.at.getTime());
  const why = new Map<string, string[]>();
  const mark = (id: string, reason: string): void => void why.set(id, [...(why.get(id) ?? []), reason]);
  for (const [name, bucketOf] of BUCKETS) {
    const limit = policy[name];
    const seen = new Set<string>();
    for (const b of newestFirst) {
      if (seen.size >= limit) break;
      const bucket = bucketOf(b.at);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      mark(b.id, `${name} ${bucket}`);
    }
  }
  const verified = newestFirst.filter((b) => b.verified);
  if (verified[0] !== undefined) mark(verified[0].id, 'the newest verified backup');
  const restored = verified.find((b) => b.restored === true);
  if (restored !== undefined) mark(restored.id, 'the newest backup a restore drill proved');
  const keptVerified = verified.filter((b) => why.has(b.id)).length;
  // Not enough verified backups among those kept: keep the newest verified ones until there are.
  let missing = policy.min_verified - keptVerified;
  const preferred = [...verified.filter((b) => b.restored === true), ...verified.filter((b) => b.restored !== true)];
  for (const b of preferred) {
    if (missing <= 0) break;
    if (why.has(b.id)) continue;
    mark(b.id, `min_verified ${policy.min_verified}`);
    missing--;
  }
  return {
    keep: newestFirst.filter((b) => why.has(b.id)).map((b) => ({ id: b.id, why: why.get(b.id)! })),
    remove: newestFirst.filter((b) => !why.has(b.id)).map((b) => b.id),
  };
}
