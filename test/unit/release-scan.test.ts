// Scanning the build folder: ignore rules, sorting, executable bits, links that escape, names and files a release cannot carry.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MonoError } from '../../src/errors.js';
import { compareBytes, linkEscapes, scanRelease, type ScannedRelease } from '../../src/release/scan.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A temp build folder with the given files ("dir/" for an empty folder). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mono-scan-'));
  temps.push(root);
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) {
      mkdirSync(join(root, path), { recursive: true });
      continue;
    }
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function paths(scanned: ScannedRelease): { dirs: readonly string[]; files: string[]; links: string[] } {
  return { dirs: scanned.dirs, files: scanned.files.map((f) => f.path), links: scanned.links.map((l) => `${l.path} -> ${l.target}`) };
}

async function refusal(promise: Promise<unknown>): Promise<MonoError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MonoError, `expected a MonoError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the scan to be refused');
}

test('lists dirs (parents first), files and links, sorted by path', async () => {
  const root = tree({ 'b/z.txt': 'z', 'b/a.txt': 'a', 'a/deep/er/x': 'x', 'top.txt': 'top', 'empty/': '' });
  symlinkSync('b/a.txt', join(root, 'link'));
  const scanned = await scanRelease(root, {});
  assert.deepEqual(paths(scanned), {
    dirs: ['a', 'a/deep', 'a/deep/er', 'b', 'empty'],
    files: ['a/deep/er/x', 'b/a.txt', 'b/z.txt', 'top.txt'],
    links: ['link -> b/a.txt'],
  });
  const top = scanned.files.find((f) => f.path === 'top.txt');
  assert.equal(top?.size, 3);
  assert.equal(top?.absolutePath, join(root, 'top.txt'));
  assert.ok((top?.ino ?? 0) > 0 && (top?.mtimeMs ?? 0) > 0);
  assert.equal(scanned.sourceDir, root);
  assert.equal(scanned.ignoreFile, undefined);
});

test('sorting is by UTF-8 bytes, not UTF-16 units', async () => {
  // U+FF5E (3 bytes, ef bd 9e) sorts before U+1F600 (4 bytes, f0 9f 98 80) in bytes; in UTF-16 the surrogate d83d comes first.
  assert.ok(compareBytes('\uff5e', '\u{1f600}') < 0);
  assert.ok('\uff5e' > '\u{1f600}');
  assert.ok(compareBytes('a', 'a/b') < 0);
  assert.ok(compareBytes('a-b', 'a/b') < 0);
  const root = tree({ '\u{1f600}.txt': '1', '\uff5e.txt': '2', 'B.txt': '3', 'a.txt': '4' });
  assert.deepEqual(paths(await scanRelease(root, {})).files, ['B.txt', 'a.txt', '\uff5e.txt', '\u{1f600}.txt']);
});

test('the same tree scans the same way twice (deterministic)', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`d${i % 7}/sub${i % 3}/f${i}.txt`] = String(i);
  const root = tree(files);
  const a = paths(await scanRelease(root, {}));
  const b = paths(await scanRelease(root, {}));
  assert.deepEqual(a, b);
  assert.equal(a.files.length, 300);
  assert.deepEqual(a.files, [...a.files].sort(compareBytes));
});

test('executable = any x bit', async () => {
  const root = tree({ 'run.sh': '#!/bin/sh\n', 'group-x': '', 'other-x': '', 'plain.txt': '' });
  chmodSync(join(root, 'run.sh'), 0o755);
  chmodSync(join(root, 'group-x'), 0o610);
  chmodSync(join(root, 'other-x'), 0o601);
  chmodSync(join(root, 'plain.txt'), 0o644);
  const scanned = await scanRelease(root, {});
  assert.deepEqual(
    scanned.files.map((f) => [f.path, f.executable]),
    [['group-x', true], ['other-x', true], ['plain.txt', false], ['run.sh', true]],
  );
});

test('.monoignore: files, dirs, negation, anchored and nested patterns', async () => {
  const root = tree({
    '.monoignore': ['*.log', '!keep.log', 'tmp/', '/build', 'docs/**/draft.md', 'cache/*', '!cache/.keep', ''].join('\n'),
    'app.js': '',
    'error.log': '',
    'keep.log': '',
    'sub/deep/trace.log': '',
    'sub/deep/keep.log': '',
    'tmp/a': '',
    'sub/tmp/b': '',
    'build/out': '',
    'sub/build/out': '',
    'docs/draft.md': '',
    'docs/a/b/draft.md': '',
    'docs/a/final.md': '',
    'cache/x': '',
    'cache/.keep': '',
  });
  const scanned = await scanRelease(root, {});
  assert.equal(scanned.ignoreFile, join(root, '.monoignore'));
  assert.deepEqual(paths(scanned), {
    dirs: ['cache', 'docs', 'docs/a', 'docs/a/b', 'sub', 'sub/build', 'sub/deep'],
    // docs/**/draft.md also matches docs/draft.md ("**/" matches zero folders).
    files: ['.monoignore', 'app.js', 'cache/.keep', 'docs/a/final.md', 'keep.log', 'sub/build/out', 'sub/deep/keep.log'],
    links: [],
  });
  // The same answer as git itself.
  execFileSync('git', ['init', '-q', root]);
  const git = execFileSync('git', ['-C', root, 'ls-files', '--others', '--exclude-from=.monoignore'], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(git.sort(compareBytes), paths(scanned).files);
});

test('an ignored directory is not entered: a negation inside it cannot bring a file back (as in git)', async () => {
  const root = tree({ '.monoignore': 'vendor/\n!vendor/keep.txt\n', 'vendor/keep.txt': '', 'vendor/x/y': '', 'a.txt': '' });
  // A link escaping from inside the ignored folder is not looked at either.
  symlinkSync('/etc/passwd', join(root, 'vendor', 'abs'));
  assert.deepEqual(paths(await scanRelease(root, {})).files, ['.monoignore', 'a.txt']);
});

test('.git and .mono are always ignored, even when the ignore file tries to keep them', async () => {
  const root = tree({ '.monoignore': '!.git/\n!.mono/\n!.mono\n', '.git/HEAD': 'ref', '.mono/release.json': '{}', 'sub/.git': 'gitdir: ../.git/modules/sub', 'sub/.mono': '', 'a': '' });
  assert.deepEqual(paths(await scanRelease(root, {})), { dirs: ['sub'], files: ['.monoignore', 'a'], links: [] });
});

test('an explicit ignore file and extra rules; a missing explicit ignore file is an error', async () => {
  const root = tree({ 'a.txt': '', 'b.txt': '', 'c.md': '', '.monoignore': 'a.txt\n' });
  const rules = join(root, '..', `${root.split('/').pop() ?? ''}-rules`);
  writeFileSync(rules, 'b.txt\n');
  temps.push(rules);
  const scanned = await scanRelease(root, { ignoreFile: rules, extraIgnores: ['*.md'] });
  // The explicit file replaces .monoignore (a.txt stays), extra rules add to it.
  assert.deepEqual(paths(scanned).files, ['.monoignore', 'a.txt']);
  assert.equal(scanned.ignoreFile, rules);

  const error = await refusal(scanRelease(root, { ignoreFile: join(root, 'nope.ignore') }));
  assert.equal(error.code, 'USAGE');
  assert.equal(error.message, `the ignore file ${join(root, 'nope.ignore')} does not exist`);
  assert.ok(error.hint !== undefined);
});

test('a missing build folder, or a file in its place, is a usage error with a hint', async () => {
  const root = tree({ 'file.txt': '' });
  const missing = await refusal(scanRelease(join(root, 'dist'), {}));
  assert.equal(missing.code, 'USAGE');
  assert.equal(missing.exitCode, 2);
  assert.equal(missing.message, `the build folder ${join(root, 'dist')} does not exist`);
  assert.equal(missing.hint, 'set release.source in mono.yml, or run the build first');
  const file = await refusal(scanRelease(join(root, 'file.txt'), {}));
  assert.match(file.message, /^the build folder .*file\.txt does not exist \(it is not a folder\)$/);
  assert.equal(file.hint, 'set release.source in mono.yml, or run the build first');
});

test('links that escape are refused, every offender listed; links inside are kept', async () => {
  const root = tree({ 'a/file': '', 'b/c/file': '', 'shared/x': '' });
  symlinkSync('../x', join(root, 'up')); // from the root
  symlinkSync('a/../../x', join(root, 'sneaky')); // through a folder
  symlinkSync('/etc/passwd', join(root, 'a', 'absolute'));
  symlinkSync('../../../shared', join(root, 'b', 'c', 'toofar'));
  symlinkSync('../a/file', join(root, 'b', 'ok')); // inside
  symlinkSync('../../shared/x', join(root, 'b', 'c', 'ok2')); // inside, two levels up
  symlinkSync('.', join(root, 'self')); // the root itself is inside
  symlinkSync('missing/target', join(root, 'dangling')); // dangling but inside: fine
  const error = await refusal(scanRelease(root, {}));
  assert.equal(error.code, 'USAGE');
  assert.equal(error.message, 'the release has 4 links that point outside it');
  assert.deepEqual(error.details, ['a/absolute -> /etc/passwd', 'b/c/toofar -> ../../../shared', 'sneaky -> a/../../x', 'up -> ../x']);
  assert.match(error.hint ?? '', /\.monoignore/);

  // Ignore the offenders: the links inside remain.
  writeFileSync(join(root, '.monoignore'), 'up\nsneaky\na/absolute\ntoofar\n');
  const scanned = await scanRelease(root, {});
  assert.deepEqual(paths(scanned).links, ['b/c/ok2 -> ../../shared/x', 'b/ok -> ../a/file', 'dangling -> missing/target', 'self -> .']);
});

test('one link: singular message', async () => {
  const root = tree({ 'a': '' });
  symlinkSync('../../etc', join(root, 'out'));
  const error = await refusal(scanRelease(root, {}));
  assert.equal(error.message, 'the release has 1 link that points outside it');
  assert.deepEqual(error.details, ['out -> ../../etc']);
});

test('a chain of links inside the release that ends outside it is refused (resolved as the kernel would)', async () => {
  const root = tree({ 'a/b/c/file': '' });
  // up -> the root (inside); x -> up/.. normalises to a/b lexically but the kernel resolves it to the root's parent.
  symlinkSync('../..', join(root, 'a', 'b', 'up'));
  symlinkSync('up/..', join(root, 'a', 'b', 'x'));
  const error = await refusal(scanRelease(root, {}));
  assert.deepEqual(error.details, ['a/b/x -> up/..']);

  const links = new Map([
    ['l1', 'l2'],
    ['l2', 'l1'],
    ['sub/to-root', '..'],
  ]);
  assert.equal(linkEscapes('l1', 'l2', links), false, 'a loop fails with ELOOP, it reaches nothing');
  assert.equal(linkEscapes('sub/to-root', '..', links), false);
  assert.equal(linkEscapes('sub/y', 'to-root/..', links), true);
  assert.equal(linkEscapes('sub/y', 'to-root/sub/..', links), false);
  assert.equal(linkEscapes('y', './././a', links), false);
  assert.equal(linkEscapes('y', '/abs', links), true);
});

test('names with a newline or invalid UTF-8, and special files, are refused together', async (t) => {
  const root = tree({ 'ok.txt': '' });
  writeFileSync(join(root, 'new\nline'), '');
  mkdirSync(join(root, 'dir'));
  writeFileSync(Buffer.concat([Buffer.from(join(root, 'dir') + '/'), Buffer.from([0x62, 0xff, 0x61, 0x64])]), '');
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root, 'sock'), resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  symlinkSync('/etc', join(root, 'abs'));

  const error = await refusal(scanRelease(root, {}));
  assert.equal(error.message, 'the release has 1 link that points outside it, 2 names mono cannot carry (a newline, a NUL or not UTF-8) and 2 special files (socket, fifo or device)');
  assert.deepEqual(error.details, [
    'abs -> /etc',
    '"dir/b\uFFFDad": the name is not valid UTF-8',
    '"new\\nline": the name contains a newline',
    'fifo: a named pipe (fifo)',
    'sock: a socket',
  ]);

  // All of them can be ignored (a wildcard reaches the name that is not UTF-8).
  writeFileSync(join(root, '.monoignore'), 'abs\nnew*\ndir/b*\nfifo\nsock\n');
  assert.deepEqual(paths(await scanRelease(root, {})), { dirs: ['dir'], files: ['.monoignore', 'ok.txt'], links: [] });
});
