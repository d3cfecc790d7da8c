// Where a restore goes. A drill: a throwaway cluster (cluster.ts), whose superuser the drill is. mono restore: the live
// server, through a staging database <to>__restoring that the privileged helper creates for the app user's role; the
// restore runs as that role (never as a superuser: a dump is data, and must not run code as postgres), and only a copy
// that passed every check is swapped in (the database that was there is kept, renamed, never dropped).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BackupManifest } from '../../backup/manifest.js';
import { backupId } from '../../backup/manifest.js';
import { CommandFailedError, MonoError } from '../../errors.js';
import { priv } from '../../handover/units.js';
import { LocalTransport } from '../../transport/local.js';
import type { DrillSpec } from '../../restore/spec.js';
import { pipe } from '../backup/pipe.js';
import { startCluster, type Cluster } from './cluster.js';

export interface RestoreTarget {
  /** What the report and the log call it. */
  readonly describe: string;
  /** The database that receives the restore. */
  readonly database: string;
  /** The backup's globals (roles) are applied first: only in a throwaway cluster, whose superuser the drill is. */
  readonly globals: boolean;
  readonly client: () => pg.Client;
  /** Creates the (empty) database, applying what must come first (the globals, in a throwaway cluster). */
  prepare(manifest: BackupManifest, globals: string): Promise<void>;
  /** pg_restore into it. */
  restore(dump: string, jobs: number): Promise<void>;
  /** pg_amcheck, where the target allows it (it needs a superuser to install amcheck). */
  readonly amcheck?: (jobs: number) => Promise<void>;
  /** After every check passed. */
  commit(): Promise<string | undefined>;
  /** However it ended. */
  close(ok: boolean): Promise<void>;
}

export async function throwawayTarget(folder: string, manifest: BackupManifest, major: number): Promise<RestoreTarget> {
  const cluster: Cluster = await startCluster(folder, major);
  const env = { env: cluster.env };
  return {
    describe: `a throwaway PostgreSQL ${major} cluster`,
    database: manifest.db,
    globals: true,
    client: () => new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: manifest.db }),
    async prepare(m, globals) {
      await pipe([[cluster.bin('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-d', 'postgres', '-f', globals]], 'discard', env);
      const created = m.database;
      await pipe([[cluster.bin('createdb'), '--no-password', '--template=template0', ...(created === undefined ? [] : [`--encoding=${created.encoding}`, `--lc-collate=${created.collate}`, `--lc-ctype=${created.ctype}`]), '--', m.db]], 'discard', env);
    },
    async restore(dump, jobs) {
      await pipe([[cluster.bin('pg_restore'), `--jobs=${jobs}`, '--exit-on-error', '--no-password', `--dbname=${manifest.db}`, '--', dump]], 'discard', env);
    },
    amcheck: async (jobs) => {
      await pipe([[cluster.bin('pg_amcheck'), '--install-missing', '--heapallindexed', `--jobs=${jobs}`, '--no-password', `--database=${manifest.db}`]], 'discard', env);
    },
    commit: () => Promise.resolve(undefined),
    close: () => cluster.stop(),
  };
}

/** One call of the privileged helper (through sudo, as every agent verb calls it); its output is passed on. */
async function helper(spec: DrillSpec, args: readonly string[], info: (m: string) => void): Promise<void> {
  const said = (text: string): string[] => text.split('\n').filter(Boolean).map((line) => line.replace(/^mono-priv: /, ''));
  try {
    const out = await new LocalTransport().run(priv(spec.helper, ...args));
    for (const line of said(out.stdout + out.stderr)) info(`  ${line}`);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    const lines = said(error.stdout + error.stderr);
    for (const line of lines) info(`  ${line}`);
    throw new MonoError('REMOTE_FAILED', `${args[0] ?? 'the helper'} failed: ${lines.at(-1) ?? `status ${error.status}`}`, { hint: 'run mono setup (it installs the helper), then the restore again; the live database was not changed' });
  }
}

