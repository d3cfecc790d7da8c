// A restore drill, on the box, inside its own transient unit: fetch the backup and check it against its manifest,
// decrypt and decompress it, restore it into a throwaway cluster (globals first, then pg_restore -j --exit-on-error),
// and check the copy (exact rows, tables, indexes, pg_amcheck, the operator's smoke checks). Each phase is timed: their
// sum is the measured recovery time. The cluster is stopped and the folder removed however the drill ends; if the drill
// is killed, its unit's end does the same (KillMode=control-group, PrivateTmp).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { archiveFormat } from '../../backup/format.js';
import { countCatalog } from '../../backup/catalog.js';
import { pgMajor, type BackupManifest } from '../../backup/manifest.js';
import { isMonoError, MonoError } from '../../errors.js';
import type { CheckResult, DrillPhases, DrillReport, DrillSpec } from '../../restore/spec.js';
import { boxIdentityPath } from '../backup/encryption.js';
import { pipe } from '../backup/pipe.js';
import { liveTarget, scratchTarget, throwawayTarget, type RestoreTarget } from './target.js';
import { fetchBackup } from './fetch.js';
import { compareCatalog, judgeSmoke } from './verify.js';

export interface DrillLog {
  readonly info: (m: string) => void;
  readonly warn: (m: string) => void;
}

/** Plain custom-format archive and globals SQL in the drill's folder (age and zstd undone). */
async function unpack(manifest: BackupManifest, from: string, work: string, identity: string): Promise<{ dump: string; globals: string }> {
  const format = archiveFormat({ pgDumpMajor: pgMajor(manifest.tools.pgDump), ...(manifest.encryption === undefined ? {} : { encrypt: { recipients: manifest.encryption.recipients, identity } }) });
  const names = manifest.files.map((f) => f.name);
  if (!names.includes(format.dumpName) || !names.includes(format.globalsName)) {
    throw new MonoError('CHECK_FAILED', `the backup's files (${names.join(', ')}) are not the ones its manifest's tools make (${format.dumpName}, ${format.globalsName})`, { hint: 'the manifest does not describe this backup; try another one with --backup' });
  }
  const dump = `${work}/dump.pgdump`;
  const globals = `${work}/globals.sql`;
  try {
    await pipe(format.read(`${from}/${format.dumpName}`), { file: dump });
    await pipe(format.read(`${from}/${format.globalsName}`), { file: globals });
  } catch (error) {
    if (isMonoError(error) && (error.details ?? []).some((d) => /no identity matched any of the recipients/.test(d))) {
      throw new MonoError('CHECK_FAILED', `the key used cannot open ${manifest.db}/${manifest.id}: it is encrypted to ${manifest.encryption?.recipients.join(', ') ?? '?'}`, {
        hint: 'on a new box, give your recovery key: --identity <the private file age-keygen wrote>; it travels on stdin and is gone when the run ends',
      });
    }
    throw error;
  }
  return { dump, globals };
}

