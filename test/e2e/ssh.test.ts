// The SSH transport against a real sshd: strict host keys, mono trust, hostile strings, unreachable hosts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MonoError } from '../../src/errors.js';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono, projectFor } from '../support/cli.js';
import { HOSTILE } from '../support/hostile.js';

let box: BoxInfo;

before(async () => {
  box = await bootBox('app');
});

function withKnownHosts(content: string): string {
  const dir = projectFor(box);
  const file = join(dir, 'empty_known_hosts');
  writeFileSync(file, content);
  const yml = join(dir, 'mono.yml');
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(box.knownHostsFile, file));
  return dir;
}

function boxFingerprint(): string {
  return execFileSync('ssh-keygen', ['-lf', box.knownHostsFile], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

test('an unknown host key is refused with the fingerprint and a hint', async () => {
  const r = await mono(['setup'], { cwd: withKnownHosts('') });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, new RegExp(`error: the host key of \\[127\\.0\\.0\\.1\\]:${box.sshPort} is unknown \\(ssh-ed25519 ${boxFingerprint().replace(/[+/]/g, '\\$&')}\\); refusing to connect`));
  assert.match(r.stderr, /hint: .*mono trust root@127\.0\.0\.1:\d+/);
  assert.doesNotMatch(r.stderr, /at .*\.mjs/, 'no stack trace without --verbose');
});

test('a changed host key is refused', async () => {
  const other = execFileSync('sh', ['-c', 'd=$(mktemp -d) && ssh-keygen -q -t ed25519 -N "" -f "$d/k" && cut -d" " -f1,2 "$d/k.pub"'], { encoding: 'utf8' }).trim();
  const r = await mono(['setup', '--dry-run'], { cwd: withKnownHosts(`[127.0.0.1]:${box.sshPort} ${other}\n`) });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /has CHANGED/);
});

test('mono trust pins only the expected fingerprint, then connections work', async () => {
  const dir = withKnownHosts('');
  const wrong = await mono(['trust', '--fingerprint', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], { cwd: dir });
  assert.equal(wrong.code, 4, wrong.stderr);
  assert.equal(readFileSync(join(dir, 'empty_known_hosts'), 'utf8'), '', 'nothing pinned on a mismatch');
  const noConfirm = await mono(['trust'], { cwd: dir });
  assert.equal(noConfirm.code, 2, 'without a TTY, --fingerprint or --yes it refuses');
  assert.match(noConfirm.stderr, /refusing to trust a host key without confirmation/);
  const right = await mono(['trust', '--fingerprint', boxFingerprint()], { cwd: dir });
  assert.equal(right.code, 0, right.stderr);
  assert.match(right.stderr, new RegExp(`fingerprint: ${boxFingerprint().replace(/[+/]/g, '\\$&')}`));
  const ok = await mono(['setup', '--dry-run'], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  const again = await mono(['trust', '--fingerprint', boxFingerprint()], { cwd: dir });
  assert.match(again.stderr, /already trusted/);
  const wrongAfterPin = await mono(['trust', '--fingerprint', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], { cwd: dir });
  assert.equal(wrongAfterPin.code, 4, 'a wrong expected fingerprint fails even when the key is already pinned');
});

test('hostile strings reach the real box as literal values', async () => {
  const t = await SshTransport.connect({
    target: { user: 'root', host: '127.0.0.1', port: box.sshPort },
    identityFile: box.keyFile,
    knownHostsFiles: [box.knownHostsFile],
    connectTimeoutMs: 5000,
    commandTimeoutMs: 30_000,
  });
  try {
    const dir = (await t.run({ argv: ['mktemp', '-d'] })).stdout.trim();
    for (const value of HOSTILE) {
      const echoed = await t.run({ argv: ['printf', '%s', value] });
      assert.equal(echoed.stdout, value, `printf ${JSON.stringify(value)}`);
      if (value !== '' && !value.includes('/')) {
        await t.run({ argv: ['touch', '--', `${dir}/${value}`] });
        // the folder holds only this file, so its listing is exactly the name
        const listed = await t.run({ argv: ['find', dir, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f'] });
        assert.equal(listed.stdout, value, `file named ${JSON.stringify(value)}`);
        await t.run({ argv: ['rm', '-f', '--', `${dir}/${value}`] });
      }
      const viaStdin = await t.run({ argv: ['cat'], stdin: value });
      assert.equal(viaStdin.stdout, value);
    }
    const pwned = await t.run({ argv: ['ls', '/tmp/mono-pwned'], okCodes: [0, 2] });
    assert.equal(pwned.code, 2, 'no hostile string ran a command');
  } finally {
    await t.close();
  }
});

test('a remote failure comes back as a typed error with status and stderr', async () => {
  const t = await SshTransport.connect({ target: { user: 'root', host: '127.0.0.1', port: box.sshPort }, identityFile: box.keyFile, knownHostsFiles: [box.knownHostsFile], connectTimeoutMs: 5000, commandTimeoutMs: 2000 });
  try {
    await assert.rejects(t.run({ argv: ['sh', '-c', 'echo boom >&2; exit 7'] }), (e: unknown) => e instanceof MonoError && e.code === 'REMOTE_FAILED' && /status 7 on the box: boom/.test(e.message));
    await assert.rejects(t.run({ argv: ['sleep', '10'] }), (e: unknown) => e instanceof MonoError && e.code === 'SSH_TIMEOUT');
  } finally {
    await t.close();
  }
});

let silent: Server;
after(() => silent?.close());

test('an unreachable host fails fast with a clear error', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'mono-unreach-'));
  writeFileSync(join(dir, 'Procfile'), 'web: x\n');
  writeFileSync(join(dir, 'mono.yml'), `app: shop\nhost: root@127.0.0.1:${closedPort}\nssh:\n  identity: ${box.keyFile}\n  connect_timeout: 2s\n`);
  const refused = await mono(['setup'], { cwd: dir });
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, new RegExp(`error: cannot reach 127\\.0\\.0\\.1:${closedPort}: connection refused`));
  assert.match(refused.stderr, /hint: /);
  assert.ok(refused.ms < 3000, `took ${refused.ms} ms`);

  // A port that accepts TCP but never speaks SSH: the connect timeout applies.
  silent = createServer(() => {});
  const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
  writeFileSync(join(dir, 'mono.yml'), `app: shop\nhost: root@127.0.0.1:${port}\nssh:\n  identity: ${box.keyFile}\n  connect_timeout: 2s\n`);
  const hung = await mono(['setup'], { cwd: dir });
  assert.equal(hung.code, 3, hung.stderr);
  assert.match(hung.stderr, new RegExp(`error: no SSH answer from 127\\.0\\.0\\.1:${port} within 2 s`));
  assert.ok(hung.ms < 6000, `took ${hung.ms} ms`);
});

