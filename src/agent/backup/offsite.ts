// The box's side of offsite copies: each file of a backup goes to the offsite host's receiver (which writes it under a
// temporary name, checks its sha256 and links it in without ever overwriting), then every file is hashed there again.
// A backup whose copy is verified gets offsite.json; one without it is "offsite pending" and is copied by the next run.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MonoError } from '../../errors.js';
import { BACKUP_ID } from '../../backup/manifest.js';
import type { SshTarget } from '../../ssh/target.js';

export interface OffsiteTarget extends SshTarget {
  /** The box's own key, and the offsite host's pinned key (mono setup makes both). */
  readonly key: string;
  readonly knownHosts: string;
  /** The control socket of a connection opened by withOffsiteConnection: every request of a round goes through it. */
  readonly control?: string;
}

export interface OffsiteFile {
  readonly name: string;
  readonly sha256: string;
}

function sshArgv(o: OffsiteTarget, words: readonly string[], connection: readonly string[] = []): string[] {
  return [
    'ssh',
    ...connection,
    ...(o.control === undefined ? [] : ['-o', 'ControlMaster=no', '-o', `ControlPath=${o.control}`]),
    '-i', o.key,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${o.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    '-p', String(o.port),
    `${o.user}@${o.host}`,
    '--',
    ...words,
  ];
}

/** Runs a receiver request; `input` is a file sent as its stdin, `output` a new file (0600) that gets its stdout. */
function run(o: OffsiteTarget, words: readonly string[], input?: string, output?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const fd = input === undefined ? undefined : openSync(input, 'r');
  const out = output === undefined ? undefined : openSync(output, 'wx', 0o600);
  const argv = sshArgv(o, words);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: [fd ?? 'ignore', out ?? 'pipe', 'pipe'] });
  if (fd !== undefined) closeSync(fd);
  if (out !== undefined) closeSync(out);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve) => {
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr: stderr.trim() }));
  });
}

const unreachable = (o: OffsiteTarget, stderr: string): MonoError =>
  new MonoError('SSH_UNREACHABLE', `the offsite host ${o.user}@${o.host}:${o.port} is not reachable: ${stderr.split('\n').at(-1) ?? 'no answer'}`, {
    hint: 'the backup is kept on the box and the next run copies it; check the offsite host and the network',
  });

/** The sha256 of a stored file on the offsite host (undefined when it is missing there). */
async function remoteSha256(o: OffsiteTarget, db: string, id: string, name: string): Promise<string | undefined> {
  const r = await run(o, ['sha256', db, id, name]);
  if (r.code === 66) return undefined;
  if (r.code === 255) throw unreachable(o, r.stderr);
  if (r.code !== 0) throw new MonoError('REMOTE_FAILED', `the offsite host refused to hash ${db}/${id}/${name}: ${r.stderr}`, { hint: 'run mono setup (it installs the offsite receiver)' });
  return r.stdout.trim();
}

/**
 * One SSH connection to the offsite host for a whole round of requests (OpenSSH connection sharing): each request
 * costs a new session on it instead of a new login (a login costs 0.2-0.4 s here, a round makes a dozen requests).
 * The master is this process's own child, closed when the round ends.
 */
