// `mono releases` (list what is on the box) and `mono releases prune`.
import type { Context } from '../cli/context.js';
import { formatBytes } from '../release/progress.js';
import { formatTable } from '../log/table.js';
import type { PruneResult, ReleaseInfo } from '../release/protocol.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { auditVia } from './deploy/audit-entry.js';
import { acquireLock } from './deploy/lock.js';
import { MonoError } from '../errors.js';
import { layoutOf } from './setup/layout.js';

export function age(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '?';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

export function releasesTable(app: string, releases: readonly ReleaseInfo[], now = Date.now()): string {
  const rows = [['', 'RELEASE', 'RUNNING', 'SIZE', 'DEPLOYED', 'BY', 'GIT']];
  for (const r of releases) {
    rows.push([
      r.current ? '*' : '',
      r.id,
      r.units.map((u) => `${u.unit.replace(/@.*/, '').slice(app.length + 1)}:${u.state}`).join(',') || '-',
      formatBytes(r.bytes),
      age(r.meta?.createdAt, now),
      r.meta?.by ?? '?',
      r.meta?.git === undefined ? '-' : `${r.meta.git.commit.slice(0, 10)}${r.meta.git.dirty ? '+' : ''}`,
    ]);
  }
  return formatTable(rows).join('\n');
}

export async function releasesCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const { releases } = await agentCall<{ releases: ReleaseInfo[] }>(t, ['releases'], layoutOf(config).root, { extra: ['--app', config.app] });
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'releases', releases }));
  else ctx.log.data(releases.length === 0 ? 'no releases yet: run mono deploy' : releasesTable(config.app, releases));
  return 0;
}

export async function pruneCommand(ctx: Context, options: { keep?: string }): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const root = layoutOf(config).root;
  const keep = options.keep ?? String(config.release.keep);
  if (!/^[1-9]\d*$/.test(keep)) throw new MonoError('USAGE', `--keep ${keep} is not a whole number of at least 1`, { hint: 'for example: mono releases prune --keep 3' });
  // Pruning while a deploy uploads could delete blobs it just sent: take the deploy lock for the length of the prune.
  const lock = ctx.options.dryRun ? undefined : await acquireLock(t, root, { operation: 'prune' }, { wait: false, log: ctx.log });
  let result: PruneResult;
  try {
    if (lock === undefined) {
      result = await agentCall<PruneResult>(t, ['prune'], root, { extra: ['--keep', keep, '--app', config.app, '--dry-run'] });
    } else {
      result = await lock.call<PruneResult>({ op: 'prune', keep: Number(keep), app: config.app });
      if (result.removedReleases.length > 0 || result.removedBlobs > 0) await auditVia(lock, { action: 'prune', removed: result.removedReleases, blobs: result.removedBlobs, freedBytes: result.freedBytes });
    }
  } finally {
    await lock?.release();
  }
  ctx.log.event('prune', { ...result });
  const verb = ctx.options.dryRun ? 'would remove' : 'removed';
  ctx.log.info(`${verb} ${result.removedReleases.length} releases (${result.removedReleases.join(', ') || 'none'}) and ${result.removedBlobs} unused blobs, ${formatBytes(result.freedBytes)}; kept ${result.keptReleases.length}`);
  return 0;
}
