// Handler of `mono agent backup` (box side): one database, progress on stderr, the manifest as one JSON line on stdout.
import { isAbsolute } from 'node:path';
import type { Context } from '../../cli/context.js';
import { MonoError } from '../../errors.js';
import { agentHandler } from '../handler.js';
import { parseCount } from '../options.js';
import { readFileSync } from 'node:fs';
import type { BackupManifest } from '../../backup/manifest.js';
import { parseTarget } from '../../ssh/target.js';
import { requireRoot } from '../paths.js';
import { offsiteRound, type OffsiteFile, type OffsiteOutcome, type OffsiteTarget } from './offsite.js';
import { sha256File } from '../../release/hash.js';
import { runBackup } from './run.js';
import { boxEncryption } from './encryption.js';
import { parseRetention, pruneLocal } from './inventory.js';
import { backupListing } from './listing.js';

const PG_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The files of a finished local backup as the offsite copy lists them: the manifest's, then the manifest itself. */
async function filesOf(dbDir: string, id: string): Promise<OffsiteFile[]> {
  const manifest = JSON.parse(readFileSync(`${dbDir}/${id}/manifest.json`, 'utf8')) as BackupManifest;
  return [...manifest.files.map((f) => ({ name: f.name, sha256: f.sha256 })), { name: 'manifest.json', sha256: await sha256File(`${dbDir}/${id}/manifest.json`) }];
}

export const backupHandler = agentHandler('backup', async (ctx: Context, o: { root?: string; dir?: string; db?: string; user?: string; host?: string; port?: string; offsite?: string; retention?: string; maxDrop?: string; encrypt?: string }) => {
  if (o.dir === undefined || !isAbsolute(o.dir)) throw new MonoError('USAGE', '--dir must be an absolute path');
  if (o.db === undefined || !PG_NAME.test(o.db)) throw new MonoError('USAGE', '--db must be a PostgreSQL database name');
  if (o.user === undefined || !PG_NAME.test(o.user)) throw new MonoError('USAGE', '--user must be a PostgreSQL role name');
  const encrypt = o.encrypt === undefined ? undefined : await boxEncryption(requireRoot(o.root), o.encrypt);
  const manifest = await runBackup({
    dir: o.dir,
    ...(encrypt === undefined ? {} : { encrypt }),
    maxDropPercent: parseCount(o.maxDrop, '--max-drop', 50),
    db: { name: o.db, user: o.user, port: parseCount(o.port, '--port', 5432), ...(o.host === undefined ? {} : { host: o.host }) },
    info: (m) => ctx.log.info(m),
    warn: (m) => ctx.log.warn(m),
    onInterrupt: (fn) => ctx.onCleanup(fn),
  });
  let offsite: OffsiteOutcome | undefined;
  if (o.offsite !== undefined) {
    const target = parseTarget(o.offsite);
    if (typeof target === 'string') throw new MonoError('USAGE', `--offsite: ${target}`);
    const root = requireRoot(o.root);
    const where: OffsiteTarget = { ...target, key: `${root}/.ssh/offsite_ed25519`, knownHosts: `${root}/.ssh/known_hosts_offsite` };
    const dbDir = `${o.dir}/${o.db}`;
    offsite = await offsiteRound(where, dbDir, o.db, (id) => filesOf(dbDir, id), (m) => ctx.log.info(m));
  }
  // Only after a good backup: the retention policy, locally (offsite pruning needs the operator's credential).
  const pruned = o.retention === undefined ? undefined : pruneLocal(o.dir, o.db, parseRetention(o.retention), { apply: true, offsite: o.offsite !== undefined });
  if (pruned !== undefined && pruned.remove.length > 0) ctx.log.info(`  pruned ${pruned.remove.length} old backup${pruned.remove.length === 1 ? '' : 's'}: ${pruned.remove.join(', ')}`);
  // The agent's own peak memory (the dump streams through it: it must not grow with the database; bench/backup.ts reads it).
  const maxRssKb = process.resourceUsage().maxRSS;
  ctx.log.data(JSON.stringify({ manifest, ...(offsite === undefined ? {} : { offsite }), ...(pruned === undefined ? {} : { pruned: pruned.remove }), maxRssKb }));
});

function dbList(text: string | undefined): string[] {
  const dbs = (text ?? '').split(',').filter(Boolean);
  if (dbs.length === 0 || !dbs.every((d) => PG_NAME.test(d))) throw new MonoError('USAGE', '--dbs must list database names, separated by commas');
  return dbs;
}

export const listHandler = agentHandler('backups', async (ctx: Context, o: { dir?: string; dbs?: string }) => {
  if (o.dir === undefined || !isAbsolute(o.dir)) throw new MonoError('USAGE', '--dir must be an absolute path');
  const dir = o.dir;
  ctx.log.data(JSON.stringify(backupListing(dir, dbList(o.dbs))));
});

/** Each database's local backups, last run and last drill (mono backups, mono status). */
export const pruneHandler = agentHandler('backups-prune', async (ctx: Context, o: { dir?: string; db?: string; retention?: string; dryRun?: boolean; offsite?: boolean }) => {
  if (o.dir === undefined || !isAbsolute(o.dir)) throw new MonoError('USAGE', '--dir must be an absolute path');
  if (o.db === undefined || !PG_NAME.test(o.db)) throw new MonoError('USAGE', '--db must be a PostgreSQL database name');
  const plan = pruneLocal(o.dir, o.db, parseRetention(o.retention), { apply: o.dryRun !== true, offsite: o.offsite === true });
  ctx.log.data(JSON.stringify({ db: o.db, ...plan, dryRun: o.dryRun === true }));
});
