// `mono backup [--db NAME]`: runs the backup on the box (one database after the other) and shows its progress as it goes.
import type { Context } from '../../cli/context.js';
import type { BackupManifest } from '../../backup/manifest.js';
import { CommandFailedError, MonoError } from '../../errors.js';
import { formatBytes } from '../../release/progress.js';
import { connect } from '../connect.js';
import { agentArgv, agentFailure, agentProgress, parseReply } from '../deploy/agent-call.js';
import { layoutOf } from '../setup/layout.js';
import type { OffsiteOutcome } from '../../agent/backup/offsite.js';
import { formatTarget } from '../../ssh/target.js';
import { selectDatabases } from './select.js';
import { backupFlags } from './flags.js';

export async function backupCommand(ctx: Context, options: { db?: string }): Promise<number> {
  const config = await ctx.config();
  const dbs = selectDatabases(config, options.db, 'back up');
  if (ctx.options.dryRun) {
    ctx.log.info(`dry run: would back up ${dbs.map((d) => d.name).join(', ')} into ${config.backups.dir} on the box`);
    return 0;
  }
  const t = await connect(ctx, config, 'deploy');
  const root = layoutOf(config).root;
  const offsite = config.backups.offsite;
  for (const db of dbs) {
    ctx.log.info(`backing up ${ctx.log.colors.bold(db.name)}`);
    const out = await t.run(
      { argv: agentArgv(['backup'], root, backupFlags(config, db)), mutates: true },
      {
        timeoutMs: 6 * 3600_000,
        onStderr: agentProgress((line) => ctx.log.info(line)),
      },
    ).catch((error: unknown) => {
      throw error instanceof CommandFailedError ? agentFailure(error) : error;
    });
    const { manifest, offsite: copy, maxRssKb } = parseReply<{ manifest: BackupManifest; offsite?: OffsiteOutcome; maxRssKb?: number }>(out.stdout, '"backup"');
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    const rows = Object.values(manifest.rows).reduce((n, v) => n + v, 0);
    ctx.log.event('backup.done', { db: db.name, id: manifest.id, bytes, tables: manifest.tableCount, indexes: manifest.indexCount, rows, ms: manifest.durationMs, ...(maxRssKb === undefined ? {} : { agentMaxRssKb: maxRssKb }) });
    ctx.log.info(ctx.log.colors.green(`backed up ${db.name} as ${manifest.id}: ${formatBytes(bytes)}, ${manifest.tableCount} tables, ${rows} rows, ${manifest.indexCount} indexes, checked, in ${(manifest.durationMs / 1000).toFixed(1)} s`));
    if (copy !== undefined) {
      ctx.log.event('backup.offsite', { db: db.name, ...copy });
      if (copy.copied.length > 0) ctx.log.info(`  offsite: ${copy.copied.join(', ')} copied and verified on ${formatTarget(offsite!.target)}`);
      if (copy.status !== 'copied') {
        const e = copy.error!;
        throw new MonoError(copy.status === 'damaged' ? 'CHECK_FAILED' : 'REMOTE_FAILED', `backup ${db.name}/${manifest.id} is kept on the box, but ${copy.status === 'pending' ? 'its offsite copy is pending' : 'an offsite copy is damaged'}: ${e.message}`, {
          ...(e.hint === undefined ? {} : { hint: e.hint }),
        });
      }
    }
  }
  return 0;
}
