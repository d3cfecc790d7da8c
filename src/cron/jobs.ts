// What each maintenance job is for, when it runs unless mono.yml says otherwise, and how long a run may take.
import type { Config } from '../config/types.js';
import { JOB_NAMES, type JobName } from './names.js';

export interface ScheduledJob {
  readonly name: JobName;
  /** A node-cron expression (5 fields, or 6 with seconds first), in the box's time zone. */
  readonly cron: string;
  readonly timeoutMs: number;
  /** default: mono chose it; config: schedules.<job> set it. */
  readonly source: 'default' | 'config';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Facts = Pick<Config, 'databases' | 'processes' | 'backups' | 'nginx'> & { readonly checks: Pick<Config['checks'], 'tls'> };

interface JobKind {
  readonly describe: string;
  readonly timeoutMs: number;
  /** The default schedule, or undefined when the job has nothing to do on this box (no database, no certificate…). */
  readonly defaultCron: (facts: Facts) => string | undefined;
  /** Why it has nothing to do, for mono cron list. */
  readonly idle: string;
}

export const JOB_KINDS: Record<JobName, JobKind> = {
  backup: { describe: 'pg_dump every database, check it, copy it offsite', timeoutMs: 6 * HOUR, defaultCron: (f) => (f.databases.length === 0 ? undefined : backupCron(f.backups.maxDataLossMs)), idle: 'no databases in mono.yml' },
  restore_test: { describe: 'restore the newest backup into a throwaway cluster and check it', timeoutMs: 6 * HOUR, defaultCron: (f) => (f.databases.length === 0 ? undefined : '47 4 * * 0'), idle: 'no databases in mono.yml' },
  prune_releases: { describe: 'remove old releases and unused blobs (release.keep)', timeoutMs: 30 * MINUTE, defaultCron: () => '7 5 * * *', idle: '' },
  prune_backups: { describe: 'apply backups.retention.local to the local backups', timeoutMs: 30 * MINUTE, defaultCron: (f) => (f.databases.length === 0 ? undefined : '27 5 * * *'), idle: 'no databases in mono.yml' },
  disk: { describe: 'disk space and inodes against checks.disk', timeoutMs: 2 * MINUTE, defaultCron: () => '*/10 * * * *', idle: '' },
  tls: { describe: 'TLS certificates expiring within checks.tls.warn_days', timeoutMs: 2 * MINUTE, defaultCron: (f) => (tlsCertificates(f).length === 0 ? undefined : '37 6 * * *'), idle: 'no certificate paths (nginx.tls, checks.tls.certificates)' },
  health: { describe: 'GET health.path of the current release, directly and through nginx', timeoutMs: 2 * MINUTE, defaultCron: (f) => (f.processes['web'] === undefined ? undefined : '*/5 * * * *'), idle: 'no web process' },
  stale_lock: { describe: 'a deploy lock whose holder is gone, or held past checks.lock.max_held', timeoutMs: 2 * MINUTE, defaultCron: () => '*/15 * * * *', idle: '' },
};

/**
 * The default backup schedule follows backups.max_data_loss: a backup at least twice per allowed loss, so that one failed
 * run does not already break the promise (a backup exactly once per allowed loss would be late by its own run time every
 * day). Twice a day, at 03:17 and 15:17, for 24 h up to 48 h; daily at 03:17 for 48 h or more.
 */
export function backupCron(maxDataLossMs: number): string {
  if (maxDataLossMs >= 48 * HOUR) return '17 3 * * *';
  if (maxDataLossMs >= 24 * HOUR) return '17 3,15 * * *';
  if (maxDataLossMs >= 2 * HOUR) return `17 */${Math.min(12, Math.floor(maxDataLossMs / HOUR / 2))} * * *`;
  return `*/${Math.max(5, Math.min(30, Math.floor(maxDataLossMs / MINUTE / 2)))} * * * *`;
}

/** The certificate files the tls job watches: nginx's own, then checks.tls.certificates. */
export function tlsCertificates(f: Pick<Facts, 'nginx' | 'checks'>): string[] {
  return [...new Set([...(f.nginx.tls === undefined ? [] : [f.nginx.tls.certificate]), ...f.checks.tls.certificates])];
}

export type JobSetting = string | { readonly cron: string; readonly timeoutMs?: number } | undefined;

/** Every job that runs on this box: its setting in mono.yml, else its default; "off", and jobs with nothing to do, are left out. */
export function scheduledJobs(settings: Partial<Record<JobName, JobSetting>>, facts: Facts): ScheduledJob[] {
  return JOB_NAMES.flatMap((name): ScheduledJob[] => {
    const kind = JOB_KINDS[name];
    const setting = settings[name];
    if (setting === 'off') return [];
    if (setting === undefined) {
      const cron = kind.defaultCron(facts);
      return cron === undefined ? [] : [{ name, cron, timeoutMs: kind.timeoutMs, source: 'default' }];
    }
    if (typeof setting === 'string') return [{ name, cron: setting, timeoutMs: kind.timeoutMs, source: 'config' }];
    return [{ name, cron: setting.cron, timeoutMs: setting.timeoutMs ?? kind.timeoutMs, source: 'config' }];
  });
}
