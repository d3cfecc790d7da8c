// The flags of `mono agent backup` and `mono agent backups-prune` for one database, from mono.yml (mono backup, mono backups prune and mono cron).
import { formatRetention } from '../../agent/backup/inventory.js';
import type { Config } from '../../config/types.js';
import { formatTarget } from '../../ssh/target.js';

type Database = Config['databases'][number];

export function backupFlags(config: Pick<Config, 'backups'>, db: Database): string[] {
  const { offsite, retention, maxDropPercent, encryptRecipients } = config.backups;
  return [
    '--dir', config.backups.dir,
    '--db', db.name,
    '--user', db.user,
    '--port', String(db.port),
    ...(db.host === undefined ? [] : ['--host', db.host]),
    ...(offsite === undefined ? [] : ['--offsite', formatTarget(offsite.target)]),
    '--retention', formatRetention(retention.local),
    '--max-drop', String(maxDropPercent),
    ...(encryptRecipients.length === 0 ? [] : ['--encrypt', encryptRecipients.join(',')]),
  ];
}

export function backupsPruneFlags(config: Pick<Config, 'backups'>, db: Pick<Database, 'name'>): string[] {
  return ['--dir', config.backups.dir, '--db', db.name, '--retention', formatRetention(config.backups.retention.local), ...(config.backups.offsite === undefined ? [] : ['--offsite'])];
}
