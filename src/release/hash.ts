// sha256 of release files: small files read whole (synchronously, one open/read/close), large ones streamed, bounded concurrency, cached.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MonoError } from '../errors.js';
import type { HashCache } from './hash-cache.js';
import type { ScannedFile } from './scan.js';

/**
 * Files below this size are read with one synchronous open/read/close into a reused buffer. Measured on a 2-core VM (Node 20,
 * 20,000 files of ~5 KB, page cache warm): 0.47 s synchronously against 1.4 s for promise-based open/read/close and 2.0 s for
 * fs.promises.readFile at concurrency 8; each thread-pool round trip costs ~20 µs there, more than reading 5 KB.
 */
export const SMALL_FILE_BYTES = 256 * 1024;
/** Synchronous work between two turns of the event loop (so Ctrl-C, timers and the large-file streams keep going). */
const SLICE_BYTES = 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

export interface Hashed {
  readonly sha256: string;
  /** Bytes actually read (compare with the size the scan saw). */
  readonly bytes: number;
}

/** The lower-case hex sha256 of a file, streamed (constant memory whatever its size). */
export async function sha256File(path: string): Promise<string> {
  return (await hashStream(path)).sha256;
}

/** Streams a file through sha256 and counts its bytes. */
export async function hashStream(path: string): Promise<Hashed> {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Reads a file with one open/read/close into `buffer` (more reads only if it grew beyond it). */
export function hashSync(path: string, buffer: Buffer): Hashed {
  const hash = createHash('sha256');
  let bytes = 0;
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      bytes += n;
      hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      if (n < buffer.length) break;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

export type HashProgress = (bytes: number, files: number) => void;

/**
 * Hashes the files of a scan (path → sha256), taking unchanged files from the cache and recording new hashes in it.
 * `concurrency` bounds the large files streamed at once; small files are read synchronously in between, in short slices.
 * Fails with a MonoError when a file disappears, cannot be read, or no longer has the size the scan saw.
 */
export async function hashFiles(files: readonly ScannedFile[], cache: HashCache | undefined, concurrency = 8, onProgress?: HashProgress): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const small: ScannedFile[] = [];
  const large: ScannedFile[] = [];
  for (const file of files) {
    const cached = cache?.get(file);
    if (cached !== undefined) {
      hashes.set(file.path, cached);
      onProgress?.(file.size, 1);
    } else (file.size < SMALL_FILE_BYTES ? small : large).push(file);
  }

  const record = (file: ScannedFile, result: Hashed): void => {
    if (result.bytes !== file.size) throw changedWhileReading(file, result.bytes);
    hashes.set(file.path, result.sha256);
    cache?.set(file, result.sha256);
    onProgress?.(file.size, 1);
  };

  let nextLarge = 0;
  const largeWorker = async (): Promise<void> => {
    for (let file = large[nextLarge++]; file !== undefined; file = large[nextLarge++]) {
      record(file, await guard(file, () => hashStream(file.absolutePath)));
    }
  };
  const smallWorker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(SMALL_FILE_BYTES);
    let slice = 0;
    for (const file of small) {
      record(file, await guard(file, () => hashSync(file.absolutePath, buffer)));
      slice += file.size + 4096;
      if (slice >= SLICE_BYTES) {
        slice = 0;
        await yieldToLoop();
      }
    }
  };
  await Promise.all([smallWorker(), ...Array.from({ length: Math.max(1, Math.min(concurrency, large.length)) }, largeWorker)]);
  return hashes;
}

async function guard(file: ScannedFile, read: () => Hashed | Promise<Hashed>): Promise<Hashed> {
  try {
    return await read();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw changedWhileReading(file, undefined, error);
    throw new MonoError('USAGE', `cannot read ${file.path} in the build folder: ${typeof code === 'string' ? code : String(error)}`, {
      hint: 'fix its permissions, or add it to .monoignore',
      cause: error,
    });
  }
}

export function changedWhileReading(file: { readonly path: string; readonly size: number }, bytes: number | undefined, cause?: unknown): MonoError {
  const what = bytes === undefined ? 'it disappeared' : `${file.size} bytes when scanned, ${bytes} now`;
  return new MonoError('USAGE', `${file.path} changed while mono was reading the build folder (${what})`, {
    hint: 'let the build finish before deploying, then run the deploy again',
    ...(cause === undefined ? {} : { cause }),
  });
}
