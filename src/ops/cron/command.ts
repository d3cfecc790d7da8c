// `mono cron list` and `mono cron run JOB`: what the box's scheduler runs and when, and one job run now with its output.
import type { Context } from '../../cli/context.js';
import type { CronListing } from '../../agent/cron/listing.js';
import { formatMs } from '../../agent/cron/runner.js';
import type { RunRecord } from '../../agent/cron/store.js';
import { JOB_KINDS } from '../../cron/jobs.js';
import { isJobName, JOB_NAMES } from '../../cron/names.js';
import { CommandFailedError, ExitCode, MonoError } from '../../errors.js';
import { formatTable } from '../../log/table.js';
import { connect } from '../connect.js';
import { agentArgv, agentCall, agentFailure, lineSplitter, parseReply } from '../deploy/agent-call.js';
import { age } from '../releases.js';
import { layoutOf } from '../setup/layout.js';

/** When, relative to now: "in 4m", "in 2h", or the time itself past two days. */
export function until(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '-';
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (s < 120) return `in ${Math.max(0, s)}s`;
  if (s < 7200) return `in ${Math.round(s / 60)}m`;
  if (s < 172_800) return `in ${Math.round(s / 3600)}h`;
  return `in ${Math.round(s / 86_400)}d`;
}

export function lastResult(run: RunRecord | undefined): string {
  if (run === undefined) return 'never ran';
  return `${run.status} (${formatMs(run.ms)}${run.trigger === 'schedule' ? '' : `, ${run.trigger}`}): ${run.message}`;
}

export function cronTable(listing: CronListing, now = Date.now()): string[] {
  const rows = [['JOB', 'SCHEDULE', 'NEXT', 'LAST RUN', 'RESULT']];
  for (const j of listing.jobs) {
    rows.push([j.name, j.cron, j.running === undefined ? until(j.nextRun, now) : `running since ${age(j.running.startedAt, now)}`, j.lastRun === undefined ? '-' : age(j.lastRun.startedAt, now), lastResult(j.lastRun)]);
  }
  return formatTable(rows);
}

export async function cronListCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const listing = await agentCall<CronListing>(t, ['cron', 'list'], layoutOf(config).root);
  if (ctx.options.json) {
    ctx.log.data(JSON.stringify({ type: 'cron', ...listing }));
    return 0;
  }
  const c = ctx.log.colors;
  const lines = [`mono cron on ${config.target.host}: service ${listing.service === 'active' ? c.green('active') : c.red(listing.service)}`, ...cronTable(listing)];
  const idle = JOB_NAMES.filter((n) => !listing.jobs.some((j) => j.name === n));
  const why = (n: (typeof idle)[number]): string => (config.jobs.some((j) => j.name === n) ? 'in mono.yml, not on the box yet: run mono deploy' : JOB_KINDS[n].defaultCron(config) === undefined ? JOB_KINDS[n].idle : 'off in mono.yml');
  if (idle.length > 0) lines.push(`not scheduled: ${idle.map((n) => `${n} (${why(n)})`).join(', ')}`);
  for (const [job, a] of Object.entries(listing.alerts)) lines.push(c.red(`alert: ${job} ${a.status} since ${a.since}: ${a.message}`));
  ctx.log.data(lines.join('\n'));
  return listing.service === 'active' ? 0 : ExitCode.remote;
}

export async function cronRunCommand(ctx: Context, job: string): Promise<number> {
  if (!isJobName(job)) throw new MonoError('USAGE', `${JSON.stringify(job)} is not a job mono cron runs`, { hint: `the jobs are: ${JOB_NAMES.join(', ')}` });
  const config = await ctx.config();
  const scheduled = config.jobs.find((j) => j.name === job);
  if (ctx.options.dryRun) {
    ctx.log.info(`dry run: would run ${job} on the box now (${JOB_KINDS[job].describe})`);
    return 0;
  }
  const t = await connect(ctx, config, 'deploy');
  ctx.log.info(`running ${ctx.log.colors.bold(job)} on ${config.target.host}: ${JOB_KINDS[job].describe}`);
  const show = lineSplitter((line) => ctx.log.info(`  ${line}`));
  const out = await t
    .run({ argv: agentArgv(['cron', 'run'], layoutOf(config).root, ['--job', job]), mutates: true, okCodes: [0, ExitCode.remote, ExitCode.locked] }, { timeoutMs: (scheduled?.timeoutMs ?? JOB_KINDS[job].timeoutMs) + 60_000, onStderr: show.push })
    .catch((error: unknown) => {
      throw error instanceof CommandFailedError ? agentFailure(error) : error;
    });
  show.flush();
  const run = parseReply<RunRecord>(out.stdout, `"cron run ${job}"`);
  ctx.log.event('cron.run', { ...run });
  const line = `${job}: ${lastResult(run)}`;
  if (run.status === 'ok') ctx.log.info(ctx.log.colors.green(line));
  else if (run.status === 'warning' || run.status === 'skipped') ctx.log.warn(line);
  else throw new MonoError(run.status === 'timeout' ? 'REMOTE_FAILED' : 'CHECK_FAILED', `${job} ${run.status === 'fail' ? 'failed' : run.status}: ${run.message}`, { ...(run.hint === undefined ? {} : { hint: run.hint }) });
  return out.code === ExitCode.locked ? ExitCode.locked : 0;
}
