// `mono backups` (what the box and the offsite host hold) and `mono backups prune [--dry-run]` (the retention policies, local and offsite).
import type { Context } from '../../cli/context.js';
import { type LastRun, type LocalBackup } from '../../agent/backup/inventory.js';
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { formatBytes } from '../../release/progress.js';
import { formatTable } from '../../log/table.js';
import type { Transport } from '../../transport/transport.js';
import { connect } from '../connect.js';
import { agentCall } from '../deploy/agent-call.js';
import { age } from '../releases.js';
import { layoutOf } from '../setup/layout.js';
import { listOffsite, OffsitePruner } from './offsite-prune.js';
import { backupsPruneFlags } from './flags.js';
import { connectOffsite } from './offsite-setup.js';
import type { DrillReport } from '../../restore/spec.js';

export interface Listing {
  readonly databases: readonly { readonly db: string; readonly lastRun: LastRun | null; readonly lastDrill?: DrillReport | null; readonly backups: readonly LocalBackup[] }[];
}

/** The box's record of its backups (mono agent backups): each database's backups, last run and last drill. */
export function boxBackups(t: Transport, config: Config, dbs: readonly string[] = config.databases.map((d) => d.name)): Promise<Listing> {
  return agentCall<Listing>(t, ['backups'], layoutOf(config).root, { extra: ['--dir', config.backups.dir, '--dbs', dbs.join(',')] });
}

/** Bytes of each offsite backup's data files ("<db>/<id>"), as the local size counts them (without the manifest, or a file still arriving), read with the operator's login. */
async function offsiteSizes(ctx: Context, config: Config): Promise<Map<string, number> | string> {
  try {
    const listing = await listOffsite(await connectOffsite(ctx, config), config);
    return new Map(listing.folders.map((f) => [`${f.db}/${f.id}`, f.files.filter((x) => !x.name.startsWith('.') && x.name !== 'manifest.json').reduce((n, x) => n + x.bytes, 0)]));
  } catch (error) {
    return error instanceof MonoError ? error.message : String(error);
  }
}

export function backupsTable(listing: Listing, offsite: Map<string, number> | string | undefined, now = Date.now()): string {
  const rows = [['DATABASE', 'BACKUP', 'AGE', 'SIZE', 'TABLES', 'ROWS', 'CHECKED', 'RESTORED', 'OFFSITE']];
  for (const d of listing.databases) {
    for (const b of d.backups) {
      const there = offsite instanceof Map ? offsite.get(`${d.db}/${b.id}`) : undefined;
      const state = b.offsiteVerifiedAt !== undefined ? `verified ${age(b.offsiteVerifiedAt, now)}` : offsite === undefined ? '-' : 'pending';
      rows.push([d.db, b.id, age(b.startedAt, now), formatBytes(b.bytes), String(b.tables), String(b.rows), b.checked ? 'yes' : 'NO', b.restoredAt === undefined ? '-' : age(b.restoredAt, now), there === undefined || state === '-' ? state : `${state}, ${formatBytes(there)} there`]);
    }
    if (d.backups.length === 0) rows.push([d.db, '(none)', '', '', '', '', '', '', '']);
  }
  const lines = formatTable(rows);
  for (const d of listing.databases) if (d.lastRun?.status === 'failed') lines.push(`last backup of ${d.db} FAILED ${age(d.lastRun.at, now)}: ${d.lastRun.error ?? ''}`);
  if (typeof offsite === 'string') lines.push(`offsite host not reachable: ${offsite}`);
  return lines.join('\n');
}

export async function backupsCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  if (config.databases.length === 0) throw new MonoError('USAGE', 'mono.yml lists no databases', { hint: 'add them, for example: databases: [{ name: shop }]' });
  const t = await connect(ctx, config, 'deploy');
  const [listing, offsite] = await Promise.all([boxBackups(t, config), config.backups.offsite === undefined ? undefined : offsiteSizes(ctx, config)]);
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'backups', ...listing, offsite: offsite instanceof Map ? Object.fromEntries(offsite) : offsite ?? null }));
  else ctx.log.data(backupsTable(listing, offsite));
  return 0;
}

export async function backupsPruneCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const dry = ctx.options.dryRun;
  // Offsite retention runs with the operator's own login (the box's key cannot delete); a failure there stops only the offsite part.
  const offsite = config.backups.offsite === undefined ? undefined : new OffsitePruner(ctx, config);
  let offsiteError: MonoError | undefined;
  let refused: MonoError | undefined;
  for (const db of config.databases) {
    const plan = await agentCall<{ keep: { id: string; why: string[] }[]; remove: string[]; pendingKept: string[] }>(t, ['backups-prune'], layoutOf(config).root, {
      extra: [...backupsPruneFlags(config, db), ...(dry ? ['--dry-run'] : [])],
    });
    ctx.log.event('backups.prune', { db: db.name, ...plan, dryRun: dry });
    for (const k of plan.keep) ctx.log.info(`  keep    ${db.name}/${k.id}  (${k.why.join('; ')})`);
    for (const id of plan.pendingKept) ctx.log.info(`  keep    ${db.name}/${id}  (its offsite copy is pending)`);
    for (const id of plan.remove) ctx.log.info(`  ${dry ? 'would remove' : 'removed'} ${db.name}/${id}`);
    ctx.log.info(`${db.name}: ${plan.remove.length} ${dry ? 'would go' : 'removed'}, ${plan.keep.length + plan.pendingKept.length} kept`);
    if (offsite === undefined || offsiteError !== undefined) continue;
    // The box's own record, read again now: the last run (never prune after a failed one) and the local backups left.
    const listing = await boxBackups(t, config, [db.name]);
    const state = listing.databases.find((d) => d.db === db.name);
    if (state?.lastRun?.status === 'failed') {
      ctx.log.event('backups.prune.offsite', { db: db.name, skipped: 'the last backup failed', dryRun: dry });
      refused = new MonoError('CHECK_FAILED', `the last backup of ${db.name} failed (${state.lastRun.at}: ${state.lastRun.error ?? 'see its log'}): nothing is pruned offsite until a backup succeeds`, {
        hint: 'fix what made it fail and run mono backup; pruning waits for a good backup',
      });
      ctx.log.info(`  offsite: nothing pruned for ${db.name}, its last backup failed`);
      continue;
    }
    try {
      await offsite.prune(db.name, state?.backups ?? []);
    } catch (error) {
      if (!(error instanceof MonoError)) throw error;
      offsiteError = error;
    }
  }
  const failure = offsiteError ?? refused;
  if (failure !== undefined) throw failure;
  return 0;
}
