// Hashing release files and the local hash cache: hits skip the read, any change of size, mtime or inode misses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MonoError } from '../../src/errors.js';
import { HashCache, hashCachePath } from '../../src/release/hash-cache.js';
import { hashFiles, sha256File, SMALL_FILE_BYTES } from '../../src/release/hash.js';
import { scanRelease } from '../../src/release/scan.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
/** An mtime well in the past (seconds), so that cache entries are not "racy". */
const OLD = 1_600_000_000;

function setup(files: Record<string, string | Buffer>): { root: string; env: NodeJS.ProcessEnv } {
  const root = tempDir('mono-hash-src-');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
    utimesSync(join(root, path), OLD, OLD);
  }
  return { root, env: { XDG_CACHE_HOME: tempDir('mono-hash-cache-') } };
}

async function hashTree(root: string, env: NodeJS.ProcessEnv): Promise<{ hashes: Map<string, string>; cache: HashCache }> {
  const scanned = await scanRelease(root, {});
  const cache = await HashCache.load(root, env);
  const hashes = await hashFiles(scanned.files, cache);
  assert.equal(await cache.save(), true);
  return { hashes, cache };
}

test('sha256File streams small, empty and multi-chunk files', async () => {
  const dir = tempDir('mono-sha-');
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  writeFileSync(join(dir, 'big'), big);
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'small'), 'hello\n');
  assert.equal(await sha256File(join(dir, 'big')), sha(big));
  assert.equal(await sha256File(join(dir, 'empty')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(await sha256File(join(dir, 'small')), sha('hello\n'));
});

test('hashFiles hashes small and large files, with and without a cache, at any concurrency', async () => {
  const large = Buffer.alloc(SMALL_FILE_BYTES + 5, 1);
  const larger = Buffer.alloc(2 * 1024 * 1024 + 3, 2);
  const files: Record<string, string | Buffer> = { 'large.bin': large, 'larger.bin': larger, 'empty': '' };
  for (let i = 0; i < 50; i++) files[`d/f${i}`] = `content ${i}\n`.repeat(i);
  const { root } = setup(files);
  const scanned = await scanRelease(root, {});
  let bytes = 0;
  let count = 0;
  for (const concurrency of [1, 3, 8]) {
    const hashes = await hashFiles(scanned.files, undefined, concurrency, (b, f) => {
      bytes += b;
      count += f;
    });
    assert.equal(hashes.size, 53);
    for (const [path, content] of Object.entries(files)) assert.equal(hashes.get(path), sha(content), path);
  }
  assert.equal(count, 3 * 53);
  assert.equal(bytes, 3 * scanned.files.reduce((n, f) => n + f.size, 0));
});

test('a cache hit avoids reading: same size, mtime and inode give the cached hash even if the content changed', async () => {
  const { root, env } = setup({ 'a.txt': 'aaaa', 'b.txt': 'bbbb' });
  const first = await hashTree(root, env);
  assert.equal(first.hashes.get('a.txt'), sha('aaaa'));
  assert.deepEqual([first.cache.hits, first.cache.misses], [0, 2]);

  // Same size, same inode (written in place), mtime restored: trusted without reading, like git's index.
  writeFileSync(join(root, 'a.txt'), 'AAAA');
  utimesSync(join(root, 'a.txt'), OLD, OLD);
  const second = await hashTree(root, env);
  assert.equal(second.hashes.get('a.txt'), sha('aaaa'));
  assert.deepEqual([second.cache.hits, second.cache.misses], [2, 0]);

  // A size change invalidates.
  writeFileSync(join(root, 'a.txt'), 'AAAAA');
  utimesSync(join(root, 'a.txt'), OLD, OLD);
  const third = await hashTree(root, env);
  assert.equal(third.hashes.get('a.txt'), sha('AAAAA'));
  assert.deepEqual([third.cache.hits, third.cache.misses], [1, 1]);

  // An mtime change invalidates.
  writeFileSync(join(root, 'b.txt'), 'BBBB');
  utimesSync(join(root, 'b.txt'), OLD + 1, OLD + 1);
  assert.equal((await hashTree(root, env)).hashes.get('b.txt'), sha('BBBB'));

  // A new inode (a file replaced by rename, as many build tools do) invalidates.
  writeFileSync(join(root, 'b.new'), 'bbbb');
  utimesSync(join(root, 'b.new'), OLD + 1, OLD + 1);
  renameSync(join(root, 'b.new'), join(root, 'b.txt'));
  assert.equal((await hashTree(root, env)).hashes.get('b.txt'), sha('bbbb'));
});

