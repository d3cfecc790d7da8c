// The manifest: built from a scan, canonical sha256, release ids, sizes and the blobs to send.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MonoError } from '../../src/errors.js';
import { hashFiles } from '../../src/release/hash.js';
import { buildManifest, canonicalJson, manifestBlobs, manifestSha256, releaseId, releaseStats } from '../../src/release/manifest.js';
import { RELEASE_ID, type Manifest } from '../../src/release/protocol.js';
import { scanRelease } from '../../src/release/scan.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

async function manifestOf(files: Record<string, string>, setup?: (root: string) => void): Promise<{ root: string; manifest: Manifest }> {
  const root = mkdtempSync(join(tmpdir(), 'mono-manifest-'));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  setup?.(root);
  const scanned = await scanRelease(root, {});
  return { root, manifest: buildManifest(scanned, await hashFiles(scanned.files, undefined)) };
}

const A = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'; // sha256("a")

test('the manifest has POSIX relative paths, sizes, x bits, hashes and links', async () => {
  const { manifest } = await manifestOf({ 'bin/run': 'a', 'lib/x/y.txt': 'a', 'z': '' }, (root) => {
    chmodSync(join(root, 'bin/run'), 0o755);
    symlinkSync('../lib/x/y.txt', join(root, 'bin', 'y'));
  });
  assert.deepEqual(manifest, {
    version: 1,
    dirs: ['bin', 'lib', 'lib/x'],
    files: [
      { path: 'bin/run', size: 1, executable: true, sha256: A },
      { path: 'lib/x/y.txt', size: 1, executable: false, sha256: A },
      { path: 'z', size: 0, executable: false, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    ],
    links: [{ path: 'bin/y', target: '../lib/x/y.txt' }],
  });
});

test('the same content gives the same manifest sha256, in any folder and after any key order; any change moves it', async () => {
  const files = { 'a.txt': 'one', 'd/b.txt': 'two', 'd/e/c.txt': 'three' };
  const first = await manifestOf(files);
  const second = await manifestOf(files);
  assert.equal(manifestSha256(first.manifest), manifestSha256(second.manifest));
  // Key order does not matter.
  const reordered = JSON.parse(JSON.stringify({ links: first.manifest.links, files: first.manifest.files.map((f) => ({ sha256: f.sha256, executable: f.executable, size: f.size, path: f.path })), dirs: first.manifest.dirs, version: 1 })) as Manifest;
  assert.equal(manifestSha256(reordered), manifestSha256(first.manifest));
  // Pinned: the canonical form is part of the protocol (the box recomputes it).
  assert.equal(canonicalJson({ b: [1, { d: true, c: 'x' }], a: null }), '{"a":null,"b":[1,{"c":"x","d":true}]}');
  assert.equal(canonicalJson({ version: 1, dirs: [], files: [], links: [] }), '{"dirs":[],"files":[],"links":[],"version":1}');
  assert.equal(canonicalJson(JSON.parse('{"__proto__":1,"a":2}')), '{"__proto__":1,"a":2}');

  const changed = await manifestOf({ ...files, 'a.txt': 'ONE' });
  assert.notEqual(manifestSha256(changed.manifest), manifestSha256(first.manifest));
  const renamed = await manifestOf({ 'a2.txt': 'one', 'd/b.txt': 'two', 'd/e/c.txt': 'three' });
  assert.notEqual(manifestSha256(renamed.manifest), manifestSha256(first.manifest));
});

test('release ids: UTC timestamp and the first 8 hex digits of the manifest sha256', () => {
  const sha = '1a2b3c4d'.padEnd(64, '0');
  const id = releaseId(sha, new Date(Date.UTC(2026, 10, 30, 23, 20, 0, 999)));
  assert.equal(id, '20261130T232000Z-1a2b3c4d');
  assert.match(id, RELEASE_ID);
  assert.equal(releaseId(sha, new Date('2027-01-02T03:04:05+02:00')), '20270102T010405Z-1a2b3c4d');
  assert.throws(() => releaseId('XYZ', new Date()), MonoError);
  assert.throws(() => releaseId(sha, new Date(Date.UTC(12000, 0, 1))), /out of range/);
});

test('stats count blobs once per content (an executable copy shares its blob)', async () => {
  const { root, manifest } = await manifestOf({ 'a': 'a', 'b': 'a', 'c': 'hello', 'sub/d': 'hello', 'e': '' }, (dir) => chmodSync(join(dir, 'b'), 0o755));
  assert.deepEqual(releaseStats(manifest), { files: 5, bytes: 12, uniqueBlobs: 3, uniqueBytes: 6 });
  const blobs = manifestBlobs(manifest, root);
  assert.deepEqual(
    blobs.map((b) => [b.sha256.slice(0, 8), b.size, b.absolutePath]),
    [
      [A.slice(0, 8), 1, join(root, 'a')],
      ['2cf24dba', 5, join(root, 'c')],
      ['e3b0c442', 0, join(root, 'e')],
    ],
  );
  assert.deepEqual(manifestBlobs(manifest, root, new Set([A])).map((b) => b.absolutePath), [join(root, 'a')]);
});

test('a file without a hash is an internal error', () => {
  assert.throws(
    () => buildManifest({ dirs: [], links: [], files: [{ path: 'x', size: 1, executable: false, absolutePath: '/x', mtimeMs: 1, ino: 1 }] }, new Map()),
    (error: unknown) => error instanceof MonoError && error.code === 'INTERNAL',
  );
});
