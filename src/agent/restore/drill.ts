// A restore drill, on the box, inside its own transient unit: fetch the backup and check it against its manifest,
// decrypt and decompress it, restore it into a throwaway cluster (globals first, then pg_restore -j --exit-on-error),
// and check the copy (exact rows, tables, indexes, pg_amcheck, the operator's smoke checks). Each phase is timed: their
// sum is the measured recovery time. The cluster is stopped and the folder removed however the drill ends; if the drill
// is killed, its unit's end does the same (KillMode=control-group, PrivateTmp).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { archiveFormat } from '../../backup/format.js';
import { countCatalog } from '../../backup/catalog.js';
import { pgMajor, type BackupManifest } from '../../backup/manifest.js';
import { isMonoError, MonoError } from '../../errors.js';
import type { CheckResult, DrillPhases, DrillReport, DrillSpec } from '../../restore/spec.js';
import { boxIdentityPath } from '../backup/encryption.js';
import { pipe } from '../backup/pipe.js';
import { startCluster, type Cluster } from './cluster.js';
import { fetchBackup } from './fetch.js';
import { compareCatalog, judgeSmoke } from './verify.js';

export interface DrillLog {
  readonly info: (m: string) => void;
  readonly warn: (m: string) => void;
}

/** Plain custom-format archive and globals SQL in the drill's folder (age and zstd undone). */
async function unpack(manifest: BackupManifest, from: string, work: string, root: string): Promise<{ dump: string; globals: string }> {
  const format = archiveFormat({ pgDumpMajor: pgMajor(manifest.tools.pgDump), ...(manifest.encryption === undefined ? {} : { encrypt: { recipients: manifest.encryption.recipients, identity: boxIdentityPath(root) } }) });
  const names = manifest.files.map((f) => f.name);
  if (!names.includes(format.dumpName) || !names.includes(format.globalsName)) {
    throw new MonoError('CHECK_FAILED', `the backup's files (${names.join(', ')}) are not the ones its manifest's tools make (${format.dumpName}, ${format.globalsName})`, { hint: 'the manifest does not describe this backup; try another one with --backup' });
  }
  const dump = `${work}/dump.pgdump`;
  const globals = `${work}/globals.sql`;
  await pipe(format.read(`${from}/${format.dumpName}`), { file: dump });
  await pipe(format.read(`${from}/${format.globalsName}`), { file: globals });
  return { dump, globals };
}

