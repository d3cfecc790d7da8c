// `mono restore-test [--backup ID] [--from offsite|local] [--db NAME]`: the restore drill, run on the box (in a transient
// unit of its own) for each database, with its progress shown as it goes and its report at the end.
import { randomBytes } from 'node:crypto';
import type { Context } from '../../cli/context.js';
import { backupId } from '../../backup/manifest.js';
import type { Config } from '../../config/types.js';
import { CommandFailedError, MonoError } from '../../errors.js';
import type { DrillReport, DrillSpec } from '../../restore/spec.js';
import { connect } from '../connect.js';
import { agentArgv, agentFailure } from '../deploy/agent-call.js';
import { layoutOf } from '../setup/layout.js';
import { formatDrill } from './report.js';

export interface RestoreTestOptions {
  readonly backup?: string;
  readonly from?: string;
  readonly db?: string;
}

export function drillSpecs(config: Config, options: RestoreTestOptions, now = new Date()): DrillSpec[] {
  const from = options.from ?? (config.backups.offsite === undefined ? 'local' : 'offsite');
  if (from !== 'offsite' && from !== 'local') throw new MonoError('USAGE', `--from must be offsite or local, got ${from}`);
  if (from === 'offsite' && config.backups.offsite === undefined) throw new MonoError('USAGE', '--from offsite needs backups.offsite in mono.yml', { hint: 'configure the offsite host, or drill the local copy with --from local' });
  if (options.backup !== undefined && !/^\d{8}T\d{6}Z$/.test(options.backup)) throw new MonoError('USAGE', `--backup must be a backup id like 20261201T030000Z, got ${options.backup}`, { hint: 'mono backups lists them' });
  if (config.databases.length === 0) throw new MonoError('USAGE', 'mono.yml lists no databases', { hint: 'add them, for example: databases: [{ name: shop }]' });
  const dbs = config.databases.filter((d) => options.db === undefined || d.name === options.db);
  if (dbs.length === 0) throw new MonoError('USAGE', `${options.db ?? ''} is not one of the databases in mono.yml (${config.databases.map((d) => d.name).join(', ')})`);
  if (options.backup !== undefined && dbs.length > 1) throw new MonoError('USAGE', '--backup names one backup: give --db as well', { hint: `for example: mono restore-test --db ${dbs[0]!.name} --backup ${options.backup}` });
  const L = layoutOf(config);
  return dbs.map((db) => ({
    id: `${backupId(now)}-${randomBytes(4).toString('hex')}`,
    app: config.app,
    root: L.root,
    helper: L.privHelper,
    dir: config.backups.dir,
    db: { name: db.name, user: db.user, port: db.port, ...(db.host === undefined ? {} : { host: db.host }) },
    from,
    ...(options.backup === undefined ? {} : { backup: options.backup }),
    ...(from === 'offsite' ? { offsite: config.backups.offsite!.target } : {}),
    jobs: config.restore.jobs,
    maxDataLossMs: config.backups.maxDataLossMs,
    checks: config.restore.checks,
  }));
}

function lastReport(stdout: string): DrillReport | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const v = JSON.parse(line) as DrillReport;
      if (typeof v.recoveryMs === 'number') return v;
    } catch {
      continue;
    }
  }
  return undefined;
}

export async function restoreTestCommand(ctx: Context, options: RestoreTestOptions): Promise<number> {
  const config = await ctx.config();
  const specs = drillSpecs(config, options);
  if (ctx.options.dryRun) {
    for (const s of specs) ctx.log.info(`dry run: would restore ${s.backup ?? 'the newest backup'} of ${s.db.name} from ${s.from === 'offsite' ? 'the offsite host' : 'the box'} into a throwaway cluster and check it`);
    return 0;
  }
  const t = await connect(ctx, config, 'deploy');
  for (const spec of specs) {
    ctx.log.info(`restore drill of ${ctx.log.colors.bold(spec.db.name)} (${spec.backup ?? 'newest backup'}, from ${spec.from === 'offsite' ? 'the offsite host' : 'the box'})`);
    let carry = '';
    let stdout = '';
    let failure: MonoError | undefined;
    try {
      const out = await t.run(
        { argv: agentArgv(['restore-test'], spec.root), stdin: JSON.stringify(spec), mutates: true },
        {
          timeoutMs: 12 * 3600_000,
          onStderr: (chunk: Buffer) => {
            const lines = (carry + chunk.toString('utf8')).split('\n');
            carry = lines.pop() ?? '';
            for (const line of lines) if (line.startsWith('  ') || line.startsWith('warning: ')) ctx.log.info(line);
          },
        },
      );
      stdout = out.stdout;
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
      stdout = error.stdout;
      failure = agentFailure(error);
    }
    const report = lastReport(stdout);
    if (report !== undefined) {
      ctx.log.event('restore_test.report', { ...report });
      if (!ctx.log.json) ctx.log.data(formatDrill(report, ctx.log.colors));
    }
    if (failure !== undefined) throw failure;
    if (report === undefined) throw new MonoError('REMOTE_FAILED', 'the restore drill gave no report', { hint: 'run mono setup so the agent on the box matches this mono version' });
  }
  return 0;
}
