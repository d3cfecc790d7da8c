// `mono agent receive`: stores the blobs of an upload stream (optionally gzip) in the content-addressed store.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { blobPath, type ReceiveResult } from '../release/protocol.js';
import { errnoCode, errorMessage } from './fs-errors.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { UploadParser } from './receive-stream.js';
import { FanOut, removeOldPartials, syncFilesystem } from './store.js';

/** Exit status of a receive that hit a write error (EX_TEMPFAIL): the reply still says what was stored. */
export const WRITE_ERROR_STATUS = 75;

export interface ReceiveOptions {
  readonly gzip?: boolean;
  /** Clock for the cleanup of old partial files (tests). */
  readonly now?: number;
  /** Diagnostics for the operator (stderr). */
  readonly warn?: (message: string) => void;
}

export async function receive(store: string, input: Readable, options: ReceiveOptions = {}): Promise<ReceiveResult> {
  const warn = options.warn ?? (() => undefined);
  if (statSync(store, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new MonoError('PREREQ_MISSING', `the store ${store} does not exist`, { hint: 'run `mono setup` first' });
  }
  // Uploads of earlier mono versions wrote their partial files here.
  removeOldPartials(`${store}/.incoming`, options.now ?? Date.now());
  const prefix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  let n = 0;
  const parser = new UploadParser({ store, fanOut: new FanOut(store), partialPath: (sha256) => `${blobPath(store, sha256, false)}.${prefix}-${++n}.partial` });
  const source = options.gzip === true ? gunzipped(input) : input;
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let thrown = true;
  try {
    while (!parser.ended) {
      const next = await nextChunk(chunks, warn);
      if (next === undefined) break;
      parser.push(next);
    }
    thrown = false;
  } finally {
    const cut = parser.cutShort;
    const complete = parser.finishInput() || thrown;
    if (!complete && cut !== undefined) warn(`the upload stream ended early inside blob ${cut} (dropped); ${parser.stored} whole blob(s) kept`);
    else if (!complete) warn(`the upload stream ended without its end line; ${parser.stored} whole blob(s) kept`);
    await chunks.return?.();
    const problem = await syncFilesystem(store);
    if (problem !== undefined) warn(problem);
  }
  const error = parser.writeError;
  return {
    stored: parser.stored,
    bytes: parser.bytes,
    rejected: parser.rejected,
    ...(error === undefined ? {} : { error: { code: error.code, message: error.message, path: error.path } }),
  };
}

/** The next chunk, or undefined at EOF or when the input broke (a dropped connection is a truncated stream). */
async function nextChunk(chunks: AsyncIterator<Buffer>, warn: (message: string) => void): Promise<Buffer | undefined> {
  try {
    const next = await chunks.next();
    return next.done === true ? undefined : next.value;
  } catch (error) {
    const code = errnoCode(error);
    if (code !== undefined && code.startsWith('Z_') && code !== 'Z_BUF_ERROR') {
      throw new MonoError('USAGE', `the upload stream is not valid gzip: ${errorMessage(error)}`, { hint: 'send it with --gzip only when it is compressed' });
    }
    if (code !== 'Z_BUF_ERROR') warn(`reading the upload stream failed: ${errorMessage(error)}`);
    return undefined;
  }
}

function gunzipped(input: Readable): Readable {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (error) => gunzip.destroy(error));
  return input.pipe(gunzip);
}

export const handler = agentHandler('receive', async (ctx: Context, options: { root?: string; gzip?: boolean }) => {
  const { store } = agentPaths(requireRoot(options.root));
  const result = await receive(store, process.stdin, { gzip: options.gzip === true, warn: (m) => ctx.log.warn(m) });
  if (result.rejected.length > 0) ctx.log.warn(`${result.rejected.length} blob(s) did not match their sha256 and were dropped`);
  if (result.error !== undefined) ctx.log.error(`storing blobs failed (${result.error.code}) at ${result.error.path}: ${result.error.message}`);
  ctx.log.data(JSON.stringify(result));
  return result.error === undefined ? 0 : WRITE_ERROR_STATUS;
});
