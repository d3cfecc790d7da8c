// The upload stream of protocol.ts: per blob a JSON header line and its bytes read from disk, then an end line; optionally gzip.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { MonoError } from '../errors.js';
import type { BlobHeader, EndHeader } from './protocol.js';

export interface PackBlob {
  readonly sha256: string;
  readonly size: number;
  readonly absolutePath: string;
}

export interface PackOptions {
  readonly gzip: boolean;
  /** Uncompressed content bytes, reported as they are read (headers excluded). */
  readonly onBytes?: (n: number) => void;
  /** Called once a blob has been read whole (for a file count in progress displays). */
  readonly onBlob?: (blob: PackBlob) => void;
  /**
   * FAULT INJECTION for end-to-end tests: flips one byte in each of the first N non-empty blobs (their headers stay right,
   * so the box must reject them). Callers pass it only when MONO_FAULT_CORRUPT_BLOBS is set, through faultCorruptBlobs();
   * nothing else sets it.
   */
  readonly corrupt?: number;
}

/** Files below this size are read whole in one open/read/close; larger ones in CHUNK_BYTES pieces (constant memory). */
export const WHOLE_FILE_BYTES = 256 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** Headers and small files are packed into slabs of this size: one push per slab, not two per file. */
const SLAB_BYTES = 1024 * 1024;
const HIGH_WATER_MARK = 2 * 1024 * 1024;
const END_LINE = `${JSON.stringify({ end: true } satisfies EndHeader)}\n`;

/**
 * The environment variable that turns on the corruption fault (end-to-end tests only): its value is the number of blobs to corrupt.
 * Returns undefined when it is unset or empty, so `corrupt` cannot be set by accident.
 */
export function faultCorruptBlobs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env['MONO_FAULT_CORRUPT_BLOBS'];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new MonoError('USAGE', `MONO_FAULT_CORRUPT_BLOBS must be a number of blobs, not ${JSON.stringify(raw)}`, { hint: 'unset it: it is a fault injection for tests' });
  return Number(raw);
}

export function headerLine(sha256: string, size: number): string {
  return `${JSON.stringify({ sha256, size } satisfies BlobHeader)}\n`;
}

/**
 * The upload stream. Reads are synchronous, in slices of about a megabyte per _read(), paced by the consumer: on a 2-core VM,
 * 20,000 small files cost 0.4 s this way against 1.4–2 s through the thread pool (fs.promises / createReadStream).
 * A file whose size changed since it was hashed fails the stream with a MonoError.
 */
export function packStream(blobs: readonly PackBlob[], options: PackOptions): Readable {
  const source = new PackSource(blobs, options);
  if (!options.gzip) return source;
  const gzip = createGzip({ level: 1, chunkSize: 128 * 1024 });
  pipeline(source, gzip, (error) => {
    if (error) gzip.destroy(error);
  });
  return gzip;
}

class PackSource extends Readable {
  readonly #blobs: readonly PackBlob[];
  readonly #onBytes: ((n: number) => void) | undefined;
  readonly #onBlob: ((blob: PackBlob) => void) | undefined;
  #corruptLeft: number;
  #next = 0;
  /** The large file being read, if any. */
  #open: { readonly blob: PackBlob; readonly fd: number; remaining: number; first: boolean } | undefined;
  #ended = false;

  constructor(blobs: readonly PackBlob[], options: PackOptions) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.#blobs = blobs;
    this.#onBytes = options.onBytes;
    this.#onBlob = options.onBlob;
    this.#corruptLeft = options.corrupt ?? 0;
  }

  override _read(): void {
    try {
      this.#fill();
    } catch (error) {
      this.destroy(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#open !== undefined) {
      closeSync(this.#open.fd);
      this.#open = undefined;
    }
    callback(error);
  }

  #fill(): void {
    if (this.#ended) return;
    if (this.#open !== undefined) {
      this.#readChunk(this.#open);
      return;
    }
    const slab = Buffer.allocUnsafe(SLAB_BYTES);
    let used = 0;
    for (;;) {
      const blob = this.#blobs[this.#next];
      if (blob === undefined) {
        used += slab.write(END_LINE, used);
        this.push(slab.subarray(0, used));
        this.push(null);
        this.#ended = true;
        return;
      }
      const header = headerLine(blob.sha256, blob.size);
      const small = blob.size < WHOLE_FILE_BYTES;
      // Room for the header, and for a small file one byte more than its size (to notice that it grew).
      const need = Buffer.byteLength(header) + (small ? blob.size + 1 : 0);
      if (used + need > slab.length && used > 0) break;
      this.#next++;
      used += slab.write(header, used);
      if (!small) {
        this.#open = { blob, fd: openBlob(blob), remaining: blob.size, first: true };
        break;
      }
      this.#readWhole(blob, slab, used);
      used += blob.size;
    }
    const more = this.push(slab.subarray(0, used));
    if (more && this.#open !== undefined) this.#readChunk(this.#open);
  }

  /** A small file in one open/read/close, straight into the slab. */
  #readWhole(blob: PackBlob, slab: Buffer, offset: number): void {
    const fd = openBlob(blob);
    let got = 0;
    try {
      for (;;) {
        const n = readSync(fd, slab, offset + got, blob.size + 1 - got, null);
        got += n;
        if (n === 0 || got > blob.size) break;
      }
    } finally {
      closeSync(fd);
    }
    if (got !== blob.size) throw changedWhileUploading(blob);
    if (blob.size > 0 && this.#corruptLeft > 0) {
      this.#corruptLeft--;
      slab[offset] = (slab[offset] ?? 0) ^ 0xff;
    }
    this.#onBytes?.(blob.size);
    this.#onBlob?.(blob);
  }

  /** The next piece of a large file; at its end, checks that it did not grow and closes it. */
  #readChunk(open: { readonly blob: PackBlob; readonly fd: number; remaining: number; first: boolean }): void {
    for (;;) {
      const want = Math.min(CHUNK_BYTES, open.remaining);
      const chunk = Buffer.allocUnsafe(Math.max(want, 1));
      const n = want === 0 ? readSync(open.fd, chunk, 0, 1, null) : readSync(open.fd, chunk, 0, want, null);
      if (want === 0) {
        closeSync(open.fd);
        this.#open = undefined;
        if (n !== 0) throw changedWhileUploading(open.blob);
        this.#onBlob?.(open.blob);
        this.#fill();
        return;
      }
      if (n === 0) throw changedWhileUploading(open.blob);
      open.remaining -= n;
      if (open.first && this.#corruptLeft > 0) {
        this.#corruptLeft--;
        chunk[0] = (chunk[0] ?? 0) ^ 0xff;
      }
      open.first = false;
      this.#onBytes?.(n);
      if (!this.push(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
    }
  }
}

function openBlob(blob: PackBlob): number {
  let fd: number;
  try {
    fd = openSync(blob.absolutePath, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw changedWhileUploading(blob, error);
    throw new MonoError('USAGE', `cannot read ${blob.absolutePath}: ${String((error as { code?: unknown }).code ?? error)}`, { hint: 'fix its permissions', cause: error });
  }
  if (blob.size >= WHOLE_FILE_BYTES && fstatSync(fd).size !== blob.size) {
    closeSync(fd);
    throw changedWhileUploading(blob);
  }
  return fd;
}

function changedWhileUploading(blob: PackBlob, cause?: unknown): MonoError {
  return new MonoError('USAGE', `${blob.absolutePath} changed while it was being uploaded`, {
    hint: 'let the build finish before deploying, then run the deploy again (blobs already sent are kept)',
    ...(cause === undefined ? {} : { cause }),
  });
}
