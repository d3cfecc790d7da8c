// `mono agent backup`: one database's backup on the box. The rows of every table are counted in a REPEATABLE READ
// transaction whose snapshot pg_dump then uses (pg_export_snapshot + --snapshot), so the manifest describes exactly what
// the dump holds. Files are written into <dir>/<db>/.partial-<id>/ (0600, fsynced), checked (sha256 re-read, a full read
// of the archive, the table count), and the folder is renamed to <dir>/<db>/<id>/ only then: a backup folder without the
// ".partial-" prefix is always complete.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { monoVersion } from '../../cli/version.js';
import { MonoError } from '../../errors.js';
import { BACKUP_ID, backupId, compareWithPrevious, pgMajor, type BackupFile, type BackupManifest } from '../../backup/manifest.js';
import { formatBytes } from '../../release/progress.js';
import { sha256File } from '../../release/hash.js';
import { capture, pipe } from './pipe.js';
import { archiveFormat } from '../../backup/format.js';
import { countCatalog } from '../../backup/catalog.js';
import { errnoCode } from '../fs-errors.js';
import { takeBackupLock } from './lock.js';
import { readRecord, recordRun } from './inventory.js';

export interface DatabaseTarget {
  readonly name: string;
  readonly user: string;
  readonly host?: string;
  readonly port: number;
}

/** age encryption: the recipients, and the box's own identity, which the checks (and restore drills) decrypt with. */
export interface BackupEncryption {
  readonly recipients: readonly string[];
  readonly identity: string;
}

export interface BackupRun {
  readonly dir: string;
  readonly encrypt?: BackupEncryption;
  /** A drop in size or table count since the previous backup above this percentage fails the run (default 50). */
  readonly maxDropPercent?: number;
  readonly db: DatabaseTarget;
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
  /** Registers work for an interrupted run (SIGINT, SIGTERM: mono cron stopping); returns the unregister function. */
  readonly onInterrupt?: (fn: () => Promise<void>) => () => void;
}

/** The newest complete backup of a database (its manifest), if any. */
export function newestManifest(dbDir: string): BackupManifest | undefined {
  let names: string[];
  try {
    names = readdirSync(dbDir).filter((n) => BACKUP_ID.test(n)).sort();
  } catch {
    return undefined;
  }
  for (const name of names.reverse()) {
    const manifest = readRecord<BackupManifest>(`${dbDir}/${name}/manifest.json`);
    if (manifest !== undefined) return manifest;
  }
  return undefined;
}

function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** About twice the last backup must be free before a new one starts (a dump can grow, and the old one stays). */
function checkSpace(dir: string, previous: BackupManifest | undefined): void {
  if (previous === undefined) return;
  const last = previous.files.reduce((n, f) => n + f.bytes, 0);
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  if (free < 2 * last) {
    throw new MonoError('DISK_FULL', `not enough free space in ${dir}: ${formatBytes(free)} free, and the last backup took ${formatBytes(last)} (about twice that is needed)`, {
      hint: 'free space there or prune old backups, then run the backup again; nothing was written',
    });
  }
}

/** ENOSPC anywhere in a run (the manifest, a folder) is the same clear error as one while dumping. */
function diskFull(error: unknown, dbDir: string): unknown {
  const code = errnoCode(error);
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return new MonoError('DISK_FULL', `the disk filled up in ${dbDir} during the backup`, { hint: 'free space in the backups folder (or move backups.dir), then run the backup again; earlier backups are untouched' });
}

