// A throwaway PostgreSQL cluster for a restore drill: initdb in the drill's private folder, the same major version as
// the backed-up server, listening only on a unix socket in that folder (so it never takes a port or meets the live
// cluster), without fsync (nothing in it has to survive a crash). The drill's transient unit kills it with everything
// else if the drill itself is killed; stop() is the orderly end.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { MonoError } from '../../errors.js';
import { capture } from '../backup/pipe.js';

/** The superuser initdb makes in the throwaway cluster (a name no application uses, so the globals create theirs). */
export const DRILL_SUPERUSER = 'mono_drill';
const PORT = 5432;

export interface Cluster {
  /** PGHOST/PGPORT/PGUSER for programs and clients that talk to it. */
  readonly env: NodeJS.ProcessEnv;
  readonly socketDir: string;
  readonly port: number;
  readonly user: string;
  readonly bin: (program: string) => string;
  stop(): Promise<void>;
}

/** The programs of a PostgreSQL major version (Debian's layout). */
export function pgBinDir(major: number): string {
  return `/usr/lib/postgresql/${major}/bin`;
}

async function waitReady(bin: string, socketDir: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    try {
      await capture([`${bin}/pg_isready`, '-q', '-h', socketDir, '-p', String(PORT)]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new MonoError('REMOTE_FAILED', 'the throwaway PostgreSQL cluster did not start', { hint: 'its log is above', details: log().split('\n').slice(-10) });
}

export async function startCluster(folder: string, major: number): Promise<Cluster> {
  const bin = pgBinDir(major);
  if (!existsSync(`${bin}/initdb`)) {
    throw new MonoError('PREREQ_MISSING', `the backup is of PostgreSQL ${major}, whose server programs are not on the box (${bin})`, {
      hint: `install postgresql-${major} on the box (apt-get install postgresql-${major}); a drill restores into the same major version`,
    });
  }
  const data = `${folder}/data`;
  const socketDir = `${folder}/socket`;
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  await capture([`${bin}/initdb`, '--pgdata', data, '--username', DRILL_SUPERUSER, '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C.UTF-8', '--no-sync', '--no-instructions']).catch((error: unknown) => {
    throw new MonoError('REMOTE_FAILED', `initdb of the throwaway cluster failed: ${(error as Error).message}`, { hint: 'is the drill folder writable and is there space? (the drill runs in a private /tmp)' });
  });
  let log = '';
  // Settings for one bulk load that nobody needs after a crash: no fsync, minimal WAL (index builds and COPY into new
  // tables skip it), more memory for index builds, no autovacuum.
  const settings = ['listen_addresses=', 'fsync=off', 'full_page_writes=off', 'synchronous_commit=off', 'wal_level=minimal', 'max_wal_senders=0', 'max_wal_size=4GB', 'checkpoint_timeout=30min', 'maintenance_work_mem=256MB', 'autovacuum=off', 'logging_collector=off'];
  const server = spawn(`${bin}/postgres`, ['-D', data, '-p', String(PORT), '-k', socketDir, ...settings.flatMap((s) => ['-c', s])], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => server.on('close', () => resolve()));
  try {
    await waitReady(bin, socketDir, server, () => log);
  } catch (error) {
    server.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    env: { ...process.env, PGHOST: socketDir, PGPORT: String(PORT), PGUSER: DRILL_SUPERUSER, PGDATABASE: 'postgres' },
    socketDir,
    port: PORT,
    user: DRILL_SUPERUSER,
    bin: (program) => `${bin}/${program}`,
    async stop() {
      if (server.exitCode !== null) return;
      // SIGQUIT: PostgreSQL's immediate shutdown, without the final checkpoint: the cluster is thrown away next.
      server.kill('SIGQUIT');
      const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
