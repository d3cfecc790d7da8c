// The sandbox cache key and the pure builders around the sandbox (argv, cgroups, drop-ins, progress filter).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sshdDropIn } from '../../src/sandbox/configure.js';
import { boxCgroupDirs, systemdCgroupMounts } from '../../src/sandbox/cgroups.js';
import { nspawnArgv, startArgv } from '../../src/sandbox/nspawn.js';
import { cacheKey, PACKAGES, RECIPE, RECIPE_VERSION, SUITE } from '../../src/sandbox/recipe.js';
import { debootstrapArgv, phaseReporter } from '../../src/sandbox/rootfs.js';
import { sshArgv } from '../../src/sandbox/ssh.js';
import { checkPrerequisites } from '../../src/sandbox/prereq.js';
import { MonoError } from '../../src/errors.js';

test('the cache key is stable: the same recipe gives the same short key', () => {
  const a = cacheKey({ suite: 'bookworm', packages: ['systemd', 'nginx-light'], version: 1 });
  const b = cacheKey({ suite: 'bookworm', packages: ['systemd', 'nginx-light'], version: 1 });
  assert.equal(a, b);
  assert.match(a, /^bookworm-[0-9a-f]{12}$/);
  // Pinned so that an accidental change of the key function (which would rebuild every cache) is noticed.
  assert.equal(cacheKey({ suite: 'bookworm', packages: ['a', 'b'], version: 1 }), 'bookworm-557959fc0c23');
});

test('the cache key does not depend on package order or duplicates', () => {
  const forward = cacheKey({ suite: SUITE, packages: PACKAGES, version: RECIPE_VERSION });
  const reversed = cacheKey({ suite: SUITE, packages: [...PACKAGES].reverse(), version: RECIPE_VERSION });
  const duplicated = cacheKey({ suite: SUITE, packages: [...PACKAGES, 'systemd', ' curl '], version: RECIPE_VERSION });
  assert.equal(forward, reversed);
  assert.equal(forward, duplicated);
  assert.equal(forward, cacheKey(RECIPE));
});

test('the cache key changes with the packages, the suite and the recipe version', () => {
  const base = { suite: 'bookworm', packages: ['systemd', 'openssh-server'], version: 1 };
  const key = cacheKey(base);
  assert.notEqual(cacheKey({ ...base, packages: [...base.packages, 'curl'] }), key);
  assert.notEqual(cacheKey({ ...base, packages: ['systemd'] }), key);
  assert.notEqual(cacheKey({ ...base, suite: 'trixie' }), key);
  assert.notEqual(cacheKey({ ...base, version: 2 }), key);
});

test('the recipe has what the boxes need', () => {
  for (const p of ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'nginx-light', 'postgresql', 'nodejs', 'zstd', 'ca-certificates', 'procps', 'iproute2', 'rsync', 'curl', 'less']) {
    assert.ok(PACKAGES.includes(p), p);
  }
  assert.equal(SUITE, 'bookworm');
});

test('debootstrap argv', () => {
  assert.deepEqual(debootstrapArgv({ suite: 'bookworm', packages: ['systemd', 'dbus'], version: 1 }, '/c/root.partial.1', 'http://deb.debian.org/debian'), [
    'debootstrap',
    '--variant=minbase',
    '--include=systemd,dbus',
    'bookworm',
    '/c/root.partial.1',
    'http://deb.debian.org/debian',
  ]);
});

test('nspawn argv boots the root without registering with machined', () => {
  assert.deepEqual(nspawnArgv({ rootDir: '/var/lib/mono/sandbox/app/root', machine: 'app' }), [
    'systemd-nspawn',
    '--register=no',
    '--keep-unit',
    '--link-journal=no',
    '-D',
    '/var/lib/mono/sandbox/app/root',
    '--boot',
    '--machine=app',
  ]);
});

