// Git facts for release.json: commit, branch (none when detached), dirty; nothing outside a checkout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gitInfo } from '../../src/release/git.js';

const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mono-git-'));
  temps.push(dir);
  return dir;
}

const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = (dir: string, ...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env }).trim();

test('a clean checkout on a branch, then dirty, then detached', async () => {
  const dir = tempDir();
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'a.txt'), 'a');
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, '.gitignore'), 'dist/\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'one');
  const commit = git(dir, 'rev-parse', 'HEAD');

  // Asked about the build folder inside the checkout; ignored build output does not make it dirty.
  writeFileSync(join(dir, 'dist', 'out.js'), 'x');
  assert.deepEqual(await gitInfo(join(dir, 'dist')), { commit, branch: 'main', dirty: false });

  writeFileSync(join(dir, 'a.txt'), 'changed');
  assert.deepEqual(await gitInfo(dir), { commit, branch: 'main', dirty: true });

  git(dir, 'checkout', '-q', '--', 'a.txt');
  git(dir, 'checkout', '-q', '--detach');
  assert.deepEqual(await gitInfo(dir), { commit, dirty: false });
});

test('not a checkout, an empty repository, or a missing folder: undefined', async () => {
  const dir = tempDir();
  assert.equal(await gitInfo(dir), undefined);
  git(dir, 'init', '-q');
  assert.equal(await gitInfo(dir), undefined, 'no commit yet');
  assert.equal(await gitInfo(join(dir, 'nope')), undefined);
});