/** The live server's database as the app's role sees it (restore and verify run as that role, never as a superuser). */
function liveConnection(spec: DrillSpec): { connect: (database: string) => pg.Client; env: { env: NodeJS.ProcessEnv } } {
  const host = spec.db.host ?? '/var/run/postgresql';
  return {
    connect: (database) => new pg.Client({ host, port: spec.db.port, user: spec.db.user, database, connectionTimeoutMillis: 10_000 }),
    env: { env: { ...process.env, PGHOST: host, PGPORT: String(spec.db.port), PGUSER: spec.db.user } },
  };
}

async function databaseExists(connect: (database: string) => pg.Client, name: string): Promise<boolean> {
  const probe = connect('postgres');
  await probe.connect();
  try {
    return (await probe.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await probe.end().catch(() => undefined);
  }
}

function restoreAsApp(env: { env: NodeJS.ProcessEnv }, database: string, dump: string, jobs: number): Promise<unknown> {
  // As the app's role: objects are owned by it (--no-owner), and nothing in the dump runs with more rights than the app has.
  return pipe([['pg_restore', `--jobs=${jobs}`, '--exit-on-error', '--no-owner', '--no-password', `--dbname=${database}`, '--', dump]], 'discard', env);
}

/**
 * The drill's fallback (restore.target: scratch): a randomly named scratch database on the live server, created new
 * (a name that exists is refused, nothing is ever cleaned into), restored as the app's role, and dropped however the
 * drill ends. pg_amcheck is not run there: installing amcheck needs a superuser.
 */
export function scratchTarget(spec: DrillSpec, info: (m: string) => void): RestoreTarget {
  const name = `mono_drill_${randomBytes(4).toString('hex')}__restoring`;
  const { connect, env } = liveConnection(spec);
  let created = false;
  return {
    describe: `a scratch database ${name} on the live server`,
    database: name,
    globals: false,
    client: () => connect(name),
    async prepare(m) {
      await helper(spec, ['pg-role'], info);
      if (await databaseExists(connect, name)) throw new MonoError('CHECK_FAILED', `a database named ${name} exists: a drill never restores into an existing database`, { hint: 'run the drill again (it picks a new random name)' });
      const c = m.database ?? { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8' };
      await helper(spec, ['pg-createdb', name, c.encoding, c.collate, c.ctype], info);
      created = true;
    },
    restore: async (dump, jobs) => void (await restoreAsApp(env, name, dump, jobs)),
    commit: () => Promise.resolve(undefined),
    async close() {
      if (created) await helper(spec, ['pg-dropdb', name], info);
    },
  };
}

export function liveTarget(spec: DrillSpec, info: (m: string) => void): RestoreTarget {
  const to = spec.restore!.to;
  const staging = `${to}__restoring`;
  const { connect, env } = liveConnection(spec);
  let created = false;
  return {
    describe: `${to} on the live server (through ${staging})`,
    database: staging,
    globals: false,
    client: () => connect(staging),
    async prepare(m) {
      await helper(spec, ['pg-role'], info);
      if (!spec.restore!.replace && (await databaseExists(connect, to))) {
        throw new MonoError('USAGE', `the database ${to} exists on the live server: a restore never overwrites it unless told to`, { hint: `restore into a new name (--to ${to}_restored), or pass --replace: ${to} is then kept as ${to}_before_<time>, not dropped` });
      }
      // A staging database left by a restore that did not finish is only ever a staging database: it goes.
      await helper(spec, ['pg-dropdb', staging], info);
      const c = m.database ?? { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8' };
      await helper(spec, ['pg-createdb', staging, c.encoding, c.collate, c.ctype], info);
      created = true;
    },
    restore: async (dump, jobs) => void (await restoreAsApp(env, staging, dump, jobs)),
    async commit() {
      await helper(spec, ['pg-swapdb', staging, to, backupId(new Date())], info);
      created = false;
      return to;
    },
    async close(ok) {
      if (created && !ok) await helper(spec, ['pg-dropdb', staging], info).catch(() => undefined);
    },
  };
}