async function verify(target: RestoreTarget, manifest: BackupManifest, spec: DrillSpec, log: DrillLog): Promise<CheckResult[]> {
  // pg_amcheck reads every heap and index while the rows are counted: two readers, two cores.
  const amcheck: Promise<CheckResult> | undefined = target.amcheck?.(spec.jobs).then(
    (): CheckResult => ({ name: 'pg_amcheck', ok: true, detail: 'heap and every btree index (heapallindexed) are consistent' }),
    (error: unknown): CheckResult => ({ name: 'pg_amcheck', ok: false, detail: isMonoError(error) ? [error.message, ...(error.details ?? [])].join(': ') : String(error) }),
  );
  const client = target.client();
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
  if (amcheck !== undefined) results.push(await amcheck);
  for (const r of results) (r.ok ? log.info : log.warn)(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
  return results;
}

/**
 * `identity`: an age identity given for this run (your recovery key, on a new box whose own key is not a recipient of
 * the old backups); it is written to the run's private folder and gone with it. Default: the box's own key.
 */
export async function runDrill(spec: DrillSpec, log: DrillLog, identity?: string, now = (): number => Date.now()): Promise<DrillReport> {
  const startedAt = new Date(now());
  const phases = { fetchMs: 0, decryptMs: 0, restoreMs: 0, verifyMs: 0 };
  let lap = performance.now();
  const mark = (phase: keyof DrillPhases): void => {
    const t = performance.now();
    phases[phase] = Math.round(t - lap);
    lap = t;
  };
  const work = mkdtempSync(`${tmpdir()}/mono-drill-`);
  const mode = spec.restore === undefined ? 'drill' : 'restore';
  let target: RestoreTarget | undefined;
  // A drill's throwaway cluster starts as soon as the manifest names the major version, while the files are fetched.
  let early: Promise<RestoreTarget> | undefined;
  const startEarly = (m: BackupManifest): void => {
    if (spec.restore !== undefined || spec.target === 'scratch' || early !== undefined) return;
    early = throwawayTarget(`${work}/cluster`, m, pgMajor(m.server.versionNum));
    early.catch(() => undefined);
  };
  let manifest: BackupManifest | undefined;
  let chosen = spec.backup;
  let checks: CheckResult[] = [];
  let error: DrillReport['error'];
  try {
    const fetched = await fetchBackup(spec, work, log.info, (found) => (chosen = found), startEarly);
    manifest = fetched.manifest;
    mark('fetchMs');
    log.info(`  decrypt: ${manifest.encryption === undefined ? 'decompressing' : 'decrypting (the box\'s age key) and decompressing'} into the ${mode}'s private folder`);
    let key = boxIdentityPath(spec.root);
    if (identity !== undefined) {
      key = `${work}/identity`;
      writeFileSync(key, identity, { mode: 0o600, flag: 'wx' });
      log.info('  decrypt: with the identity given for this run (not the box\'s key)');
    }
    const files = await unpack(manifest, fetched.dir, work, key);
    mark('decryptMs');
    startEarly(manifest);
    target = spec.restore !== undefined ? liveTarget(spec, log.info) : spec.target === 'scratch' ? scratchTarget(spec, log.info) : await early!;
    log.info(`  restore: into ${target.describe}; ${target.globals ? 'globals, then ' : ''}pg_restore --jobs=${spec.jobs} --exit-on-error`);
    await target.prepare(manifest, files.globals);
    await target.restore(files.dump, spec.jobs);
    mark('restoreMs');
    log.info(`  verify: rows of every table, tables, indexes${target.amcheck === undefined ? '' : ', pg_amcheck --heapallindexed'}, smoke checks`);
    checks = await verify(target, manifest, spec, log);
    mark('verifyMs');
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      error = { code: 'CHECK_FAILED', message: `the restored copy of ${manifest.db}/${manifest.id} fails ${failed.map((c) => c.name).join(', ')}: ${failed[0]!.detail}`, hint: spec.restore === undefined ? 'the backup restores but is not what was backed up: do not rely on it; look at the check above' : 'the live database was not changed; the failed copy was dropped' };
    } else {
      await target.commit();
    }
  } catch (caught) {
    const e = isMonoError(caught) ? caught : new MonoError('REMOTE_FAILED', (caught as Error).message);
    error = { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
    for (const d of e.details ?? []) log.warn(`  ${d}`);
  } finally {
    if (target === undefined && early !== undefined) target = await early.catch(() => undefined);
    await target?.close(error === undefined).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  const backupAt = manifest?.startedAt ?? startedAt.toISOString();
  const recoveryMs = phases.fetchMs + phases.decryptMs + phases.restoreMs + phases.verifyMs;
  return {
    id: spec.id,
    mode,
    ...(spec.restore === undefined ? {} : { to: spec.restore.to }),
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
