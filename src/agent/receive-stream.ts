// The upload stream's framing as a state machine over input chunks: header line, exactly <size> bytes, …, {"end":true}.
import { MonoError } from '../errors.js';
import { isRecord } from './stdin.js';
import { type BlobTarget, IncomingBlob, StoreWriteError } from './receive-blob.js';
import { SHA256 } from './validate.js';

/** A header line longer than this (without its "\n") is a broken stream, not a header. */
export const MAX_HEADER_BYTES = 1024;

type Header = { readonly end: true } | { readonly sha256: string; readonly size: number };

export class UploadParser {
  stored = 0;
  bytes = 0;
  readonly rejected: string[] = [];
  /** Set after a write error: from then on bodies are skipped (drained) until the end line or EOF. */
  writeError: StoreWriteError | undefined;
  readonly #target: BlobTarget;
  #state: 'header' | 'body' | 'end' = 'header';
  #headerParts: Buffer[] = [];
  #headerBytes = 0;
  #headers = 0;
  #blob: IncomingBlob | undefined;
  #current: { sha256: string; size: number } | undefined;
  #remaining = 0;

  constructor(target: BlobTarget) {
    this.#target = target;
  }

  get ended(): boolean {
    return this.#state === 'end';
  }

  /** Consumes one chunk of the (decompressed) stream. Throws a MonoError for a malformed header. */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.#state !== 'end') {
      if (this.#state === 'header') offset = this.#readHeader(chunk, offset);
      else offset = this.#readBody(chunk, offset);
    }
  }

  /** The input ended: a blob cut short is dropped. Returns whether the stream was complete (end line seen). */
  finishInput(): boolean {
    this.#blob?.discard();
    this.#blob = undefined;
    return this.#state === 'end';
  }

  /** The blob being received when the stream ended early, if any. */
  get cutShort(): string | undefined {
    return this.#state === 'body' ? this.#current?.sha256 : undefined;
  }

  #readHeader(chunk: Buffer, offset: number): number {
    const nl = chunk.indexOf(10, offset);
    const end = nl === -1 ? chunk.length : nl;
    if (this.#headerBytes + (end - offset) > MAX_HEADER_BYTES) throw this.#badHeader(`the line is longer than ${MAX_HEADER_BYTES} bytes`);
    if (nl === -1) {
      this.#headerParts.push(chunk.subarray(offset));
      this.#headerBytes += chunk.length - offset;
      return chunk.length;
    }
    const line = this.#headerParts.length === 0 ? chunk.subarray(offset, nl) : Buffer.concat([...this.#headerParts, chunk.subarray(offset, nl)]);
    this.#headerParts = [];
    this.#headerBytes = 0;
    this.#headers++;
    const header = this.#parseHeader(line);
    if ('end' in header) {
      this.#state = 'end';
    } else {
      this.#current = header;
      this.#remaining = header.size;
      this.#blob = this.writeError === undefined ? new IncomingBlob(this.#target, header.sha256, header.size) : undefined;
      this.#state = 'body';
      if (header.size === 0) this.#complete();
    }
    return nl + 1;
  }

  #readBody(chunk: Buffer, offset: number): number {
    const n = Math.min(this.#remaining, chunk.length - offset);
    if (this.#blob !== undefined) {
      try {
        this.#blob.write(chunk.subarray(offset, offset + n));
      } catch (error) {
        this.#fail(error);
      }
    }
    this.#remaining -= n;
    if (this.#remaining === 0) this.#complete();
    return offset + n;
  }

  #complete(): void {
    const blob = this.#blob;
    this.#blob = undefined;
    this.#state = 'header';
    if (blob === undefined) return;
    try {
      if (blob.finish()) {
        this.stored++;
        this.bytes += blob.size;
      } else {
        this.rejected.push(blob.sha256);
      }
    } catch (error) {
      blob.discard();
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (!(error instanceof StoreWriteError)) throw error;
    this.#blob?.discard();
    this.#blob = undefined;
    this.writeError = error;
  }

  #parseHeader(line: Buffer): Header {
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8')) as unknown;
    } catch {
      throw this.#badHeader('it is not JSON', line);
    }
    if (!isRecord(value)) throw this.#badHeader('it is not a JSON object', line);
    if (value['end'] === true) return { end: true };
    const { sha256, size } = value;
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw this.#badHeader('"sha256" must be 64 lower-case hex digits', line);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw this.#badHeader('"size" must be a non-negative integer', line);
    return { sha256, size };
  }

  #badHeader(problem: string, line?: Buffer): MonoError {
    const shown = line === undefined ? '' : ` (${JSON.stringify(line.subarray(0, 80).toString('utf8'))}${line.length > 80 ? '…' : ''})`;
    return new MonoError('USAGE', `the upload stream is broken: header ${this.#headers + (line === undefined ? 1 : 0)} is invalid: ${problem}${shown}`, {
      hint: `${this.stored} blob(s) that arrived whole were kept; this is a bug in the sending mono, or a different mono version on each side`,
    });
  }
}
