// `mono agent backup` with its alerts (box side): reads <root>/.mono/notify.json, pings start, runs the backup, pings success or fail with the log tail.
import { Context } from '../../cli/context.js';
import { ExitCode } from '../../errors.js';
import { RecordingLogger } from '../../log/recording.js';
import type { JobOutcome } from '../../notify/message.js';
import { withAlerts } from '../../notify/job.js';
import { notifyPath, readNotifySettings } from '../../notify/settings.js';
import type { AgentHandler } from '../handler.js';
import { agentPaths, requireRoot } from '../paths.js';
import { backupHandler } from './command.js';
import type { OffsiteOutcome } from './offsite.js';

type BackupOptions = Parameters<typeof backupHandler>[1];

/**
 * How a backup that returned went, from its reply line: a backup whose offsite copy is pending or damaged did not fully
 * succeed (the CLI fails the run for it); warnings (a size drop) make it a warning; otherwise it is ok.
 */
export function judgeBackup(reply: string | undefined, warnings: readonly string[]): JobOutcome {
  let parsed: { manifest?: { db?: string; id?: string }; offsite?: OffsiteOutcome } = {};
  try {
    parsed = JSON.parse(reply ?? '{}') as typeof parsed;
  } catch {
    // Not a reply we know: judge by the warnings alone.
  }
  const { manifest, offsite } = parsed;
  const name = `${manifest?.db ?? '?'}/${manifest?.id ?? '?'}`;
  if (offsite !== undefined && offsite.status !== 'copied') {
    const what = offsite.status === 'pending' ? 'its offsite copy is pending' : 'an offsite copy is damaged';
    return { status: 'fail', message: `backup ${name} is kept on the box, but ${what}: ${offsite.error?.message ?? offsite.status}`, ...(offsite.error?.hint === undefined ? {} : { hint: offsite.error.hint }) };
  }
  if (warnings.length > 0) return { status: 'warning', message: `backup ${name} was made, with ${warnings.length === 1 ? 'a warning' : `${warnings.length} warnings`}: ${warnings.join('; ')}` };
  return { status: 'ok', message: `backup ${name} made and checked` };
}

export const notifiedBackupHandler: AgentHandler<BackupOptions & { strict?: boolean }> = async (ctx, { strict, ...o }) => {
  const settings = readNotifySettings(notifyPath(agentPaths(requireRoot(o.root)).monoDir), (m) => ctx.log.warn(m));
  const alerts = settings !== undefined && (settings.webhook !== undefined || settings.ping['backup'] !== undefined);
  if (!alerts && strict !== true) return backupHandler(ctx, o);
  const log = new RecordingLogger(ctx.log);
  const inner = new Context(ctx.options, log);
  const unregisterInner = ctx.onCleanup(() => inner.cleanup());
  const run = (): ReturnType<typeof backupHandler> => backupHandler(inner, o);
  try {
    const code = !alerts
      ? await run()
      : await withAlerts({
          settings,
          job: 'backup',
          run,
          judge: () => judgeBackup(log.lastData(), log.warnings()),
          lines: () => log.lines(),
          // Said on the outer logger: delivery problems are not part of the job's own log.
          warn: (m) => ctx.log.warn(m),
          onInterrupt: (fn) => ctx.onCleanup(fn),
        });
    // --strict (mono cron): a run the alerts call failed (its offsite copy pending or damaged) exits 5, as mono backup does.
    const verdict = strict === true && (code === undefined || code === 0) ? judgeBackup(log.lastData(), []) : undefined;
    if (verdict?.status === 'fail') {
      ctx.log.error(verdict.message, verdict.hint);
      return ExitCode.remote;
    }
    return code;
  } finally {
    unregisterInner();
    await inner.cleanup();
  }
};
