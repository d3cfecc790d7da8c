// Programs joined by pipes (pg_dump | zstd [| age], [age -d |] zstd -dc | pg_restore), with the last one's output written to
// a file (0600, hashed as it goes, fsynced), thrown away, or kept. Every exit status is checked: a chain fails when any fails.
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

/** It failed only because what it wrote to had gone. */
function brokenPipe(e: Ended): boolean {
  // Node makes the pipes between children socket pairs: a write to a closed one may also say ECONNRESET.
  return e.signal === 'SIGPIPE' || /broken pipe|EPIPE|connection reset by peer|ECONNRESET/i.test(e.stderr);
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
   * The last program may stop reading before the end (pg_restore --list reads only the table of contents): the ones
   * before it then fail to write (EPIPE; Node's children inherit its ignored SIGPIPE), which is no failure when the last
   * one succeeded.
   */
  readonly lastMayStopEarly?: boolean;
}

/**
 * Programs joined by pipes as a shell joins them (pg_dump | zstd | age), the last one's output going to `sink`.
 * This process holds no end of the pipes between them, so when one exits the writes of the one before it fail
 * instead of blocking forever. Every exit status is checked: the chain fails when any program fails.
 */
export async function pipe(chain: readonly (readonly string[])[], sink: Sink, options: PipeOptions = {}): Promise<PipeResult> {
  if (chain.length === 0) throw new Error('pipe: no program');
  const env = options.env ?? process.env;
  const children: ChildProcess[] = [];
  for (const argv of chain) {
    const previous = children.at(-1);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [previous?.stdout ?? 'ignore', 'pipe', 'pipe'], env });
    previous?.stdout?.destroy();
    children.push(child);
  }
  const endings = children.map(ended);
  const last = children.at(-1)!;
  const hash = createHash('sha256');
  let bytes = 0;
  const chunks: Buffer[] = [];
  const count = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (sink !== 'discard') hash.update(chunk);
    if (sink === 'capture') chunks.push(chunk);
  };
  try {
    if (typeof sink === 'object') {
      // The stream owns the file descriptor and closes it however the pipeline ends; fsync then goes through a second
      // descriptor of the same file (fsync flushes the file, whichever descriptor asks).
      const out = createWriteStream(sink.file, { flags: 'wx', mode: 0o600 });
      const meter = new Transform({ transform: (chunk: Buffer, _enc, done) => (count(chunk), done(null, chunk)) });
      await pipeline(last.stdout!, meter, out);
      const fd = openSync(sink.file, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } else {
      await pipeline(last.stdout!, new Writable({ write: (chunk: Buffer, _enc, done) => (count(chunk), done()) }));
    }
  } catch (error) {
    for (const child of children) child.kill('SIGTERM');
    if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') {
      throw new MonoError('DISK_FULL', `the disk filled up while writing ${typeof sink === 'object' ? sink.file : 'the output'}`, { hint: 'free space in the backups folder (or move backups.dir), then run the backup again; earlier backups are untouched' });
    }
    throw error;
  }
  const results = await Promise.all(endings);
  const lastOk = results.at(-1)!.code === 0;
  if (lastOk && options.lastMayStopEarly === true) return done(hash, bytes, chunks);
  // The cause is the first program that failed by itself: a reader whose writer failed sees its input end and fails
  // after it, and a writer whose reader failed only fails to write ("Broken pipe"), which names the wrong program.
  const failed = results.map((e, i) => ({ e, i })).filter(({ e }) => e.code !== 0);
  const cause = failed.find(({ e, i }) => !(brokenPipe(e) && failed.some((f) => f.i > i))) ?? failed[0];
  if (cause !== undefined) throw failure(chain[cause.i]!, cause.e);
  return done(hash, bytes, chunks);
}

function done(hash: ReturnType<typeof createHash>, bytes: number, chunks: readonly Buffer[]): PipeResult {
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