export async function runBackup(r: BackupRun): Promise<BackupManifest> {
  const { db } = r;
  const dbDir = `${r.dir}/${db.name}`;
  const unlock = takeBackupLock(r.dir, db.name, r.warn);
  const started = new Date();
  const id = backupId(started);
  const partial = `${dbDir}/.partial-${id}`;
  // A run stopped by a signal ends through the process's cleanup, not this function's finally: it leaves nothing either.
  const unregister = r.onInterrupt?.(async () => {
    rmSync(partial, { recursive: true, force: true });
    if (existsSync(dbDir)) recordRun(dbDir, { status: 'failed', at: new Date().toISOString(), error: 'interrupted (SIGINT or SIGTERM) before it finished' });
    unlock();
  });
  try {
    mkdirSync(dbDir, { recursive: true, mode: 0o700 });
    for (const stale of readdirSync(dbDir).filter((n) => n.startsWith('.partial-'))) {
      r.warn(`removing ${stale}, left by a backup that did not finish`);
      rmSync(`${dbDir}/${stale}`, { recursive: true, force: true });
    }
    const previous = newestManifest(dbDir);
    checkSpace(r.dir, previous);
    const enc = r.encrypt;
    const [pgDump, zstd, age] = await Promise.all([capture(['pg_dump', '--version']), capture(['zstd', '--version']), enc === undefined ? undefined : capture(['age', '--version'])]);
    // With encryption, the compressed stream goes through age before it touches the disk; the checks decrypt with the box's key.
    const format = archiveFormat({ pgDumpMajor: pgMajor(pgDump), ...(enc === undefined ? {} : { encrypt: enc }) });
    const host = db.host ?? '/var/run/postgresql';
    const client = new pg.Client({ host, port: db.port, user: db.user, database: db.name, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
    } catch (error) {
      throw new MonoError('REMOTE_FAILED', `cannot connect to database ${db.name} as ${db.user} (${host}:${db.port}): ${(error as Error).message}`, {
        hint: 'check that PostgreSQL runs (systemctl status postgresql), that the database and role exist, and `databases` in mono.yml; nothing was written',
      });
    }
    let manifest: BackupManifest;
    try {
      const versionNum = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]?.server_version_num);
      const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
      if (pgMajor(pgDump) < pgMajor(versionNum)) {
        throw new MonoError('PREREQ_MISSING', `pg_dump is older than the server (${pgDump}; server ${version}): it cannot dump it correctly`, {
          hint: `install postgresql-client-${pgMajor(versionNum)} on the box (apt-get install postgresql-client-${pgMajor(versionNum)}), then run the backup again`,
        });
      }
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot = (await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
      const { rows, indexCount } = await countCatalog(client);
      const created = (await client.query<{ encoding: string; collate: string; ctype: string }>('SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = current_database()')).rows[0];
      mkdirSync(partial, { mode: 0o700 });
      const env = { ...process.env, PGHOST: host, PGPORT: String(db.port), PGUSER: db.user, PGDATABASE: db.name };
      r.info(`  dumping ${db.name} (${Object.keys(rows).length} tables, snapshot ${snapshot})`);
      // PostgreSQL < 16 has no zstd in pg_dump: an uncompressed custom archive through zstd (DESIGN §5: faster and smaller than gzip).
      const { dumpName, globalsName } = format;
      const dump = await pipe(format.dump(snapshot), { file: `${partial}/${dumpName}` }, { env });
      const globals = await pipe(format.globals(db.name), { file: `${partial}/${globalsName}` }, { env });
      await client.query('COMMIT');
      const files: BackupFile[] = [
        { name: dumpName, bytes: dump.bytes, sha256: dump.sha256 },
        { name: globalsName, bytes: globals.bytes, sha256: globals.sha256 },
      ];
      // Checks: what is on disk is what was written; the archive reads to its end; it holds every table.
      r.info('  checking: sha256, a full read of the archive, the table count');
      for (const f of files) {
        if ((await sha256File(`${partial}/${f.name}`)) !== f.sha256) throw new MonoError('CHECK_FAILED', `${f.name} does not read back as written (sha256 differs)`, { hint: 'the disk of the box may be failing: check it (dmesg, smartctl); nothing was kept from this run' });
      }
      await pipe([...format.read(`${partial}/${dumpName}`), ['pg_restore', '--exit-on-error', '--file=/dev/null']], 'discard');
      await pipe([...format.read(`${partial}/${globalsName}`), ['wc', '-c']], 'discard');
      const list = await pipe([...format.read(`${partial}/${dumpName}`), ['pg_restore', '--list']], 'capture', { lastMayStopEarly: true });
      const tableData = list.output.split('\n').filter((l) => / TABLE DATA /.test(l) && !l.startsWith(';')).length;
      if (tableData !== Object.keys(rows).length) {
        throw new MonoError('CHECK_FAILED', `the dump holds data for ${tableData} tables, the database had ${Object.keys(rows).length}`, { hint: 'look at pg_dump\'s messages above; nothing was kept from this run' });
      }
      manifest = {
        version: 1,
        id,
        db: db.name,
        startedAt: started.toISOString(),
        durationMs: Date.now() - started.getTime(),
        server: { version, versionNum },
        ...(created === undefined ? {} : { database: created }),
        tools: { pgDump, zstd, mono: monoVersion(), ...(age === undefined ? {} : { age }) },
        ...(enc === undefined ? {} : { encryption: { tool: 'age' as const, recipients: enc.recipients } }),
        snapshot,
        rows,
        tableCount: Object.keys(rows).length,
        indexCount,
        files,
        checks: { sha256: true, fullRead: true, tableCount: true },
      };
    } finally {
      await client.end().catch(() => undefined);
    }
    const file = `${partial}/manifest.json`;
    writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    const fd = openSync(file, 'r');
    fsyncSync(fd);
    closeSync(fd);
    fsyncDir(partial);
    renameSync(partial, `${dbDir}/${id}`);
    fsyncDir(dbDir);
    const drop = compareWithPrevious(previous, manifest, r.maxDropPercent ?? 50);
    for (const w of drop.warnings) r.warn(w);
    if (drop.failure !== undefined) {
      // Kept (it is a faithful dump of what the database holds now), but the run fails: nothing is pruned after it.
      recordRun(dbDir, { status: 'failed', at: new Date().toISOString(), id, error: drop.failure });
      throw new MonoError('CHECK_FAILED', `${drop.failure}: more than backups.max_drop (${r.maxDropPercent ?? 50}%)`, {
        hint: `the backup was kept as ${id} and no older backup will be pruned until a run passes; if the drop is intended, run mono backup again (it compares with ${id} then)`,
      });
    }
    recordRun(dbDir, { status: 'ok', at: new Date().toISOString(), id });
    return manifest;
  } catch (caught) {
    rmSync(partial, { recursive: true, force: true });
    const error = diskFull(caught, dbDir);
    // A lock held by another run is not this database's failure; a drop above max_drop was recorded already.
    if (!(error instanceof MonoError && (error.code === 'LOCKED' || error.code === 'CHECK_FAILED' && existsSync(`${dbDir}/${id}`)))) recordRun(dbDir, { status: 'failed', at: new Date().toISOString(), error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    unregister?.();
    unlock();
  }
}
