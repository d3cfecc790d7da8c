// mono agent receive: framing, hashing, gzip, truncation, bad headers, write errors and cleanup, against real temp folders.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { receive } from '../../src/agent/receive.js';
import { MonoError } from '../../src/errors.js';
import { blobPath } from '../../src/release/protocol.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function newStore(): string {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-recv-'));
  const store = join(root, '.mono', 'store');
  mkdirSync(store, { recursive: true });
  return store;
}

interface Part {
  readonly content: Buffer;
  /** Header hash; defaults to the content's. */
  readonly sha256?: string;
}

function frame(parts: readonly Part[], end = true): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    out.push(Buffer.from(JSON.stringify({ sha256: p.sha256 ?? sha(p.content), size: p.content.length }) + '\n'), p.content);
  }
  if (end) out.push(Buffer.from('{"end":true}\n'));
  return Buffer.concat(out);
}

/** Splits the stream into uneven chunks, so headers and bodies straddle chunk boundaries. */
function chunked(data: Buffer, sizes = [1, 7, 100, 4096, 65536, 3]): Readable {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return Readable.from(chunks);
}

/** Partial files anywhere in the store: in the fan-out folders (where receive writes them) and in the legacy .incoming/. */
function listIncoming(store: string): string[] {
  const dirs = readdirSync(store, { withFileTypes: true })
    .filter((e) => e.isDirectory() && (/^[0-9a-f]{2}$/.test(e.name) || e.name === '.incoming'))
    .map((e) => e.name);
  return dirs.flatMap((dir) => readdirSync(join(store, dir)).filter((name) => name.endsWith('.partial')));
}

test('stores whole blobs (empty, small, bigger than one write batch) read-only under <aa>/<sha256>', async () => {
  const store = newStore();
  const blobs = [Buffer.alloc(0), Buffer.from('hello\n'), randomBytes(3 * 1024 * 1024 + 17)];
  const result = await receive(store, chunked(frame(blobs.map((content) => ({ content })))));
  assert.deepEqual(result, { stored: 3, bytes: 6 + 3 * 1024 * 1024 + 17, rejected: [] });
  for (const b of blobs) {
    const path = blobPath(store, sha(b), false);
    assert.deepEqual(readFileSync(path), b);
    assert.equal(lstatSync(path).mode & 0o7777, 0o444);
  }
  assert.deepEqual(listIncoming(store), []);
});

test('a blob whose content does not match its sha256 is rejected and deleted; the others are kept', async () => {
  const store = newStore();
  const good = Buffer.from('good');
  const bad = randomBytes(2 * 1024 * 1024); // big enough to be streamed to a partial file before the hash is known
  const lie = sha(Buffer.from('something else'));
  const small = Buffer.from('bad small');
  const smallLie = sha(Buffer.from('other'));
  const result = await receive(store, chunked(frame([{ content: good }, { content: bad, sha256: lie }, { content: small, sha256: smallLie }])));
  assert.deepEqual(result, { stored: 1, bytes: 4, rejected: [lie, smallLie] });
  assert.equal(existsSync(blobPath(store, lie, false)), false);
  assert.equal(existsSync(blobPath(store, smallLie, false)), false);
  assert.deepEqual(listIncoming(store), []);
});

test('a gzip-compressed stream is accepted with gzip: true', async () => {
  const store = newStore();
  const blobs = [Buffer.from('a'.repeat(10_000)), randomBytes(100_000)];
  const result = await receive(store, chunked(gzipSync(frame(blobs.map((content) => ({ content }))))), { gzip: true });
  assert.deepEqual(result, { stored: 2, bytes: 110_000, rejected: [] });
  assert.deepEqual(readFileSync(blobPath(store, sha(blobs[1]!), false)), blobs[1]);
});

test('a stream cut inside a blob keeps the whole blobs before it and drops the partial one', async () => {
  const store = newStore();
  const a = Buffer.from('first');
  const b = randomBytes(2 * 1024 * 1024);
  const c = randomBytes(50);
  const data = frame([{ content: a }, { content: b }, { content: c }], false);
  const warnings: string[] = [];
  const cut = data.subarray(0, data.length - 20);
  const result = await receive(store, chunked(cut), { warn: (m) => warnings.push(m) });
  assert.deepEqual(result, { stored: 2, bytes: a.length + b.length, rejected: [] });
  assert.equal(existsSync(blobPath(store, sha(c), false)), false);
  assert.deepEqual(listIncoming(store), []);
  assert.deepEqual(warnings, [`the upload stream ended early inside blob ${sha(c)} (dropped); 2 whole blob(s) kept`]);
});