test('nspawn starts inside the box cgroups through a fixed wrapper that keeps the pid', () => {
  const argv = startArgv({ rootDir: '/h/app/root', machine: 'app', logFile: '/h/app/console.log', cgroupProcs: ['/cg/u/mono-sandbox/app/cgroup.procs', '/cg/s/mono-sandbox/app/cgroup.procs'] }, '/usr/bin/systemd-nspawn');
  assert.deepEqual(argv.slice(3), [
    'mono-sandbox',
    '2',
    '/cg/u/mono-sandbox/app/cgroup.procs',
    '/cg/s/mono-sandbox/app/cgroup.procs',
    '/usr/bin/systemd-nspawn',
    '--register=no',
    '--keep-unit',
    '--link-journal=no',
    '-D',
    '/h/app/root',
    '--boot',
    '--machine=app',
  ]);
  assert.deepEqual(argv.slice(0, 2), ['/bin/sh', '-c']);
  assert.ok(!(argv[2] ?? '').includes('app'), 'no value is spliced into the wrapper script');
});

test('box cgroups: the unified and name=systemd hierarchies only, one directory per box', () => {
  const mountinfo = [
    '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const mounts = systemdCgroupMounts(mountinfo);
  assert.deepEqual(mounts, ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']);
  assert.deepEqual(boxCgroupDirs('app', mounts), ['/sys/fs/cgroup/systemd/mono-sandbox/app', '/sys/fs/cgroup/unified/mono-sandbox/app']);
  assert.deepEqual(systemdCgroupMounts('25 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate'), ['/sys/fs/cgroup']);
});

test('ssh argv: own key, strict host key checking against the box known_hosts, no user config', () => {
  const argv = sshArgv({ sshPort: 2222, keyFile: '/b/id_ed25519', knownHostsFile: '/b/known_hosts' }, ['systemctl is-system-running']);
  assert.deepEqual(argv, [
    'ssh',
    '-F', 'none',
    '-i', '/b/id_ed25519',
    '-p', '2222',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'UserKnownHostsFile=/b/known_hosts',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=2',
    '-o', 'LogLevel=ERROR',
    'root@127.0.0.1',
    '--',
    'systemctl is-system-running',
  ]);
});

test('sshd drop-in: own port on loopback, own host key, keys only', () => {
  assert.equal(
    sshdDropIn(40123),
    [
      '# Written by mono sandbox: this box listens on its own loopback port and uses only its own host key.',
      'Port 40123',
      'ListenAddress 127.0.0.1',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      '',
    ].join('\n'),
  );
});

test('debootstrap progress is cut down to steps and milestones', () => {
  const seen: string[] = [];
  const report = phaseReporter((m) => seen.push(m));
  report('I: Retrieving InRelease\nI: Retrieving Packages\nI: Validating Packages\nI: Retrieving adduser 3.134\nI: Validating adduser 3.134\nI: Extracting adduser...\nI: Extr');
  report('acting apt...\nI: Unpacking required packages...\nI: Unpacking adduser...\nI: Unpacking the base system...\nW: something odd\nI: Base system installed successfully.\n');
  assert.deepEqual(seen, [
    'debootstrap: Retrieving InRelease',
    'debootstrap: Validating Packages',
    'debootstrap: Extracting adduser...',
    'debootstrap: Unpacking required packages...',
    'debootstrap: Unpacking the base system...',
    'debootstrap: W: something odd',
    'debootstrap: Base system installed successfully.',
  ]);
});

test('a missing tool names the Debian package to install', (t) => {
  if (process.getuid?.() !== 0) return t.skip('the root check comes first');
  const missing = new Set(['debootstrap', 'ssh-keygen']);
  assert.throws(
    () => checkPrerequisites((tool) => (missing.has(tool) ? undefined : `/usr/bin/${tool}`)),
    (e: unknown) =>
      e instanceof MonoError &&
      e.code === 'PREREQ_MISSING' &&
      e.exitCode === 6 &&
      e.message === 'mono sandbox needs debootstrap, ssh-keygen, which are not installed' &&
      e.hint === 'apt-get install debootstrap openssh-client',
  );
});
