// Handler of `mono agent backup` (box side): one database, progress on stderr, the manifest as one JSON line on stdout.
import { isAbsolute } from 'node:path';
import type { Context } from '../../cli/context.js';
import { MonoError } from '../../errors.js';
import { agentHandler } from '../handler.js';
import { parseCount } from '../options.js';
import { runBackup } from './run.js';

const PG_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const backupHandler = agentHandler('backup', async (ctx: Context, o: { dir?: string; db?: string; user?: string; host?: string; port?: string }) => {
  if (o.dir === undefined || !isAbsolute(o.dir)) throw new MonoError('USAGE', '--dir must be an absolute path');
  if (o.db === undefined || !PG_NAME.test(o.db)) throw new MonoError('USAGE', '--db must be a PostgreSQL database name');
  if (o.user === undefined || !PG_NAME.test(o.user)) throw new MonoError('USAGE', '--user must be a PostgreSQL role name');
  const manifest = await runBackup({
    dir: o.dir,
    db: { name: o.db, user: o.user, port: parseCount(o.port, '--port', 5432), ...(o.host === undefined ? {} : { host: o.host }) },
    info: (m) => ctx.log.info(m),
    warn: (m) => ctx.log.warn(m),
  });
  ctx.log.data(JSON.stringify({ manifest }));
});