test('mono setup works through a sudo user that is not root (and a second run changes nothing)', async () => {
  const prepare = await boxSsh(
    box,
    [
      'useradd --create-home --shell /bin/bash admin',
      'usermod --password "*" admin',
      'install -d -m 700 -o admin -g admin /home/admin/.ssh',
      'install -m 600 -o admin -g admin /root/.ssh/authorized_keys /home/admin/.ssh/authorized_keys',
      'echo "admin ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/admin && chmod 440 /etc/sudoers.d/admin',
    ].join(' && '),
  );
  assert.equal(prepare.code, 0, prepare.stderr);
  const dir = projectFor(box, '', 'viasudo');
  const yml = join(dir, 'mono.yml');
  writeFileSync(yml, readFileSync(yml, 'utf8').replace('host: root@', 'host: admin@').replace(/nginx:\n  listen: .*\n/, `nginx:\n  listen: 127.0.0.1:${box.httpPort}\n  server_names: [viasudo.test]\n`));
  const first = await mono(['setup', '--verbose'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /admin@127\.0\.0\.1:\d+ \$ sudo -n -- /, '--verbose shows the commands, run through sudo');
  const second = await mono(['setup'], { cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /all \d+ steps unchanged/);
  const owner = await boxSsh(box, 'stat -c "%U %a" /srv/viasudo /etc/sudoers.d/mono-viasudo');
  assert.equal(owner.stdout, 'viasudo 750\nroot 440');
});

test('a wrong config key fails before any connection, with path and hint', async () => {
  const dir = projectFor(box, 'ngnix:\n  listen: 80\n');
  const r = await mono(['setup'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /mono\.yml has 1 problem/);
  assert.match(r.stderr, /ngnix: unknown key \(hint: did you mean nginx\?\)/);
  const alive = await boxSsh(box, 'true');
  assert.equal(alive.code, 0);
});
