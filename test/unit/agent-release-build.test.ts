// mono agent release-build: hard links to store blobs, modes, links, shared paths, process scripts, validation and rebuilds.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseBuildRequest } from '../../src/agent/build-request.js';
import { directoriesOf } from '../../src/agent/fs-tree.js';
import { BlobSource } from '../../src/agent/blob-source.js';
import { buildRelease, procScript } from '../../src/agent/release-build.js';
import { verifyRelease } from '../../src/agent/release-verify.js';
import { MonoError } from '../../src/errors.js';
import { blobPath, type BuildRequest, type Manifest, type ManifestFile } from '../../src/release/protocol.js';

const ID = '20261130T232000Z-1a2b3c4d';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-build-'));
  for (const dir of ['releases', 'shared', '.mono/store']) mkdirSync(join(root, dir), { recursive: true });
  return root;
}

function putBlob(root: string, content: string): ManifestFile & { content: string } {
  const hash = sha(content);
  const path = blobPath(join(root, '.mono/store'), hash, false);
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) writeFileSync(path, content, { mode: 0o444 });
  return { path: '', size: Buffer.byteLength(content), executable: false, sha256: hash, content };
}

function file(root: string, path: string, content: string, executable = false): ManifestFile {
  const b = putBlob(root, content);
  return { path, size: b.size, executable, sha256: b.sha256 };
}

function request(manifest: Omit<Manifest, 'version'>, extra: Partial<BuildRequest> = {}, id = ID): BuildRequest {
  const m: Manifest = { version: 1, ...manifest };
  return {
    id,
    manifest: m,
    meta: { id, createdAt: '2026-11-30T23:20:00.000Z', by: 'ann@laptop', source: '/home/ann/shop', manifestSha256: 'f'.repeat(64), files: m.files.length, bytes: m.files.reduce((n, f) => n + f.size, 0) },
    processes: {},
    shared: [],
    ...extra,
  };
}

const mode = (path: string): number => lstatSync(path).mode & 0o7777;

test('builds a release of hard links (0444/0555), links, shared paths, process scripts and .mono files; every folder 0555', async () => {
  const root = newRoot();
  writeFileSync(join(root, 'shared', 'keep.txt'), 'shared already has this');
  const req = request(
    {
      dirs: ['app', 'bin', 'config', 'storage', 'storage/cache', 'public'],
      files: [
        file(root, 'app/main.js', 'console.log(1)\n'),
        file(root, 'app/copy.js', 'console.log(1)\n'),
        file(root, 'bin/start', '#!/bin/sh\necho start\n', true),
        file(root, 'config/db.yml', 'db: dev\n'),
        file(root, 'keep.txt', 'release version'),
        file(root, 'storage/cache/x', 'cached'),
      ],
      links: [
        { path: 'main.js', target: 'app/main.js' },
        { path: 'public/uploads', target: '../storage/uploads' },
      ],
    },
    { processes: { web: 'bin/start --port "$PORT"', worker: 'node app/main.js' }, shared: ['storage', 'config/db.yml', 'keep.txt', 'tmp/pids'] },
  );
  const result = await buildRelease(root, parseBuildRequest(JSON.parse(JSON.stringify(req))));
  assert.deepEqual(result, { id: ID, files: 6, bytes: req.meta.bytes, missing: [] });

  const rel = join(root, 'releases', ID);
  const store = join(root, '.mono/store');
  assert.deepEqual(readdirSync(join(root, 'releases')), [ID]);
  for (const f of req.manifest.files.filter((f) => !f.path.startsWith('storage/') && f.path !== 'config/db.yml' && f.path !== 'keep.txt')) {
    const st = lstatSync(join(rel, f.path));
    assert.equal(st.ino, lstatSync(blobPath(store, f.sha256, f.executable)).ino, `${f.path} is a hard link to its blob`);
    assert.equal(mode(join(rel, f.path)), f.executable ? 0o555 : 0o444);
  }
  const start = req.manifest.files[2]!;
  assert.equal(mode(blobPath(store, start.sha256, true)), 0o555);
  assert.equal(mode(blobPath(store, start.sha256, false)), 0o444);
  assert.deepEqual(readdirSync(dirname(blobPath(store, start.sha256, true))).sort(), [start.sha256, `${start.sha256}.x`]);

  assert.equal(readlinkSync(join(rel, 'main.js')), 'app/main.js');
  assert.equal(readlinkSync(join(rel, 'public/uploads')), '../storage/uploads');
  for (const s of ['storage', 'config/db.yml', 'keep.txt', 'tmp/pids']) assert.equal(readlinkSync(join(rel, s)), `${root}/shared/${s}`);
  assert.equal(lstatSync(join(root, 'shared/storage')).isDirectory(), true, 'a release folder becomes an empty shared folder');
  assert.deepEqual(readdirSync(join(root, 'shared/storage')), []);
  assert.equal(lstatSync(join(root, 'shared/tmp/pids')).isDirectory(), true, 'nothing in the release: a shared folder');
  assert.equal(readFileSync(join(root, 'shared/config/db.yml'), 'utf8'), 'db: dev\n', 'a release file seeds the shared one');
  assert.equal(mode(join(root, 'shared/config/db.yml')), 0o640);
  assert.equal(readFileSync(join(root, 'shared/keep.txt'), 'utf8'), 'shared already has this', 'an existing shared file is kept');
  assert.equal(readFileSync(join(rel, 'public/uploads/../../keep.txt'), 'utf8'), 'shared already has this');

  assert.equal(readFileSync(join(rel, '.mono/procs/web'), 'utf8'), `#!/bin/sh\n# written by mono for release ${ID}\nexec bin/start --port "$PORT"\n`);
  assert.equal(readFileSync(join(rel, '.mono/procs/worker'), 'utf8'), procScript(ID, 'node app/main.js'));
  assert.equal(mode(join(rel, '.mono/procs/web')), 0o555);
  assert.deepEqual(JSON.parse(readFileSync(join(rel, '.mono/release.json'), 'utf8')), req.meta);
  assert.deepEqual(JSON.parse(readFileSync(join(rel, '.mono/manifest.json'), 'utf8')), req.manifest);
  assert.equal(mode(join(rel, '.mono/manifest.json')), 0o444);

  const dirs = directoriesOf(rel).map((d) => d.slice(rel.length) || '/');
  assert.deepEqual(dirs.sort(), ['/', '/.mono', '/.mono/procs', '/app', '/bin', '/config', '/public', '/tmp'].sort());
  for (const d of directoriesOf(rel)) assert.equal(mode(d), 0o555, `${d} is read-only`);
});