async function restoreInto(cluster: Cluster, manifest: BackupManifest, files: { dump: string; globals: string }, jobs: number): Promise<void> {
  const env = { env: cluster.env };
  await pipe([[cluster.bin('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-password', '-d', 'postgres', '-f', files.globals]], 'discard', env);
  const created = manifest.database;
  await pipe([[cluster.bin('createdb'), '--no-password', '--template=template0', ...(created === undefined ? [] : [`--encoding=${created.encoding}`, `--lc-collate=${created.collate}`, `--lc-ctype=${created.ctype}`]), '--', manifest.db]], 'discard', env);
  await pipe([[cluster.bin('pg_restore'), `--jobs=${jobs}`, '--exit-on-error', '--no-password', `--dbname=${manifest.db}`, '--', files.dump]], 'discard', env);
}

async function verify(cluster: Cluster, manifest: BackupManifest, spec: DrillSpec, log: DrillLog): Promise<CheckResult[]> {
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: cluster.user, database: manifest.db });
  await client.connect();
  const results: CheckResult[] = [];
  try {
    results.push(...compareCatalog(manifest, await countCatalog(client)));
    const backupAt = new Date(manifest.startedAt);
    for (const check of spec.checks.filter((c) => c.db === undefined || c.db === manifest.db)) {
      try {
        const r = await client.query<unknown[]>({ text: check.sql, rowMode: 'array' });
        results.push(judgeSmoke(check, r.rows[0]?.[0] ?? null, backupAt));
      } catch (error) {
        results.push({ name: `check "${check.name}"`, ok: false, detail: `failed: ${(error as Error).message}` });
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    await pipe([[cluster.bin('pg_amcheck'), '--install-missing', '--heapallindexed', '--no-password', `--database=${manifest.db}`]], 'discard', { env: cluster.env });
    results.push({ name: 'pg_amcheck', ok: true, detail: 'heap and every btree index (heapallindexed) are consistent' });
  } catch (error) {
    results.push({ name: 'pg_amcheck', ok: false, detail: isMonoError(error) ? [error.message, ...(error.details ?? [])].join(': ') : String(error) });
  }
  for (const r of results) (r.ok ? log.info : log.warn)(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
  return results;
}

export async function runDrill(spec: DrillSpec, log: DrillLog, now = (): number => Date.now()): Promise<DrillReport> {
  const startedAt = new Date(now());
  const phases = { fetchMs: 0, decryptMs: 0, restoreMs: 0, verifyMs: 0 };
  let lap = performance.now();
  const mark = (phase: keyof DrillPhases): void => {
    const t = performance.now();
    phases[phase] = Math.round(t - lap);
    lap = t;
  };
  const work = mkdtempSync(`${tmpdir()}/mono-drill-`);
  let cluster: Cluster | undefined;
  let manifest: BackupManifest | undefined;
  let chosen = spec.backup;
  let checks: CheckResult[] = [];
  let error: DrillReport['error'];
  try {
    const fetched = await fetchBackup(spec, work, log.info, (found) => (chosen = found));
    manifest = fetched.manifest;
    mark('fetchMs');
    log.info(`  decrypt: ${manifest.encryption === undefined ? 'decompressing' : 'decrypting (the box\'s age key) and decompressing'} into the drill's private folder`);
    const files = await unpack(manifest, fetched.dir, work, spec.root);
    mark('decryptMs');
    log.info(`  restore: a throwaway PostgreSQL ${pgMajor(manifest.server.versionNum)} cluster; globals, then pg_restore --jobs=${spec.jobs} --exit-on-error`);
    cluster = await startCluster(`${work}/cluster`, pgMajor(manifest.server.versionNum));
    await restoreInto(cluster, manifest, files, spec.jobs);
    mark('restoreMs');
    log.info('  verify: rows of every table, tables, indexes, pg_amcheck --heapallindexed, smoke checks');
    checks = await verify(cluster, manifest, spec, log);
    mark('verifyMs');
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) error = { code: 'CHECK_FAILED', message: `the restored copy of ${manifest.db}/${manifest.id} fails ${failed.map((c) => c.name).join(', ')}: ${failed[0]!.detail}`, hint: 'the backup restores but is not what was backed up: do not rely on it; look at the check above' };
  } catch (caught) {
    const e = isMonoError(caught) ? caught : new MonoError('REMOTE_FAILED', (caught as Error).message);
    error = { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
    for (const d of e.details ?? []) log.warn(`  ${d}`);
  } finally {
    await cluster?.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  const backupAt = manifest?.startedAt ?? startedAt.toISOString();
  const recoveryMs = phases.fetchMs + phases.decryptMs + phases.restoreMs + phases.verifyMs;
  return {
    id: spec.id,
    db: spec.db.name,
    backup: manifest?.id ?? chosen ?? '?',
    from: spec.from,
    ok: error === undefined,
    startedAt: startedAt.toISOString(),
    backupAt,
    dataAgeMs: startedAt.getTime() - new Date(backupAt).getTime(),
    maxDataLossMs: spec.maxDataLossMs,
    phases,
    recoveryMs,
    tables: manifest?.tableCount ?? 0,
    rows: manifest === undefined ? 0 : Object.values(manifest.rows).reduce((a, b) => a + b, 0),
    checks,
    ...(error === undefined ? {} : { error }),
  };
}