test('a gzip stream cut short behaves like a plain one cut short', async () => {
  const store = newStore();
  const a = randomBytes(1000);
  const b = randomBytes(3 * 1024 * 1024);
  const gz = gzipSync(frame([{ content: a }, { content: b }]));
  const result = await receive(store, chunked(gz.subarray(0, gz.length - 100_000)), { gzip: true, warn: () => undefined });
  assert.deepEqual(result, { stored: 1, bytes: 1000, rejected: [] });
  assert.deepEqual(listIncoming(store), []);
});

test('the end line ends the receive even while stdin stays open', async () => {
  const store = newStore();
  const input = new PassThrough();
  input.write(frame([{ content: Buffer.from('x') }]));
  const result = await receive(store, input);
  assert.deepEqual(result, { stored: 1, bytes: 1, rejected: [] });
});

for (const [name, header, message] of [
  ['not JSON', 'hello\n', /header 1 is invalid: it is not JSON \("hello"\)/],
  ['upper-case hex', `{"sha256":"${'A'.repeat(64)}","size":1}\n`, /header 1 is invalid: "sha256" must be 64 lower-case hex digits/],
  ['a negative size', `{"sha256":"${'a'.repeat(64)}","size":-1}\n`, /header 1 is invalid: "size" must be a non-negative integer/],
  ['a fractional size', `{"sha256":"${'a'.repeat(64)}","size":1.5}\n`, /"size" must be a non-negative integer/],
  ['a line over 1 KiB', `{"sha256":"${'a'.repeat(64)}","size":1,"pad":"${'x'.repeat(1000)}"}\n`, /header 1 is invalid: the line is longer than 1024 bytes/],
  ['an endless line', 'x'.repeat(5000), /the line is longer than 1024 bytes/],
] as const) {
  test(`a header with ${name} rejects the stream with a usage error`, async () => {
    const store = newStore();
    const first = Buffer.from('kept');
    await assert.rejects(receive(store, chunked(Buffer.concat([frame([{ content: first }], false), Buffer.from(header)]))), (error: unknown) => {
      assert.ok(error instanceof MonoError);
      assert.equal(error.code, 'USAGE');
      assert.match(error.message, /^the upload stream is broken: /);
      assert.match(error.message.replace('header 2', 'header 1'), message);
      return true;
    });
    assert.deepEqual(readFileSync(blobPath(store, sha(first), false)), first);
    assert.deepEqual(listIncoming(store), []);
  });
}

test('a blob already in the store keeps its inode (releases link to it)', async () => {
  const store = newStore();
  const content = Buffer.from('same');
  await receive(store, chunked(frame([{ content }])));
  const before = lstatSync(blobPath(store, sha(content), false)).ino;
  const result = await receive(store, chunked(frame([{ content }])));
  assert.deepEqual(result, { stored: 1, bytes: 4, rejected: [] });
  assert.equal(lstatSync(blobPath(store, sha(content), false)).ino, before);
  assert.deepEqual(listIncoming(store), []);
});

test('a write error ends storing: the reply carries it, the rest of the stream is drained, no partial stays', async () => {
  const store = newStore();
  const a = Buffer.from('stored before the failure');
  let b = randomBytes(100);
  while (sha(b).slice(0, 2) === sha(a).slice(0, 2)) b = randomBytes(100);
  const c = Buffer.from('after the failure');
  // The fan-out folder of b is a file: making it fails (EEXIST), as a full disk would fail a write.
  writeFileSync(join(store, sha(b).slice(0, 2)), '');
  const input = new PassThrough();
  input.write(frame([{ content: a }, { content: b }, { content: c }]));
  const result = await receive(store, input);
  assert.deepEqual(result, {
    stored: 1,
    bytes: a.length,
    rejected: [],
    error: { code: 'OTHER', message: result.error?.message, path: blobPath(store, sha(b), false) },
  });
  assert.match(result.error.message, /^EEXIST: file already exists, mkdir /);
  assert.equal(existsSync(blobPath(store, sha(c), false)), false);
  assert.deepEqual(listIncoming(store), []);
});

test('partial files older than an hour are cleaned at start, recent ones are left to their writer', async () => {
  const store = newStore();
  mkdirSync(join(store, '.incoming'));
  writeFileSync(join(store, '.incoming', 'old.partial'), 'x');
  writeFileSync(join(store, '.incoming', 'new.partial'), 'x');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(store, '.incoming', 'old.partial'), twoHoursAgo, twoHoursAgo);
  await receive(store, chunked(frame([])));
  assert.deepEqual(listIncoming(store), ['new.partial']);
});

test('a root without a store is a setup problem', async () => {
  await assert.rejects(receive('/nonexistent/.mono/store', chunked(frame([]))), /the store \/nonexistent\/\.mono\/store does not exist/);
});
