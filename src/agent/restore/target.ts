// Where a restore goes. A drill: a throwaway cluster (cluster.ts), whose superuser the drill is. mono restore: the live
// server, through a staging database <to>__restoring that the privileged helper creates for the app user's role; the
// restore runs as that role (never as a superuser: a dump is data, and must not run code as postgres), and only a copy
// that passed every check is swapped in (the database that was there is kept, renamed, never dropped).
import { spawn } from 'node:child_process';
import pg from 'pg';
import type { BackupManifest } from '../../backup/manifest.js';
import { backupId } from '../../backup/manifest.js';
import { MonoError } from '../../errors.js';
import type { DrillSpec } from '../../restore/spec.js';
import { pipe } from '../backup/pipe.js';
import { startCluster, type Cluster } from './cluster.js';

export interface RestoreTarget {
  /** What the report and the log call it. */
  readonly describe: string;
  /** The database that receives the restore. */
  readonly database: string;
  readonly client: () => pg.Client;
  /** Creates the (empty) database, applying what must come first (the globals, in a throwaway cluster). */
  prepare(manifest: BackupManifest, globals: string): Promise<void>;
  /** pg_restore into it. */
  restore(dump: string, jobs: number): Promise<void>;
  /** pg_amcheck, where the target allows it (it needs a superuser to install amcheck). */
  readonly amcheck?: () => Promise<void>;
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
    client: () => new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: manifest.db }),
    async prepare(m, globals) {
      await pipe([[cluster.bin('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-d', 'postgres', '-f', globals]], 'discard', env);
      const created = m.database;
      await pipe([[cluster.bin('createdb'), '--no-password', '--template=template0', ...(created === undefined ? [] : [`--encoding=${created.encoding}`, `--lc-collate=${created.collate}`, `--lc-ctype=${created.ctype}`]), '--', m.db]], 'discard', env);
    },
    async restore(dump, jobs) {
      await pipe([[cluster.bin('pg_restore'), `--jobs=${jobs}`, '--exit-on-error', '--no-password', `--dbname=${manifest.db}`, '--', dump]], 'discard', env);
    },
    amcheck: async () => {
      await pipe([[cluster.bin('pg_amcheck'), '--install-missing', '--heapallindexed', '--no-password', `--database=${manifest.db}`]], 'discard', env);
    },
    commit: () => Promise.resolve(undefined),
    close: () => cluster.stop(),
  };
}

/** One call of the privileged helper (sudo, no password, no terminal); its output is passed on. */
function helper(spec: DrillSpec, args: readonly string[], info: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sudo', ['-n', spec.helper, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      for (const line of out.split('\n').filter(Boolean)) info(`  ${line.replace(/^mono-priv: /, '')}`);
      if (code === 0) resolve();
      else reject(new MonoError('REMOTE_FAILED', `${args[0] ?? 'the helper'} failed: ${(out.trim().split('\n').at(-1) ?? `status ${code ?? '?'}`).replace(/^mono-priv: /, '')}`, { hint: 'run mono setup (it installs the helper), then the restore again; the live database was not changed' }));
    });
  });
}

export function liveTarget(spec: DrillSpec, info: (m: string) => void): RestoreTarget {
  const to = spec.restore!.to;
  const staging = `${to}__restoring`;
  const host = spec.db.host ?? '/var/run/postgresql';
  const connect = (database: string): pg.Client => new pg.Client({ host, port: spec.db.port, user: spec.db.user, database, connectionTimeoutMillis: 10_000 });
  const env = { env: { ...process.env, PGHOST: host, PGPORT: String(spec.db.port), PGUSER: spec.db.user } };
  let created = false;
  return {
    describe: `${to} on the live server (through ${staging})`,
    database: staging,
    client: () => connect(staging),
    async prepare(m) {
      await helper(spec, ['pg-role'], info);
      const probe = connect('postgres');
      await probe.connect();
      try {
        const exists = (await probe.query('SELECT 1 FROM pg_database WHERE datname = $1', [to])).rowCount === 1;
        if (exists && !spec.restore!.replace) {
          throw new MonoError('USAGE', `the database ${to} exists on the live server: a restore never overwrites it unless told to`, { hint: `restore into a new name (--to ${to}_restored), or pass --replace: ${to} is then kept as ${to}_before_<time>, not dropped` });
        }
      } finally {
        await probe.end().catch(() => undefined);
      }
      // A staging database left by a restore that did not finish is only ever a staging database: it goes.
      await helper(spec, ['pg-dropdb', staging], info);
      const c = m.database ?? { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8' };
      await helper(spec, ['pg-createdb', staging, c.encoding, c.collate, c.ctype], info);
      created = true;
    },
    async restore(dump, jobs) {
      // As the app's role: objects are owned by it (--no-owner), and nothing in the dump runs with more rights than the app has.
      await pipe([['pg_restore', `--jobs=${jobs}`, '--exit-on-error', '--no-owner', '--no-password', `--dbname=${staging}`, '--', dump]], 'discard', env);
    },
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