test('a process script really replaces the shell (exec), so systemd signals reach the app', async () => {
  assert.equal(procScript(ID, 'java -jar app.jar'), `#!/bin/sh\n# written by mono for release ${ID}\nexec java -jar app.jar\n`);
});

function assertInvalid(req: unknown, ...messages: RegExp[]): void {
  assert.throws(
    () => parseBuildRequest(req),
    (error: unknown) => {
      assert.ok(error instanceof MonoError);
      assert.equal(error.code, 'USAGE');
      const text = error.details.join('\n');
      for (const m of messages) assert.match(text, m);
      return true;
    },
  );
}

test('symlinks out of the release are refused: ../../etc and absolute targets', () => {
  const base = request({ dirs: ['a'], files: [], links: [] });
  assertInvalid({ ...base, manifest: { ...base.manifest, links: [{ path: 'a/etc', target: '../../etc' }] } }, /^manifest\.links\[0\]\.target: "\.\.\/\.\.\/etc" resolves outside the release \(to \.\.\/etc\)$/);
  assertInvalid({ ...base, manifest: { ...base.manifest, links: [{ path: 'passwd', target: '/etc/passwd' }] } }, /^manifest\.links\[0\]\.target: "\/etc\/passwd" must be relative, not absolute$/);
  assertInvalid({ ...base, manifest: { ...base.manifest, links: [{ path: 'up', target: '..' }] } }, /resolves outside the release/);
});

test('bad ids, paths, process names and shared paths are all reported at once', () => {
  const h = sha('x');
  assertInvalid(
    {
      id: '2026-11-30',
      manifest: {
        version: 1,
        dirs: ['a', 'a//b', '/abs', 'c/..', '.mono', 'x\0y'],
        files: [
          { path: 'a/f', size: 1, executable: false, sha256: h },
          { path: 'a/f', size: 1, executable: false, sha256: h },
          { path: 'nodir/f', size: 2, executable: false, sha256: h },
          { path: 'g', size: 1, executable: 'yes', sha256: 'ABC' },
        ],
        links: [],
      },
      meta: { id: 'other' },
      processes: { Web: 'x', worker: 'a\nb', ok: '' },
      shared: ['storage', 'storage/logs', '../x', '.mono/procs'],
    },
    /^id: must look like 20261130T232000Z-1a2b3c4d, got "2026-11-30"$/m,
    /^manifest\.dirs\[1\]: path "a\/\/b" has an empty segment/m,
    /^manifest\.dirs\[2\]: path "\/abs" must be relative, not absolute$/m,
    /^manifest\.dirs\[3\]: path "c\/\.\." contains "\.\."$/m,
    /^manifest\.dirs\[4\]: path "\.mono" is inside \.mono\/, which mono writes itself$/m,
    /^manifest\.dirs\[5\]: path "x\\u0000y" contains a NUL byte$/m,
    /^manifest\.files\[1\]: path "a\/f" is listed twice$/m,
    /^manifest\.files\[2\]: the parent folder "nodir" of "nodir\/f" is not listed before it in manifest\.dirs$/m,
    /^manifest\.files\[2\]\.size: 2 differs from 1, the size of another file with the same sha256$/m,
    /^manifest\.files\[3\]\.sha256: must be 64 lower-case hex digits$/m,
    /^manifest\.files\[3\]\.executable: must be true or false$/m,
    /^meta\.id: must equal the release id "2026-11-30"$/m,
    /^processes\.Web: the name must match/m,
    /^processes\.worker: the command must be one line/m,
    /^processes\.ok: the command must be a non-empty string$/m,
    /^shared\[1\]: "storage\/logs" overlaps "storage"/m,
    /^shared\[2\]: "\.\.\/x" contains "\.\."$/m,
    /^shared\[3\]: "\.mono\/procs" is inside \.mono\//m,
  );
});

