// Sends the blobs the box lacks in one stream to `mono agent receive`, which verifies each before storing it.
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MonoError } from '../../errors.js';
import { packStream } from '../../release/pack.js';
import type { ReceiveResult } from '../../release/protocol.js';
import type { RemoteProcess, SshTransport } from '../../transport/ssh.js';
import { agentArgv, parseReply } from './agent-call.js';

export interface UploadBlob {
  readonly sha256: string;
  readonly size: number;
  readonly absolutePath: string;
}

export interface UploadRound {
  /** Bytes that crossed the SSH channel (after compression). */
  readonly wireBytes: number;
  readonly result: ReceiveResult;
}

function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts `mono agent receive` on the box (it waits for the stream on stdin). */
export function startReceiver(t: SshTransport, root: string, gzip: boolean): Promise<RemoteProcess> {
  return t.spawn(agentArgv(['receive'], root, gzip ? ['--gzip'] : []));
}

/** Ends a receiver that has nothing to receive: an empty stream (just its end line), then waits for it to exit. */
export async function closeReceiver(proc: RemoteProcess, gzip: boolean): Promise<void> {
  proc.stdout.resume();
  proc.stderr.resume();
  await Promise.all([pipeline(packStream([], { gzip }), proc.stdin).catch(() => undefined), proc.exit]);
}

export async function uploadRound(
  t: SshTransport,
  root: string,
  blobs: readonly UploadBlob[],
  options: { gzip: boolean; onContentBytes?: (n: number) => void; corrupt?: number; receiver?: Promise<RemoteProcess> },
): Promise<UploadRound> {
  const proc = await (options.receiver ?? startReceiver(t, root, options.gzip));
  let wireBytes = 0;
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  const pack = packStream(blobs, { gzip: options.gzip, ...(options.onContentBytes === undefined ? {} : { onBytes: options.onContentBytes }), ...(options.corrupt === undefined ? {} : { corrupt: options.corrupt }) });
  const sent = pipeline(pack, counter((n) => (wireBytes += n)), proc.stdin).catch((error: unknown) => error);
  const [sendError, code, out, err] = await Promise.all([sent, proc.exit, stdout, stderr]);
  if (sendError instanceof MonoError) throw sendError;
  if (code === null) {
    throw new MonoError('SSH_DISCONNECTED', `the SSH connection to ${t.where} dropped during the upload`, {
      hint: 'run the same deploy again: blobs that arrived whole are kept, only the rest is sent',
      cause: sendError,
    });
  }
  if (code !== 0 && out.trim() === '') {
    throw new MonoError('REMOTE_FAILED', `the agent on the box failed while receiving (exit ${code})`, { hint: 'run `mono setup` to update the agent, then deploy again', details: err.trim().split('\n').slice(-5) });
  }
  const result = parseReply<ReceiveResult>(out, 'receive');
  if (result.error !== undefined) {
    const full = result.error.code === 'ENOSPC' || result.error.code === 'EDQUOT';
    throw new MonoError(full ? 'DISK_FULL' : 'REMOTE_FAILED', full ? `the box ran out of disk space in ${root} while receiving the release` : `the box could not store the upload: ${result.error.message}`, {
      hint: full ? 'free space (old releases: mono releases prune) or grow the disk, then deploy again; nothing was switched' : 'check the disk on the box, then deploy again; nothing was switched',
      details: [`${result.error.code} at ${result.error.path}`, ...err.trim().split('\n').filter(Boolean).slice(-3)],
    });
  }
  if (code !== 0) {
    throw new MonoError('REMOTE_FAILED', `the agent on the box failed while receiving (exit ${code})`, { hint: 'run `mono setup` to update the agent, then deploy again', details: err.trim().split('\n').slice(-5) });
  }
  return { wireBytes, result };
}
