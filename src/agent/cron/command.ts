// `mono agent cron serve|list|run`: the scheduler service, what it runs and when (one JSON line), and one job run now
// with its output streamed (stderr) and its record as the reply.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Context } from '../../cli/context.js';
import type { ActiveAlert } from '../../cron/alerts.js';
import { isJobName, JOB_NAMES } from '../../cron/names.js';
import { cronSpecPath, parseCronSpec, type CronSpec } from '../../cron/spec.js';
import { ExitCode, MonoError } from '../../errors.js';
import { errnoCode } from '../fs-errors.js';
import { agentHandler } from '../handler.js';
import { agentPaths, requireRoot } from '../paths.js';
import { runJob } from './runner.js';
import { nextRun, Scheduler } from './service.js';
import { CronStore, type RunningMark, type RunRecord } from './store.js';

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

function readSpec(monoDir: string): CronSpec {
  const path = cronSpecPath(monoDir);
  try {
    return parseCronSpec(readFileSync(path, 'utf8'));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new MonoError('PREREQ_MISSING', `${path} does not exist: mono cron is not set up on this box`, { hint: 'run mono setup' });
    throw error;
  }
}

/** What the box's scheduler runs and when, with each job's last run and the open alerts. */
export function cronListing(root: string, now = new Date()): CronListing {
  const { monoDir } = agentPaths(root);
  const spec = readSpec(monoDir);
  const store = new CronStore(monoDir);
  const state = store.state();
  const active = spawnSync('systemctl', ['is-active', cronUnit(spec.app)], { encoding: 'utf8', timeout: 5000 });
  const jobs = spec.jobs.map((j): CronJobRow => {
    const next = nextRun(j.cron, now);
    const running = store.running(j.name);
    const last = state.jobs[j.name]?.lastRun;
    return { name: j.name, cron: j.cron, timeoutMs: j.timeoutMs, ...(next === undefined ? {} : { nextRun: next.toISOString() }), ...(running === undefined ? {} : { running }), ...(last === undefined ? {} : { lastRun: last }) };
  });
  return { service: (active.stdout ?? '').trim() || 'unknown', jobs, alerts: store.alerts() };
}

export const serveHandler = agentHandler('cron serve', async (ctx: Context, o: { root?: string }) => {
  const { monoDir } = agentPaths(requireRoot(o.root));
  readSpec(monoDir);
  const scheduler = new Scheduler(monoDir, (line) => process.stdout.write(`${line}\n`));
  const stopped = new Promise<void>((resolve) => {
    ctx.onCleanup(async () => {
      await scheduler.stop();
      resolve();
    });
  });
  process.on('SIGHUP', () => scheduler.reload('SIGHUP'));
  scheduler.start();
  await stopped;
});

export const listHandler = agentHandler('cron list', async (ctx: Context, o: { root?: string }) => {
  ctx.log.data(JSON.stringify(cronListing(requireRoot(o.root))));
});

export const runHandler = agentHandler('cron run', async (ctx: Context, o: { root?: string; job?: string }) => {
  const { monoDir } = agentPaths(requireRoot(o.root));
  const spec = readSpec(monoDir);
  const name = o.job ?? '';
  if (!isJobName(name)) throw new MonoError('USAGE', `${JSON.stringify(name)} is not a job mono cron runs`, { hint: `the jobs are: ${JOB_NAMES.join(', ')}` });
  const job = spec.jobs.find((j) => j.name === name);
  if (job === undefined) throw new MonoError('USAGE', `${name} is not scheduled on this box (off in mono.yml, or nothing for it to do)`, { hint: `scheduled here: ${spec.jobs.map((j) => j.name).join(', ') || 'nothing'}; mono cron list shows why` });
  const abort = new AbortController();
  // Ctrl-C, or the SSH connection dropping, stops the job's steps too: nothing is left running on its own.
  const unregister = ctx.onCleanup(async () => abort.abort());
  const onHangup = (): void => abort.abort();
  process.on('SIGHUP', onHangup);
  try {
    const run = await runJob(job, { store: new CronStore(monoDir), monoDir, trigger: 'manual', signal: abort.signal, onLine: (line) => process.stderr.write(`${line}\n`), warn: (m) => ctx.log.warn(m) });
    ctx.log.data(JSON.stringify({ ...run, tail: undefined }));
    if (run.status === 'skipped' && run.exitCode === undefined) return ExitCode.locked;
    return run.status === 'ok' || run.status === 'warning' || run.status === 'skipped' ? 0 : ExitCode.remote;
  } finally {
    process.off('SIGHUP', onHangup);
    unregister();
  }
});
