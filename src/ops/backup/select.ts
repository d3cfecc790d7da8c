// Which of mono.yml's databases a backup or restore command acts on: all of them, or the one --db names.
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';

/** `doing`: what the command does to them, for its messages ("back up", "drill"). */
export function selectDatabases(config: Pick<Config, 'databases'>, db: string | undefined, doing: string): Config['databases'] {
  if (config.databases.length === 0) throw new MonoError('USAGE', `mono.yml lists no databases to ${doing}`, { hint: 'add them, for example: databases: [{ name: shop }]' });
  const dbs = config.databases.filter((d) => db === undefined || d.name === db);
  if (dbs.length === 0) {
    throw new MonoError('USAGE', `${db ?? ''} is not one of the databases in mono.yml (${config.databases.map((d) => d.name).join(', ')})`, { hint: `name one of those with --db, or leave --db out to ${doing} all of them` });
  }
  return dbs;
}
