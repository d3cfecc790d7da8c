// `mono agent cron serve|list|run`: the scheduler service, what it runs and when (one JSON line), and one job run now
// with its output streamed (stderr) and its record as the reply.
import type { Context } from '../../cli/context.js';
import { isJobName, JOB_NAMES } from '../../cron/names.js';
import { ExitCode, MonoError } from '../../errors.js';
import { agentHandler } from '../handler.js';
import { agentPaths, requireRoot } from '../paths.js';
import { runJob } from './runner.js';
import { Scheduler } from './service.js';
import { cronListing, readSpec } from './listing.js';
import { CronStore } from './store.js';

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
  ctx.log.data(JSON.stringify(await cronListing(requireRoot(o.root))));
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
