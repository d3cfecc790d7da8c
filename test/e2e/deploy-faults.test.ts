// Deploy faults on a real box: a full disk during upload, a connection cut mid-upload, and a tarball release.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { appProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono } from '../support/cli.js';

let box: BoxInfo;

before(async () => {
  box = await bootBox('app');
});

function events(stdout: string): { type: string; [k: string]: unknown }[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
}

async function served(port: number): Promise<string> {
  return (await boxSsh(box, `curl -s --max-time 5 http://127.0.0.1:${port}/`)).stdout.trim();
}

test('the disk fills during upload: clear error, nothing switched, nothing half-stored, the next deploy works', async () => {
  const mount = await boxSsh(box, 'mkdir -p /srv/tiny && mount -t tmpfs -o size=24m tmpfs /srv/tiny');
  assert.equal(mount.code, 0, mount.stderr);
  const app = appProject(box, { app: 'tiny', yaml: 'release:\n  compress: false\n' });
  assert.equal((await mono(['setup'], { cwd: app.dir })).code, 0);
  const first = await mono(['deploy'], { cwd: app.dir });
  assert.equal(first.code, 0, first.stderr);
  const before_ = await served(box.httpPort);
  assert.match(before_, /^version 1 release /);

  app.write('VERSION', '2\n');
  app.write('assets/big-1.bin', randomBytes(15_000_000));
  app.write('assets/big-2.bin', randomBytes(15_000_000));
  const full = await mono(['deploy'], { cwd: app.dir });
  assert.equal(full.code, 5, full.stderr);
  assert.match(full.stderr, /error: the box ran out of disk space in \/srv\/tiny while receiving the release/);
  assert.match(full.stderr, /hint: free space .* nothing was switched/);
  assert.equal(await served(box.httpPort), before_, 'the previous release still serves');
  const leftovers = await boxSsh(box, 'find /srv/tiny/.mono/store -type f -name \'*.partial\' | wc -l; ls /srv/tiny/releases | grep -c partial; test -d /srv/tiny/.mono/lock && echo locked || echo unlocked');
  assert.deepEqual(leftovers.stdout.split('\n'), ['0', '0', 'unlocked']);

  const { rmSync } = await import('node:fs');
  rmSync(`${app.dir}/assets`, { recursive: true });
  const again = await mono(['deploy'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  assert.match(await served(box.httpPort), /^version 2 release /);
  await boxSsh(box, 'systemctl stop "tiny-*@*" ; true');
});

test('the connection is cut mid-upload: clear error, then re-running sends only what is missing', async () => {
  const app = appProject(box, { app: 'cut', yaml: `nginx:\n  listen: 127.0.0.1:${box.httpPort}\n  server_names: [cut.test]\n`.replace(/^/, '') });
  // appProject already wrote an nginx block: replace it so this app does not claim default_server on the same port.
  const { readFileSync, writeFileSync } = await import('node:fs');
  const yml = `${app.dir}/mono.yml`;
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(/nginx:\n  listen: .*\n(?=health)/, ''));
  for (let i = 0; i < 40; i++) app.write(`data/blob-${i}.bin`, randomBytes(2_000_000));
  assert.equal((await mono(['setup'], { cwd: app.dir })).code, 0);

  // On the box: as soon as a few blobs are stored, kill the deploy user's SSH session (the connection drops).
  const cutter = boxSsh(box, "for i in $(seq 1 600); do n=$(find /srv/cut/.mono/store -type f -not -name '*.partial' 2>/dev/null | wc -l); if [ \"$n\" -ge 3 ]; then pkill -KILL -f '^sshd: cut' && echo cut; exit 0; fi; sleep 0.05; done; echo never", { timeoutMs: 60_000 });
  const cut = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal((await cutter).stdout.trim(), 'cut');
  assert.equal(cut.code, 3, cut.stderr);
  assert.match(cut.stderr, /error: the SSH connection to \S+ dropped/);
  assert.match(cut.stderr, /hint: .*run the same deploy again/);

  const stored = Number((await boxSsh(box, "find /srv/cut/.mono/store -type f -not -name '*.partial' | wc -l")).stdout.trim());
  assert.ok(stored >= 3, `blobs that arrived whole are kept (${stored})`);
  const again = await mono(['deploy', '--json'], { cwd: app.dir });
  assert.equal(again.code, 0, again.stderr);
  const done = events(again.stdout).find((e) => e.type === 'deploy.done') as { sentBlobs: number; files: number } | undefined;
  assert.ok(done !== undefined);
  assert.ok(done.sentBlobs <= 44 - stored, `the re-run sent ${done.sentBlobs} blobs; ${stored} were already there`);
  const served_ = await boxSsh(box, `curl -s -H 'Host: cut.test' http://127.0.0.1:${box.httpPort}/`);
  assert.match(served_.stdout, /^version 1 release /);
  await boxSsh(box, 'systemctl stop "cut-*@*"; true');
});

test('a tarball can be deployed with --from', async () => {
  const app = appProject(box, { app: 'tarred' });
  const { readFileSync, writeFileSync } = await import('node:fs');
  const yml = `${app.dir}/mono.yml`;
  writeFileSync(yml, readFileSync(yml, 'utf8').replace(/nginx:\n  listen: (.*)\n/, 'nginx:\n  listen: $1\n  server_names: [tarred.test]\n'));
  app.write('VERSION', 'from-a-tarball\n');
  execFileSync('tar', ['-czf', `${app.dir}/release.tgz`, '-C', app.dir, 'Procfile', 'server.js', 'VERSION']);
  assert.equal((await mono(['setup'], { cwd: app.dir })).code, 0);
  const r = await mono(['deploy', '--from', 'release.tgz'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  const served_ = await boxSsh(box, `curl -s -H 'Host: tarred.test' http://127.0.0.1:${box.httpPort}/`);
  assert.match(served_.stdout, /^version from-a-tarball release /);
  const files = await boxSsh(box, 'ls /srv/tarred/current/');
  assert.equal(files.stdout, 'Procfile\nVERSION\nserver.js');
});
