// Two programs joined by a pipe (pg_dump | zstd, zstd -dc | pg_restore), with the second one's output written to a file
// (0600, hashed as it goes, fsynced), thrown away, or kept. Both exit statuses are checked: a pipeline fails when either fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MonoError } from '../../errors.js';
import { errnoCode } from '../fs-errors.js';

export type Sink = { readonly file: string } | 'discard' | 'capture';

export interface PipeResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly output: string;
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

function ended(child: ChildProcess): Promise<Ended> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: 127, signal: null, stderr: `${stderr}${error.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function failure(argv: readonly string[], e: Ended): MonoError {
  const how = e.signal !== null ? `was killed (${e.signal})` : e.code === 127 ? 'could not be started' : `exited with status ${String(e.code)}`;
  const name = argv[0] ?? 'command';
  return new MonoError('REMOTE_FAILED', `${name} ${how}`, {
    hint: e.code === 127 ? `install ${name} on the box (mono setup does)` : 'its last messages are above; nothing was kept from this run',
    details: e.stderr.split('\n').filter((l) => l.trim() !== '').slice(-10),
  });
}

export interface PipeOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The second program may stop reading before the end (pg_restore --list reads only the table of contents): the first one
   * then fails to write (EPIPE; Node's children inherit its ignored SIGPIPE), which is no failure when the second succeeded.
   */
  readonly secondMayStopEarly?: boolean;
}

export async function pipe(first: readonly string[], second: readonly string[], sink: Sink, options: PipeOptions = {}): Promise<PipeResult> {
  const env = options.env ?? process.env;
  const a = spawn(first[0]!, first.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  // A pipe between the two programs themselves, as a shell makes it: this process holds no end of it, so when the second
  // one exits the first one's writes fail instead of blocking forever.
  const b = spawn(second[0]!, second.slice(1), { stdio: [a.stdout, 'pipe', 'pipe'], env });
  a.stdout.destroy();
  const aEnded = ended(a);
  const bEnded = ended(b);
  const hash = createHash('sha256');
  let bytes = 0;
  const chunks: Buffer[] = [];
  const count = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (sink !== 'discard') hash.update(chunk);
    if (sink === 'capture') chunks.push(chunk);
  };
  let fd: number | undefined;
  try {
    if (typeof sink === 'object') {
      fd = openSync(sink.file, 'wx', 0o600);
      const meter = new Transform({ transform: (chunk: Buffer, _enc, done) => (count(chunk), done(null, chunk)) });
      await pipeline(b.stdout, meter, createWriteStream('', { fd, autoClose: false }));
      fsyncSync(fd);
    } else {
      await pipeline(b.stdout, new Writable({ write: (chunk: Buffer, _enc, done) => (count(chunk), done()) }));
    }
  } catch (error) {
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') {
      throw new MonoError('DISK_FULL', `the disk filled up while writing ${typeof sink === 'object' ? sink.file : 'the output'}`, { hint: 'free space in the backups folder (or move backups.dir), then run the backup again; earlier backups are untouched' });
    }
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const [ea, eb] = await Promise.all([aEnded, bEnded]);
  if (ea.code !== 0 && !(options.secondMayStopEarly === true && eb.code === 0)) throw failure(first, ea);
  if (eb.code !== 0) throw failure(second, eb);
  return { bytes, sha256: hash.digest('hex'), output: Buffer.concat(chunks).toString('utf8') };
}

/** One program's stdout (for --version lines). */
export async function capture(argv: readonly string[]): Promise<string> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const e = await ended(child);
  if (e.code !== 0) throw failure(argv, e);
  return out.trim();
}
