// What the box's scheduler runs and when, read without loading the scheduler itself (mono status calls this: it must
// stay light, so no runner, notifications or backup code here).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ActiveAlert } from '../../cron/alerts.js';
import { cronSpecPath, parseCronSpec, type CronSpec } from '../../cron/spec.js';
import { MonoError } from '../../errors.js';
import { errnoCode } from '../fs-errors.js';
import { agentPaths } from '../paths.js';
import { CronStore, type RunningMark, type RunRecord } from './store.js';

type NodeCron = typeof import('node-cron').default;

/** The next time the expression fires after `from`, in the box's time zone. */
export function nextRunWith(cron: NodeCron, expression: string, from = new Date()): Date | undefined {
  const task = cron.createTask(expression, () => undefined);
  try {
    return task.getNextRuns(1).find((d) => d.getTime() > from.getTime());
  } finally {
    void task.destroy();
  }
}

/** nextRunWith, loading node-cron only now (mono status rarely needs it). */
export async function nextRun(expression: string, from = new Date()): Promise<Date | undefined> {
  return nextRunWith((await import('node-cron')).default, expression, from);
}

/** The service's own next due time when it still holds (same expression, in the future); else computed. */
async function nextRunOf(cron: string, saved: { readonly cron?: string; readonly nextDueAt?: string } | undefined, now: Date): Promise<Date | undefined> {
  const due = saved?.nextDueAt === undefined ? NaN : Date.parse(saved.nextDueAt);
  if (saved?.cron === cron && due > now.getTime()) return new Date(due);
  return nextRun(cron, now);
}

function isActive(unit: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('systemctl', ['is-active', unit], { encoding: 'utf8', timeout: 5000 }, (_error, stdout) => resolve(stdout.trim() || 'unknown'));
  });
}

export interface CronJobRow {
  readonly name: string;
  readonly cron: string;
  readonly timeoutMs: number;
  readonly nextRun?: string;
  readonly running?: RunningMark;
  readonly lastRun?: RunRecord;
}

export interface CronListing {
  /** systemctl is-active of <app>-cron.service. */
  readonly service: string;
  readonly jobs: readonly CronJobRow[];
  readonly alerts: Readonly<Record<string, ActiveAlert>>;
}

export function cronUnit(app: string): string {
  return `${app}-cron.service`;
}

export function readSpec(monoDir: string): CronSpec {
  const path = cronSpecPath(monoDir);
  try {
    return parseCronSpec(readFileSync(path, 'utf8'));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new MonoError('PREREQ_MISSING', `${path} does not exist: mono cron is not set up on this box`, { hint: 'run mono setup' });
    throw error;
  }
}

/** What the box's scheduler runs and when, with each job's last run and the open alerts. */
export async function cronListing(root: string, now = new Date()): Promise<CronListing> {
  const { monoDir } = agentPaths(root);
  const spec = readSpec(monoDir);
  const store = new CronStore(monoDir);
  const state = store.state();
  const service = isActive(cronUnit(spec.app));
  const jobs = await Promise.all(
    spec.jobs.map(async (j): Promise<CronJobRow> => {
      const next = await nextRunOf(j.cron, state.jobs[j.name], now);
      const running = store.running(j.name);
      const last = state.jobs[j.name]?.lastRun;
      return { name: j.name, cron: j.cron, timeoutMs: j.timeoutMs, ...(next === undefined ? {} : { nextRun: next.toISOString() }), ...(running === undefined ? {} : { running }), ...(last === undefined ? {} : { lastRun: last }) };
    }),
  );
  return { service: await service, jobs, alerts: store.alerts() };
}
