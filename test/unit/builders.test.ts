import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureDir, fileState, installStaged, symlink, writeStaged } from '../../src/commands/files.js';
import { addSystemUser, aptInstall, nginxReload, nginxTest, packageStatus, systemdVerify, visudoCheck } from '../../src/commands/system.js';
import { sudoArgv } from '../../src/commands/cmd.js';
import { missingPackages, packageNeeds } from '../../src/ops/setup/system-steps.js';
import { parseFacts } from '../../src/ops/setup/facts.js';
import { compareFileState, sha256 } from '../../src/ops/setup/managed-file.js';

test('system builders give exact argv', () => {
  assert.deepEqual(aptInstall(['nginx', 'zstd']).argv, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', 'nginx', 'zstd']);
  assert.deepEqual(packageStatus(['nginx']).argv, ['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', 'nginx']);
  assert.deepEqual(addSystemUser('shop', '/srv/shop').argv, ['useradd', '--system', '--user-group', '--home-dir', '/srv/shop', '--no-create-home', '--shell', '/bin/bash', '--comment', 'mono app user', 'shop']);
  assert.deepEqual(systemdVerify('/var/lib/mono/staging/shop/shop-web@.service').argv, ['systemd-analyze', 'verify', '--man=no', '/var/lib/mono/staging/shop/shop-web@.service']);
  assert.deepEqual(nginxTest().argv, ['nginx', '-t', '-q']);
  assert.deepEqual(nginxReload().argv, ['systemctl', 'reload-or-restart', 'nginx']);
  assert.deepEqual(visudoCheck('/tmp/s').argv, ['visudo', '-c', '-q', '-f', '/tmp/s']);
  assert.deepEqual(sudoArgv(['systemctl', 'daemon-reload']), ['sudo', '-n', '--', 'systemctl', 'daemon-reload']);
});

test('file builders pass values as positional parameters, never inside the script', () => {
  const hostile = '/srv/x; rm -rf /';
  for (const c of [fileState(hostile), ensureDir(hostile, '0750', 'shop', 'shop'), writeStaged(hostile, 'data'), installStaged(hostile, hostile, '0644', 'root', 'root'), symlink(hostile, hostile)]) {
    assert.equal(c.argv[0], 'sh');
    assert.equal(c.argv[1], '-c');
    assert.ok(!(c.argv[2] ?? '').includes(hostile), 'the script itself never contains a value');
    assert.equal(c.argv[3], 'mono');
    assert.ok(c.argv.slice(4).includes(hostile));
    assert.equal(c.privileged, true);
  }
  assert.equal(fileState('/x').mutates, false);
  assert.equal(writeStaged('/x', 'secret').stdin, 'secret', 'content travels on stdin');
  assert.ok(!writeStaged('/x', 'secret').argv.includes('secret'));
});

test('package needs: any nginx flavour counts, the PostgreSQL client matches the server', () => {
  const facts = parseFacts('os=debian\nuid=0\nsudo=root\npg_servers=15 \nsystemd=systemd\n');
  const wanted = packageNeeds(facts, { age: false });
  assert.ok(wanted.some((w) => w[0] === 'postgresql-client-15'));
  const dpkg = 'nginx-light installed\nnodejs installed\nsudo installed\nzstd not-installed\nca-certificates installed\ncurl installed\npostgresql-client-15 installed\n';
  assert.deepEqual(missingPackages(dpkg, wanted), ['zstd']);
});

test('file state comparison names what differs', () => {
  const want = { mode: '0644', owner: 'root', group: 'root', content: 'x\n' };
  assert.deepEqual(compareFileState('missing\n', want), { ok: false, reason: 'missing' });
  assert.deepEqual(compareFileState(`644 root root regular file\n${sha256('x\n')}\n`, want), { ok: true });
  assert.deepEqual(compareFileState(`600 root root regular file\n${sha256('x\n')}\n`, want), { ok: false, reason: 'mode 600, want 0644' });
  assert.deepEqual(compareFileState(`644 root root regular file\n${sha256('y\n')}\n`, want), { ok: false, reason: 'content differs' });
  assert.deepEqual(compareFileState(`644 shop root regular file\n${sha256('x\n')}\n`, want), { ok: false, reason: 'owner shop:root, want root:root' });
  assert.deepEqual(compareFileState(`644 root root regular file\n${sha256('x\n')}\npending\n`, want), { ok: false, reason: 'an earlier run stopped before checking it and reloading' });
  assert.deepEqual(compareFileState('missing\npending\n', want), { ok: false, reason: 'missing' });
});
