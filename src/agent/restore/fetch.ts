// The first phase of a restore drill: get the backup's files into the drill's folder (from the offsite host, with the
// box's own key, or from the box's backups folder) and check every file against its manifest before anything reads it.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { BACKUP_ID, type BackupManifest } from '../../backup/manifest.js';
import { MonoError } from '../../errors.js';
import { sha256File } from '../../release/hash.js';
import { getOffsite, listOffsite, OFFSITE_RECORD, withOffsiteConnection, type OffsiteFile, type OffsiteTarget } from '../backup/offsite.js';
import type { DrillSpec } from '../../restore/spec.js';

export interface FetchedBackup {
  readonly manifest: BackupManifest;
  /** The folder that holds the backup's files (the drill's own copy, or the local backup itself). */
  readonly dir: string;
}

function parseManifest(text: string, where: string): BackupManifest {
  try {
    const m = JSON.parse(text) as BackupManifest;
    if (m.version === 1 && BACKUP_ID.test(m.id) && Array.isArray(m.files) && typeof m.rows === 'object') return m;
  } catch {
    // reported below
  }
  throw new MonoError('CHECK_FAILED', `the manifest of ${where} is not a mono backup manifest`, { hint: 'the backup cannot be checked, so it cannot be trusted: try another one with --backup' });
}

/** Every file the manifest lists, at its size and sha256: the first thing checked, before any program reads them. */
export async function checkFiles(dir: string, manifest: BackupManifest, where: string): Promise<void> {
  for (const f of manifest.files) {
    const path = `${dir}/${f.name}`;
    if (!existsSync(path)) throw new MonoError('CHECK_FAILED', `${where}/${f.name} is missing`, { hint: 'a restore needs every file of the backup: try another one with --backup' });
    const bytes = statSync(path).size;
    const sha = await sha256File(path);
    if (sha !== f.sha256) {
      const how = bytes < f.bytes ? `truncated (${bytes} of ${f.bytes} bytes)` : bytes > f.bytes ? `longer than written (${bytes} of ${f.bytes} bytes)` : 'damaged (same size, different bytes)';
      throw new MonoError('CHECK_FAILED', `${where}/${f.name} is ${how}: its sha256 is ${sha}, the manifest's is ${f.sha256}`, {
        hint: 'this copy cannot be restored; another copy (--from local or --from offsite) or an older backup (--backup ID) may be intact',
      });
    }
  }
}

function newestLocal(dbDir: string): string | undefined {
  if (!existsSync(dbDir)) return undefined;
  return readdirSync(dbDir).filter((n) => BACKUP_ID.test(n) && existsSync(`${dbDir}/${n}/manifest.json`)).sort().at(-1);
}

/** `found`: the backup's id once known; `onManifest`: its manifest, before its files are fetched (a drill starts its cluster then). */
export async function fetchBackup(spec: DrillSpec, work: string, info: (m: string) => void, found: (id: string) => void = () => undefined, onManifest: (m: BackupManifest) => void = () => undefined): Promise<FetchedBackup> {
  const db = spec.db.name;
  const dbDir = `${spec.dir}/${db}`;
  if (spec.from === 'local') {
    const id = spec.backup ?? newestLocal(dbDir);
    if (id !== undefined) found(id);
    if (id === undefined || !existsSync(`${dbDir}/${id}/manifest.json`)) {
      throw new MonoError('USAGE', id === undefined ? `there is no local backup of ${db} in ${spec.dir}` : `there is no local backup ${db}/${id}`, { hint: 'mono backups lists them; run mono backup to make one' });
    }
    const manifest = parseManifest(readFileSync(`${dbDir}/${id}/manifest.json`, 'utf8'), `${db}/${id}`);
    onManifest(manifest);
    info(`  fetch: local backup ${db}/${id}, checking ${manifest.files.length} files against the manifest`);
    await checkFiles(`${dbDir}/${id}`, manifest, `the local backup ${db}/${id}`);
    return { manifest, dir: `${dbDir}/${id}` };
  }
  const o: OffsiteTarget = { ...spec.offsite!, key: `${spec.root}/.ssh/offsite_ed25519`, knownHosts: `${spec.root}/.ssh/known_hosts_offsite` };
  return withOffsiteConnection(o, (shared) => fetchOffsite(spec, shared, work, info, found, onManifest));
}

async function fetchOffsite(spec: DrillSpec, o: OffsiteTarget, work: string, info: (m: string) => void, found: (id: string) => void, onManifest: (m: BackupManifest) => void): Promise<FetchedBackup> {
  const db = spec.db.name;
  const dbDir = `${spec.dir}/${db}`;
  const stored = (await listOffsite(o)).filter((f) => f.db === db);
  const ids = [...new Set(stored.filter((f) => f.name === 'manifest.json').map((f) => f.id))].sort();
  const id = spec.backup ?? ids.at(-1);
  if (id !== undefined) found(id);
  if (id === undefined) throw new MonoError('USAGE', `the offsite host holds no backup of ${db}`, { hint: 'run mono backup (with backups.offsite set) first; mono backups shows what is where' });
  if (!ids.includes(id)) throw new MonoError('CHECK_FAILED', `the offsite host has no manifest for ${db}/${id}`, { hint: 'mono backups shows which backups are offsite' });
  const dir = `${work}/fetched`;
  mkdirSync(dir, { mode: 0o700 });
  info(`  fetch: ${db}/${id} from ${o.user}@${o.host}:${o.port} with the box's key`);
  await getOffsite(o, db, id, 'manifest.json', `${dir}/manifest.json`);
  // The box recorded the manifest's hash when it copied it: a manifest changed there since is not trusted.
  const record = `${dbDir}/${id}/${OFFSITE_RECORD}`;
  if (existsSync(record)) {
    const want = (JSON.parse(readFileSync(record, 'utf8')) as { files: OffsiteFile[] }).files.find((f) => f.name === 'manifest.json')?.sha256;
    const got = await sha256File(`${dir}/manifest.json`);
    if (want !== undefined && want !== got) throw new MonoError('CHECK_FAILED', `the offsite manifest of ${db}/${id} is not the one the box copied (sha256 ${got}, recorded ${want})`, { hint: 'someone changed it on the offsite host; the local backup (--from local) is intact' });
  }
  const manifest = parseManifest(readFileSync(`${dir}/manifest.json`, 'utf8'), `${db}/${id}`);
  onManifest(manifest);
  for (const f of manifest.files) await getOffsite(o, db, id, f.name, `${dir}/${f.name}`);
  await checkFiles(dir, manifest, `the offsite copy of ${db}/${id}`);
  return { manifest, dir };
}