export async function withOffsiteConnection<T>(o: OffsiteTarget, fn: (shared: OffsiteTarget) => Promise<T>): Promise<T> {
  const control = `${dirname(o.key)}/.offsite-${process.pid}-${Date.now().toString(36)}`;
  const plain: OffsiteTarget = { key: o.key, knownHosts: o.knownHosts, user: o.user, host: o.host, port: o.port };
  const argv = sshArgv(plain, [], ['-M', '-N', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=no', '-o', 'ServerAliveInterval=15']);
  const master = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number>((resolve) => master.on('close', (code) => resolve(code ?? 255)));
  let ended: number | undefined;
  void exited.then((code) => (ended = code));
  const deadline = Date.now() + 30_000;
  // Ready when the control socket answers; a master that exits instead could not connect.
  while (!existsSync(control)) {
    if (ended !== undefined || Date.now() > deadline) {
      master.kill('SIGTERM');
      await exited;
      throw unreachable(o, stderr.trim() || 'no answer');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    return await fn({ ...o, control });
  } finally {
    master.kill('SIGTERM');
    await exited;
    rmSync(control, { force: true });
  }
}

/** "<db>/<id>/<name> <bytes>" for every file the offsite host holds for this app. */
export async function listOffsite(o: OffsiteTarget): Promise<{ db: string; id: string; name: string; bytes: number }[]> {
  const r = await run(o, ['list']);
  if (r.code === 255) throw unreachable(o, r.stderr);
  if (r.code !== 0) throw new MonoError('REMOTE_FAILED', `the offsite host refused to list the backups: ${r.stderr}`, { hint: 'run mono setup (it installs the offsite receiver)' });
  return r.stdout.split('\n').flatMap((line) => {
    const m = /^([a-z0-9_]+)\/(\d{8}T\d{6}Z)\/(\S+) (\d+)$/.exec(line);
    return m === null ? [] : [{ db: m[1]!, id: m[2]!, name: m[3]!, bytes: Number(m[4]) }];
  });
}

/** Fetches one stored file from the offsite host into a new file; a missing one is an error naming it. */
export async function getOffsite(o: OffsiteTarget, db: string, id: string, name: string, dest: string): Promise<void> {
  const r = await run(o, ['get', db, id, name], undefined, dest);
  if (r.code === 255) throw unreachable(o, r.stderr);
  if (r.code === 66) throw new MonoError('CHECK_FAILED', `the offsite copy of ${db}/${id}/${name} is missing`, { hint: 'look at the offsite host: who removed it? A restore needs every file of the backup; try another backup with --backup' });
  if (r.code !== 0) throw new MonoError('REMOTE_FAILED', `fetching ${db}/${id}/${name} from the offsite host failed: ${r.stderr || `status ${r.code}`}`, { hint: 'run mono setup (it installs the offsite receiver), then try again' });
}

/** Copies one backup's files (manifest last) and checks each on the offsite host. */
export async function copyOffsite(o: OffsiteTarget, backupDir: string, db: string, id: string, files: readonly OffsiteFile[]): Promise<void> {
  for (const f of files) {
    const r = await run(o, ['put', db, id, f.name, f.sha256], `${backupDir}/${f.name}`);
    if (r.code === 255) throw unreachable(o, r.stderr);
    if (r.code !== 0 && r.code !== 17) {
      throw new MonoError('REMOTE_FAILED', `the offsite copy of ${db}/${id}/${f.name} failed: ${r.stderr || `status ${r.code}`}`, { hint: 'the backup is kept on the box and the next run copies it again' });
    }
  }
  await verifyOffsite(o, db, id, files);
}

/** Hashes every file of a backup on the offsite host: a missing or changed file is an error naming it. */
export async function verifyOffsite(o: OffsiteTarget, db: string, id: string, files: readonly OffsiteFile[]): Promise<void> {
  for (const f of files) {
    const got = await remoteSha256(o, db, id, f.name);
    if (got === undefined) throw new MonoError('CHECK_FAILED', `the offsite copy of ${db}/${id}/${f.name} is missing`, { hint: 'the local backup is intact; look at the offsite host: who removed it?' });
    if (got !== f.sha256) {
      throw new MonoError('CHECK_FAILED', `the offsite copy of ${db}/${id}/${f.name} is damaged: its sha256 is ${got}, the backup's is ${f.sha256}`, {
        hint: 'the local backup is intact; investigate the offsite host (disk, or someone changed it); an offsite file is never overwritten, so move the damaged one aside there to let the next run copy it again',
      });
    }
  }
}

export const OFFSITE_RECORD = 'offsite.json';

/** How many of the newest earlier copies each run hashes again on the offsite host (offsite pruning keeps them). */
export const RECHECKED_BY_BOX = 3;

/** Local backups of a database that have no verified offsite copy yet, oldest first. */
export function pendingOffsite(dbDir: string): string[] {
  return readdirSync(dbDir)
    .filter((n) => BACKUP_ID.test(n) && existsSync(`${dbDir}/${n}/manifest.json`) && !existsSync(`${dbDir}/${n}/${OFFSITE_RECORD}`))
    .sort();
}

/** Local backups that were copied, newest first. */
export function copiedOffsite(dbDir: string): string[] {
  return readdirSync(dbDir)
    .filter((n) => BACKUP_ID.test(n) && existsSync(`${dbDir}/${n}/${OFFSITE_RECORD}`))
    .sort()
    .reverse();
}

export function recordOffsite(backupDir: string, o: OffsiteTarget, files: readonly OffsiteFile[]): void {
  writeFileSync(`${backupDir}/${OFFSITE_RECORD}`, JSON.stringify({ host: `${o.user}@${o.host}:${o.port}`, verifiedAt: new Date().toISOString(), files }) + '\n', { mode: 0o600 });
}

export interface OffsiteOutcome {
  readonly status: 'copied' | 'pending' | 'damaged';
  /** Backups copied and verified in this run, oldest first. */
  readonly copied: readonly string[];
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

/**
 * After a backup: copies every backup of the database that has no verified offsite copy yet (this one, and any an
 * earlier run could not copy), then re-hashes the newest copies made before, so a copy changed there is noticed.
 */
export async function offsiteRound(o: OffsiteTarget, dbDir: string, db: string, filesOf: (id: string) => Promise<OffsiteFile[]>, info: (m: string) => void): Promise<OffsiteOutcome> {
  const copied: string[] = [];
  try {
    const earlier = copiedOffsite(dbDir).slice(0, RECHECKED_BY_BOX);
    return await withOffsiteConnection(o, async (shared) => {
      for (const id of pendingOffsite(dbDir)) {
        info(`  copying ${db}/${id} to ${o.user}@${o.host}:${o.port} (checked there)`);
        const files = await filesOf(id);
        await copyOffsite(shared, `${dbDir}/${id}`, db, id, files);
        recordOffsite(`${dbDir}/${id}`, o, files);
        copied.push(id);
      }
      for (const id of earlier) {
        const record = JSON.parse(readFileSync(`${dbDir}/${id}/${OFFSITE_RECORD}`, 'utf8')) as { files: OffsiteFile[] };
        await verifyOffsite(shared, db, id, record.files);
      }
      return { status: 'copied' as const, copied };
    });
  } catch (error) {
    if (!(error instanceof MonoError)) throw error;
    return { status: error.code === 'CHECK_FAILED' ? 'damaged' : 'pending', copied, error: { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) } };
  }
}
