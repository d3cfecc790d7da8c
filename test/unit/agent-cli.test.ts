// `mono agent …` through the real CLI entry: hidden wiring, one JSON line on stdout, exit statuses, the session's lock and signals.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const repo = new URL('../..', import.meta.url).pathname;
const entry = join(repo, 'src/cli/main.ts');

function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'mono-agent-cli-'));
  for (const dir of ['releases', 'shared', '.mono/store']) mkdirSync(join(root, dir), { recursive: true });
  return root;
}

function mono(args: readonly string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: repo, input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('agent is hidden from --help but runs; --root must be absolute', () => {
  assert.doesNotMatch(mono(['--help']).stdout, /^ {2}agent\b/m);
  const r = mono(['agent', 'lock', 'status', '--root', 'srv/shop']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: --root must be an absolute path, got "srv\/shop"$/m);
});

test('receive prints one JSON line; a write error exits 75 with the error in the reply', () => {
  const root = newRoot();
  const content = Buffer.from('blob');
  const sha = createHash('sha256').update(content).digest('hex');
  const stream = `{"sha256":"${sha}","size":4}\nblob{"end":true}\n`;
  const ok = mono(['agent', 'receive', '--root', root], stream);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, '{"stored":1,"bytes":4,"rejected":[]}\n');

  const other = newRoot();
  writeFileSync(join(other, '.mono/store', sha.slice(0, 2)), 'not a folder');
  const failed = mono(['agent', 'receive', '--root', other], stream);
  assert.equal(failed.status, 75);
  const reply = JSON.parse(failed.stdout) as { stored: number; error?: { code: string; path: string } };
  assert.equal(failed.stdout.split('\n').length, 2);
  assert.deepEqual([reply.stored, reply.error?.code, reply.error?.path], [0, 'OTHER', join(other, '.mono/store', sha.slice(0, 2), sha)]);
});

test('prune honours --dry-run (also a global option) and requires --app', () => {
  const root = newRoot();
  assert.equal(mono(['agent', 'prune', '--root', root, '--keep', '2', '--app', 'shop', '--dry-run']).stdout, '{"removedReleases":[],"keptReleases":[],"removedBlobs":0,"freedBytes":0,"dryRun":true}\n');
  assert.equal(mono(['agent', 'prune', '--root', root, '--keep', '2']).status, 2);
  assert.match(mono(['agent', 'prune', '--root', root, '--keep', 'two', '--app', 'shop']).stderr, /--keep must be a non-negative integer, got "two"/);
});

function hold(root: string): { child: ChildProcessWithoutNullStreams; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'agent', 'session', '--root', root], { cwd: repo });
  child.stdin.write('{"op":"lock","request":{"by":"ann@laptop","from":"10.0.0.5","operation":"deploy"}}\n');
  // The first line is the agent's version; the second answers the lock request.
  const firstLine = new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      if (lines.length > 2) {
        assert.match(lines[0]!, /^\{"agent":"\d+\.\d+\.\d+"\}$/);
        resolve(lines[1]!);
      }
    });
  });
  return { child, firstLine };
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> => new Promise((resolve) => child.on('exit', (code) => resolve(code)));

for (const [how, end] of [
  ['stdin ends', (c: ChildProcessWithoutNullStreams) => c.stdin.end()],
  ['SIGTERM arrives', (c: ChildProcessWithoutNullStreams) => c.kill('SIGTERM')],
  ['SIGHUP arrives (the SSH session hung up)', (c: ChildProcessWithoutNullStreams) => c.kill('SIGHUP')],
] as const) {
  test(`a session takes the lock at once, holds it, and releases it when ${how}`, { timeout: 60_000 }, async () => {
    const root = newRoot();
    const { child, firstLine } = hold(root);
    try {
      const reply = (JSON.parse(await firstLine) as { ok: true; result: { locked: boolean; info: { pid: number } } }).result;
      assert.equal(reply.locked, true);
      assert.equal(reply.info.pid, child.pid);
      const status = JSON.parse(mono(['agent', 'lock', 'status', '--root', root]).stdout) as { locked: boolean; stale: boolean };
      assert.deepEqual([status.locked, status.stale], [true, false]);
      const done = exited(child);
      end(child);
      await done;
      assert.equal(existsSync(join(root, '.mono/lock')), false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}
