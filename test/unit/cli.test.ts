import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mono } from '../support/cli.js';

const repo = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };

test('npx mono works from the project (npm ci builds it through prepare)', () => {
  const out = execFileSync('npx', ['--no-install', 'mono', '--version'], { cwd: repo, encoding: 'utf8' });
  assert.equal(out.trim(), pkg.version);
});

test('the agent bundle runs on its own, without node_modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-agent-'));
  cpSync(join(repo, 'dist', 'agent'), dir, { recursive: true });
  assert.equal(execFileSync(process.execPath, [join(dir, 'mono.mjs'), '--version'], { cwd: dir, encoding: 'utf8' }).trim(), pkg.version);
  // A verb that loads its own chunks works too (the folder is all the agent needs).
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-root-'));
  const lock = JSON.parse(execFileSync(process.execPath, [join(dir, 'mono.mjs'), 'agent', 'lock', 'status', '--root', root], { cwd: dir, encoding: 'utf8' })) as { locked: boolean };
  assert.equal(lock.locked, false);
});

test('an unknown command is a usage error (exit 2)', async () => {
  const r = await mono(['deploi'], { cwd: repo });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'deploi'/);
});

test('a missing config file says how to create one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-noconf-'));
  const r = await mono(['config'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: no config file at .*mono\.yml\nhint: run `mono init` to write a starter mono\.yml, or pass --config PATH\n$/);
});

test('--verbose adds the stack trace, the default does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-noconf-'));
  const plain = await mono(['config'], { cwd: dir });
  const verbose = await mono(['config', '--verbose'], { cwd: dir });
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  assert.match(verbose.stderr, /MonoError: no config file[\s\S]*\n\s+at /);
});

test('mono init writes a config that mono config accepts, and never overwrites without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-init-'));
  const first = await mono(['init', '--app', 'shop', '--host', 'root@203.0.113.10'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const check = await mono(['config', '--json'], { cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  const parsed = JSON.parse(check.stdout) as { config: { app: string; root: string } };
  assert.equal(parsed.config.app, 'shop');
  assert.equal(parsed.config.root, '/srv/shop');
  writeFileSync(join(dir, 'mono.yml'), 'app: mine\nhost: root@h\n');
  const again = await mono(['init'], { cwd: dir });
  assert.match(again.stderr, /kept .*mono\.yml \(exists; --force overwrites\)/);
  assert.equal(readFileSync(join(dir, 'mono.yml'), 'utf8'), 'app: mine\nhost: root@h\n');
});

test('mono config never prints a secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-secret-'));
  writeFileSync(join(dir, 'Procfile'), 'web: x\n');
  writeFileSync(join(dir, 'mono.yml'), 'app: shop\nhost: root@h\nnotifications:\n  webhook: $HOOK\n');
  const r = await mono(['config'], { cwd: dir, env: { HOOK: 'https://hooks.example/s3cr3t' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes('s3cr3t'));
  assert.match(r.stdout, /webhook: "\[redacted\]"/);
});

test('mono sandbox refuses to run without root', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to drop to another user');
  const { execFile } = await import('node:child_process');
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(repo, 'dist/cli/mono.mjs'), 'sandbox', 'up'], { cwd: '/', env: { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', NO_COLOR: '1' } }, (error, _stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number(error.code), stderr }),
    );
  });
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /error: mono sandbox must run as root \(it mounts overlays and boots containers\)\nhint: run it again with sudo/);
});

test('a reply larger than a pipe buffer reaches the other end whole (store-missing for 20,000 blobs)', async () => {
  const { spawn } = await import('node:child_process');
  const root = mkdtempSync(join(tmpdir(), 'mono-bigreply-'));
  for (const d of ['releases', 'shared', '.mono/store']) (await import('node:fs')).mkdirSync(join(root, d), { recursive: true });
  const input = Array.from({ length: 20_000 }, (_, i) => `${i.toString(16).padStart(64, '0')} 10\n`).join('');
  const child = spawn(process.execPath, [join(repo, 'dist', 'agent', 'mono.mjs'), 'agent', 'store-missing', '--root', root], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(input);
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { missing: string[] };
  assert.equal(reply.missing.length, 20_000, 'the whole reply arrived (it is over 1 MB, far beyond the 64 KiB pipe buffer)');
});