test('a chain of links that escapes although each target looks inside is caught by the check, and nothing is left behind', async () => {
  const root = newRoot();
  // a/b/c/s -> ../../.. is the release root; t -> a/b/c/s/.. is then the release's parent.
  const req = request({ dirs: ['a', 'a/b', 'a/b/c'], files: [], links: [{ path: 'a/b/c/s', target: '../../..' }, { path: 't', target: 'a/b/c/s/..' }] });
  await assert.rejects(buildRelease(root, parseBuildRequest(req)), (error: unknown) => {
    assert.ok(error instanceof MonoError);
    assert.equal(error.code, 'CHECK_FAILED');
    assert.deepEqual(error.details, [`t: resolves outside the release (to ${root}/releases)`]);
    return true;
  });
  assert.deepEqual(readdirSync(join(root, 'releases')), []);
});

test('missing blobs are reported and nothing is built', async () => {
  const root = newRoot();
  const have = file(root, 'a', 'have');
  const lacking = { path: 'b', size: 4, executable: true, sha256: sha('lack') };
  const truncated = file(root, 'c', 'truncated!');
  const req = request({ dirs: [], files: [have, lacking, { ...truncated, size: 99 }], links: [] });
  assert.deepEqual(await buildRelease(root, req), { id: ID, files: 3, bytes: 4 + 4 + 99, missing: [lacking.sha256, truncated.sha256] });
  assert.deepEqual(readdirSync(join(root, 'releases')), []);
});

test('building the same release again keeps the first one; a different manifest under the same id is refused', async () => {
  const root = newRoot();
  const req = request({ dirs: ['d'], files: [file(root, 'd/f', 'content')], links: [] }, { processes: { web: 'run' } });
  const first = await buildRelease(root, req);
  const rel = join(root, 'releases', ID);
  const ino = lstatSync(rel).ino;
  const warnings: string[] = [];
  assert.deepEqual(await buildRelease(root, req, (m) => warnings.push(m)), first);
  assert.equal(lstatSync(rel).ino, ino);
  assert.deepEqual(warnings, [`release ${ID} already exists with the same manifest: kept it`]);
  assert.deepEqual(readdirSync(join(root, 'releases')), [ID]);

  const other = request({ dirs: ['d'], files: [file(root, 'd/f', 'other content')], links: [] });
  await assert.rejects(buildRelease(root, other), new RegExp(`release ${ID} already exists with a different manifest`));
  assert.deepEqual(readdirSync(join(root, 'releases')), [ID]);
});

test('a leftover partial release (read-only folders) is removed before building', async () => {
  const root = newRoot();
  const partial = join(root, 'releases', `${ID}.partial`);
  mkdirSync(join(partial, 'deep'), { recursive: true });
  writeFileSync(join(partial, 'deep', 'junk'), 'x');
  const req = request({ dirs: [], files: [file(root, 'f', 'x')], links: [] });
  await buildRelease(root, req);
  assert.deepEqual(readdirSync(join(root, 'releases')), [ID]);
  assert.deepEqual(readdirSync(join(root, 'releases', ID)).sort(), ['.mono', 'f']);
});

test('a shared path below a symlink of the release is refused (it would write outside the release)', async () => {
  const root = newRoot();
  const req = request({ dirs: ['real'], files: [], links: [{ path: 'storage', target: 'real' }] }, { shared: ['storage/logs'] });
  await assert.rejects(buildRelease(root, parseBuildRequest(req)), /shared path storage\/logs: storage in the release is a symlink, not a folder/);
  assert.deepEqual(readdirSync(join(root, 'releases')), []);
});

test('the check after building refuses an entry that neither the manifest, a shared path nor .mono/ accounts for', async () => {
  const root = newRoot();
  const req = request({ dirs: ['lib'], files: [file(root, 'lib/a.js', 'a')], links: [] }, { shared: ['tmp/pids'] });
  await buildRelease(root, req);
  const rel = join(root, 'releases', ID);
  const blobs = new BlobSource(join(root, '.mono/store'));
  // As built, it passes (tmp/ exists only as the parent of a shared path).
  verifyRelease(rel, req, blobs, join(root, 'shared'));
  chmodSync(join(rel, 'lib'), 0o755);
  writeFileSync(join(rel, 'lib/stray.js'), 'stray');
  assert.throws(() => verifyRelease(rel, req, blobs, join(root, 'shared')), (error: unknown) => {
    assert.ok(error instanceof MonoError);
    assert.equal(error.code, 'CHECK_FAILED');
    assert.deepEqual(error.details, ['lib/stray.js: not in the manifest']);
    return true;
  });
});
