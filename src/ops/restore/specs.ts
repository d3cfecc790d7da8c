// The drill specs of mono restore-test (and of mono cron's restore_test job): one per database, from mono.yml and the options.
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { newDrillId, type DrillSpec } from '../../restore/spec.js';
import { selectDatabases } from '../backup/select.js';
import { layoutOf } from '../setup/layout.js';
import type { RestoreTestOptions } from './command.js';

export function drillSpecs(config: Config, options: RestoreTestOptions, now = new Date()): DrillSpec[] {
  const from = options.from ?? (config.backups.offsite === undefined ? 'local' : 'offsite');
  if (from !== 'offsite' && from !== 'local') throw new MonoError('USAGE', `--from must be offsite or local, got ${from}`);
  if (from === 'offsite' && config.backups.offsite === undefined) throw new MonoError('USAGE', '--from offsite needs backups.offsite in mono.yml', { hint: 'configure the offsite host, or drill the local copy with --from local' });
  if (options.backup !== undefined && !/^\d{8}T\d{6}Z$/.test(options.backup)) throw new MonoError('USAGE', `--backup must be a backup id like 20261201T030000Z, got ${options.backup}`, { hint: 'mono backups lists them' });
  const dbs = selectDatabases(config, options.db, 'drill');
  if (options.backup !== undefined && dbs.length > 1) throw new MonoError('USAGE', '--backup names one backup: give --db as well', { hint: `for example: mono restore-test --db ${dbs[0]!.name} --backup ${options.backup}` });
  const L = layoutOf(config);
  return dbs.map((db) => ({
    id: newDrillId(now),
    app: config.app,
    root: L.root,
    helper: L.privHelper,
    dir: config.backups.dir,
    db: { name: db.name, user: db.user, port: db.port, ...(db.host === undefined ? {} : { host: db.host }) },
    from,
    ...(options.backup === undefined ? {} : { backup: options.backup }),
    ...(from === 'offsite' ? { offsite: config.backups.offsite!.target } : {}),
    jobs: config.restore.jobs,
    target: config.restore.target,
    maxDataLossMs: config.backups.maxDataLossMs,
    checks: config.restore.checks,
  }));
}
