// The upload stream: framing parsed back (plain and gzip), large files in pieces, files that change, the corruption fault.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MonoError } from '../../src/errors.js';
import { faultCorruptBlobs, packStream, type PackBlob, type PackOptions } from '../../src/release/pack.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function blobsOf(contents: readonly Buffer[]): { blobs: PackBlob[]; contents: readonly Buffer[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mono-pack-'));
  temps.push(dir);
  const blobs = contents.map((content, i) => {
    const absolutePath = join(dir, `f${i}`);
    writeFileSync(absolutePath, content);
    return { sha256: sha(content), size: content.length, absolutePath };
  });
  return { blobs, contents };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Frame {
  readonly header: { sha256: string; size: number };
  readonly body: Buffer;
}

/** Parses the protocol.ts framing back, strictly: headers, exact sizes, one end line, nothing after it. */
function parse(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, at);
    assert.ok(nl >= 0, 'a header line ends with a newline');
    const header = JSON.parse(data.subarray(at, nl).toString('utf8')) as { sha256?: string; size?: number; end?: boolean };
    at = nl + 1;
    if (header.end === true) {
      assert.deepEqual(Object.keys(header), ['end']);
      assert.equal(at, data.length, 'nothing after the end line');
      return frames;
    }
    assert.deepEqual(Object.keys(header), ['sha256', 'size']);
    const size = header.size ?? -1;
    frames.push({ header: { sha256: header.sha256 ?? '', size }, body: data.subarray(at, at + size) });
    at += size;
  }
}

async function pack(blobs: readonly PackBlob[], options: PackOptions): Promise<Frame[]> {
  const raw = await collect(packStream(blobs, options));
  return parse(options.gzip ? gunzipSync(raw) : raw);
}

const SAMPLE: readonly Buffer[] = [
  Buffer.from('hello\n'),
  Buffer.alloc(0),
  Buffer.from('{"end":true}\n'), // content that looks like framing
  Buffer.alloc(300 * 1024, 0x41), // above the whole-file limit
  Buffer.from(Array.from({ length: 2_500_000 }, (_, i) => (i * 7) % 251)), // several chunks
  ...Array.from({ length: 400 }, (_, i) => Buffer.from(`small file ${i}\n`.repeat(i % 50))), // more than one slab
];
const sample = (): Buffer[] => [...SAMPLE];

for (const gzip of [false, true]) {
  test(`the stream frames every blob and ends with the end line (gzip: ${gzip})`, async () => {
    const { blobs, contents } = blobsOf(sample());
    let bytes = 0;
    let done = 0;
    const frames = await pack(blobs, { gzip, onBytes: (n) => (bytes += n), onBlob: () => done++ });
    assert.equal(frames.length, contents.length);
    frames.forEach((frame, i) => {
      assert.deepEqual(frame.header, { sha256: blobs[i]?.sha256, size: contents[i]?.length });
      assert.ok(frame.body.equals(contents[i] ?? Buffer.alloc(0)), `blob ${i}`);
      assert.equal(sha(frame.body), frame.header.sha256);
    });
    assert.equal(bytes, contents.reduce((n, c) => n + c.length, 0));
    assert.equal(done, contents.length);
  });
}

test('no blobs: just the end line', async () => {
  assert.equal((await collect(packStream([], { gzip: false }))).toString(), '{"end":true}\n');
  assert.equal(gunzipSync(await collect(packStream([], { gzip: true }))).toString(), '{"end":true}\n');
});

test('corrupt: N flips exactly one byte in each of the first N non-empty blobs, headers unchanged', async () => {
  const { blobs, contents } = blobsOf(sample().slice(0, 8));
  for (const gzip of [false, true]) {
    const frames = await pack(blobs, { gzip, corrupt: 3 });
    const changed = frames.map((frame, i) => {
      assert.deepEqual(frame.header, { sha256: blobs[i]?.sha256, size: contents[i]?.length }, 'headers stay right');
      let diff = 0;
      const original = contents[i] ?? Buffer.alloc(0);
      for (let b = 0; b < original.length; b++) if (frame.body[b] !== original[b]) diff++;
      return diff;
    });
    // Blob 1 is empty: nothing to flip, so the third corrupted blob is blob 3 (the 300 KiB one).
    assert.deepEqual(changed, [1, 0, 1, 1, 0, 0, 0, 0]);
  }
  // A large (chunked) blob is corrupted too.
  const frames = await pack(blobs.slice(4), { gzip: false, corrupt: 1 });
  assert.notEqual(sha(frames[0]?.body ?? Buffer.alloc(0)), blobs[4]?.sha256);
  assert.equal(sha(frames[1]?.body ?? Buffer.alloc(0)), blobs[5]?.sha256);
});

test('the fault is only read from MONO_FAULT_CORRUPT_BLOBS', () => {
  assert.equal(faultCorruptBlobs({}), undefined);
  assert.equal(faultCorruptBlobs({ MONO_FAULT_CORRUPT_BLOBS: '' }), undefined);
  assert.equal(faultCorruptBlobs({ MONO_FAULT_CORRUPT_BLOBS: '2' }), 2);
  assert.throws(() => faultCorruptBlobs({ MONO_FAULT_CORRUPT_BLOBS: 'yes' }), MonoError);
});

test('a file whose size changed since it was hashed fails the stream (plain and gzip; small and large files)', async () => {
  for (const [index, replacement] of [
    [0, 'hello!\n'],
    [0, 'hell'],
    [3, 'x'],
    [4, Buffer.alloc(2_500_001)],
  ] as const) {
    for (const gzip of [false, true]) {
      const { blobs } = blobsOf(sample().slice(0, 6));
      writeFileSync(blobs[index]?.absolutePath ?? '', replacement);
      await assert.rejects(collect(packStream(blobs, { gzip })), (error: unknown) => {
        assert.ok(error instanceof MonoError, String(error));
        assert.equal(error.message, `${blobs[index]?.absolutePath ?? ''} changed while it was being uploaded`);
        return true;
      });
    }
  }
  const { blobs } = blobsOf([Buffer.from('x')]);
  rmSync(blobs[0]?.absolutePath ?? '');
  await assert.rejects(collect(packStream(blobs, { gzip: false })), /changed while it was being uploaded/);
});

test('memory stays bounded: a 64 MB file is read in pieces as the consumer asks', async () => {
  const { blobs } = blobsOf([Buffer.alloc(64 * 1024 * 1024, 9)]);
  const stream = packStream(blobs, { gzip: false });
  let peak = 0;
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    peak = Math.max(peak, stream.readableLength);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(total > 64 * 1024 * 1024);
  assert.ok(peak <= 4 * 1024 * 1024, `buffered at most ${peak} bytes`);
});
