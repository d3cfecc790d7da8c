// `mono agent backups` and `mono agent backups-prune`: what backups the box holds, and removing the ones the retention
// policy lets go (never after a failed run, never one still waiting for its offsite copy).
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { MonoError } from '../../errors.js';
import { BACKUP_ID, type BackupManifest } from '../../backup/manifest.js';
import { planRetention, type RetentionPlan } from '../../backup/retention.js';
import type { Retention } from '../../config/types.js';
import { OFFSITE_RECORD } from './offsite.js';
import { DRILL_MARK } from '../restore/history.js';

export interface LocalBackup {
  readonly db: string;
  readonly id: string;
  readonly startedAt: string;
  readonly bytes: number;
  readonly tables: number;
  readonly rows: number;
  readonly checked: boolean;
  /** When a restore drill last restored it and it passed every check there. */
  readonly restoredAt?: string;
  /** When its offsite copy was verified, if it was. */
  readonly offsiteVerifiedAt?: string;
}

export interface LastRun {
  readonly status: 'ok' | 'failed';
  readonly at: string;
  readonly id?: string;
  readonly error?: string;
}

export const LAST_RUN = 'last-run.json';

export function recordRun(dbDir: string, run: LastRun): void {
  try {
    writeFileSync(`${dbDir}/${LAST_RUN}`, JSON.stringify(run) + '\n', { mode: 0o600 });
  } catch {
    // the folder may not exist (the run failed before making it): nothing to record then
  }
}

/** A small JSON record the agent wrote (a manifest, offsite.json, drill.json, last-run.json); undefined when it is missing or unreadable. */
export function readRecord<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function lastRun(dbDir: string): LastRun | undefined {
  return readRecord<LastRun>(`${dbDir}/${LAST_RUN}`);
}

export function localBackups(dir: string, db: string): LocalBackup[] {
  const dbDir = `${dir}/${db}`;
  if (!existsSync(dbDir)) return [];
  return readdirSync(dbDir)
    .filter((n) => BACKUP_ID.test(n))
    .sort()
    .reverse()
    .flatMap((id) => {
      const m = readRecord<BackupManifest>(`${dbDir}/${id}/manifest.json`);
      if (m === undefined) return [];
      const offsite = readRecord<{ verifiedAt?: string }>(`${dbDir}/${id}/${OFFSITE_RECORD}`);
      const drill = readRecord<{ verifiedAt?: string }>(`${dbDir}/${id}/${DRILL_MARK}`);
      return [
        {
          db,
          id,
          ...(drill?.verifiedAt === undefined ? {} : { restoredAt: drill.verifiedAt }),
          startedAt: m.startedAt,
          bytes: m.files.reduce((n, f) => n + f.bytes, 0),
          tables: m.tableCount,
          rows: Object.values(m.rows).reduce((n, v) => n + v, 0),
          checked: m.checks.sha256 && m.checks.fullRead && m.checks.tableCount,
          ...(offsite?.verifiedAt === undefined ? {} : { offsiteVerifiedAt: offsite.verifiedAt }),
        },
      ];
    });
}

/** The local retention plan of a database; with `apply`, removes what it lets go. */
export function pruneLocal(dir: string, db: string, policy: Retention, options: { apply: boolean; offsite: boolean }): RetentionPlan & { pendingKept: readonly string[] } {
  const dbDir = `${dir}/${db}`;
  const last = lastRun(dbDir);
  if (last?.status === 'failed') {
    throw new MonoError('CHECK_FAILED', `the last backup of ${db} failed (${last.at}: ${last.error ?? 'see its log'}): nothing is pruned until a backup succeeds`, {
      hint: 'fix what made it fail and run mono backup; pruning waits for a good backup',
    });
  }
  const backups = localBackups(dir, db);
  const plan = planRetention(
    backups.map((b) => ({ id: b.id, at: new Date(b.startedAt), verified: b.checked, restored: b.restoredAt !== undefined })),
    policy,
  );
  // A backup still waiting for its offsite copy is its only copy: it stays until it has been copied.
  const pending = new Set(options.offsite ? backups.filter((b) => b.offsiteVerifiedAt === undefined).map((b) => b.id) : []);
  const remove = plan.remove.filter((id) => !pending.has(id));
  const pendingKept = plan.remove.filter((id) => pending.has(id));
  if (options.apply) {
    for (const id of remove) {
      // Renamed away first: a half-removed backup never looks like a complete one.
      renameSync(`${dbDir}/${id}`, `${dbDir}/.pruning-${id}`);
      rmSync(`${dbDir}/.pruning-${id}`, { recursive: true, force: true });
    }
  }
  return { keep: plan.keep, remove, pendingKept };
}

/** "hourly,daily,weekly,monthly,min_verified", as the CLI passes a policy to the agent. */
export function parseRetention(text: string | undefined): Retention {
  const parts = (text ?? '').split(',').map(Number);
  if (parts.length !== 5 || parts.some((n) => !Number.isSafeInteger(n) || n < 0) || parts[4]! < 1) throw new MonoError('USAGE', '--retention must be hourly,daily,weekly,monthly,min_verified (whole numbers, min_verified at least 1)');
  const [hourly, daily, weekly, monthly, min_verified] = parts as [number, number, number, number, number];
  return { hourly, daily, weekly, monthly, min_verified };
}

export function formatRetention(r: Retention): string {
  return [r.hourly, r.daily, r.weekly, r.monthly, r.min_verified].join(',');
}