test('the cache file: under $XDG_CACHE_HOME/mono/hashes, mode 0600, keyed by the absolute build folder; entries of gone files dropped', async () => {
  const { root, env } = setup({ 'keep.txt': 'k', 'gone.txt': 'g' });
  await hashTree(root, env);
  const file = hashCachePath(root, env);
  assert.equal(file, join(env['XDG_CACHE_HOME'] ?? '', 'mono', 'hashes', `${sha(root)}.json`));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; sourceDir: string; entries: Record<string, unknown> };
  assert.equal(saved.version, 1);
  assert.equal(saved.sourceDir, root);
  assert.deepEqual(Object.keys(saved.entries).sort(), ['gone.txt', 'keep.txt']);

  rmSync(join(root, 'gone.txt'));
  await hashTree(root, env);
  const after = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown> };
  assert.deepEqual(Object.keys(after.entries), ['keep.txt']);
  // No temp files left behind.
  assert.deepEqual(readdirSync(join(file, '..')), [`${sha(root)}.json`]);

  assert.equal(hashCachePath('/x', { XDG_CACHE_HOME: 'relative/ignored', HOME: '/home/op' }).startsWith('/'), true);
});

test('a corrupt, unknown-version or foreign cache file is ignored (everything is hashed again)', async () => {
  const { root, env } = setup({ 'a.txt': 'aaaa' });
  await hashTree(root, env);
  const file = hashCachePath(root, env);
  const good = readFileSync(file, 'utf8');
  const variants = [
    'not json',
    JSON.stringify({ ...(JSON.parse(good) as object), version: 2 }),
    JSON.stringify({ ...(JSON.parse(good) as object), sourceDir: '/elsewhere' }),
    JSON.stringify({ version: 1, sourceDir: root, entries: { 'a.txt': [4, OLD * 1000, 1, 'not-a-sha'] } }),
    '[]',
  ];
  for (const text of variants) {
    writeFileSync(file, text);
    const cache = await HashCache.load(root, env);
    const scanned = await scanRelease(root, {});
    assert.equal(cache.get(scanned.files[0]!), undefined, text);
  }
  // An unwritable cache folder: save reports false, it does not throw.
  const blocked = { XDG_CACHE_HOME: join(tempDir('mono-hash-blocked-'), 'file') };
  writeFileSync(blocked.XDG_CACHE_HOME, '');
  const cache = await HashCache.load(root, blocked);
  await hashFiles((await scanRelease(root, {})).files, cache);
  assert.equal(await cache.save(), false);
});

test('files modified just before hashing are not cached (a coarse mtime could hide a later change)', async () => {
  const root = tempDir('mono-hash-racy-');
  const env = { XDG_CACHE_HOME: tempDir('mono-hash-cache-') };
  writeFileSync(join(root, 'fresh.txt'), 'fresh');
  writeFileSync(join(root, 'old.txt'), 'old');
  utimesSync(join(root, 'old.txt'), OLD, OLD);
  await hashTree(root, env);
  const saved = JSON.parse(readFileSync(hashCachePath(root, env), 'utf8')) as { entries: Record<string, unknown> };
  assert.deepEqual(Object.keys(saved.entries), ['old.txt']);
});

test('a file that changed size or disappeared between scan and hash is a clear error', async () => {
  const { root } = setup({ 'a.txt': 'aaaa', 'big.bin': Buffer.alloc(SMALL_FILE_BYTES * 2, 3) });
  const scanned = await scanRelease(root, {});
  writeFileSync(join(root, 'a.txt'), 'aaaaaa');
  await assert.rejects(hashFiles(scanned.files, undefined), (error: unknown) => {
    assert.ok(error instanceof MonoError);
    assert.equal(error.code, 'USAGE');
    assert.equal(error.message, 'a.txt changed while mono was reading the build folder (4 bytes when scanned, 6 now)');
    return true;
  });
  writeFileSync(join(root, 'a.txt'), 'aaaa');
  rmSync(join(root, 'big.bin'));
  await assert.rejects(hashFiles(scanned.files, undefined), /big\.bin changed while mono was reading the build folder \(it disappeared\)/);
});

test('a run where every entry was a hit leaves the cache file alone; a change rewrites it', async () => {
  const { root, env } = setup({ 'a.txt': 'aaaa', 'b.txt': 'bbbb' });
  await hashTree(root, env);
  const file = hashCachePath(root, env);
  const before = statSync(file);
  await hashTree(root, env);
  assert.equal(statSync(file).ino, before.ino, 'an all-hits run must not rewrite the cache');
  writeFileSync(join(root, 'c.txt'), 'cccc');
  utimesSync(join(root, 'c.txt'), OLD, OLD);
  await hashTree(root, env);
  assert.notEqual(statSync(file).ino, before.ino);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { entries: object }).entries).sort(), ['a.txt', 'b.txt', 'c.txt']);
});
