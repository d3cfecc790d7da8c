// mono setup against a real booted Debian box: fresh run, idempotent second run, dry run, sudo rules, hardened units.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { quoteArg } from '../../src/transport/quote.js';
import { bootBox, boxSsh } from '../support/box.js';
import { mono, projectFor } from '../support/cli.js';

let box: BoxInfo;
let project: string;

const MANAGED = [
  '/srv/shop',
  '/var/backups/shop',
  '/usr/local/lib/mono',
  '/usr/local/bin/mono',
  '/etc/systemd/system/shop-web@.service',
  '/etc/systemd/system/shop-worker@.service',
  '/etc/nginx/sites-available/shop.conf',
  '/etc/nginx/sites-enabled/shop.conf',
  '/etc/nginx/mono/shop',
  '/etc/sudoers.d/mono-shop',
  '/etc/tmpfiles.d/mono-shop.conf',
  '/etc/systemd/system/shop-current.service',
  '/run/shop',
];

/** Every managed path with mode, owner, size, full-precision mtime, and a checksum for files. */
async function snapshot(): Promise<string> {
  const r = await boxSsh(box, `find ${MANAGED.join(' ')} -printf '%p %m %u %g %s %T@ %y\\n' | sort; find ${MANAGED.join(' ')} -type f -exec sha256sum {} + | sort`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  box = await bootBox('app');
  project = projectFor(box);
});


test('--dry-run on a fresh box prints the plan and changes nothing', async () => {
  const r = await mono(['setup', '--dry-run'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /would +deploy user shop/);
  assert.match(r.stderr, /\$ .*useradd --system/);
  assert.match(r.stderr, /nothing was changed \(dry run/);
  const state = await boxSsh(box, 'id shop 2>&1; ls -d /srv/shop /etc/systemd/system/shop-web@.service /usr/local/lib/mono 2>&1; true');
  assert.match(state.stdout, /no such user/);
  assert.match(state.stdout, /No such file or directory[\s\S]*No such file or directory[\s\S]*No such file or directory/);
});

test('mono setup provisions a fresh box', async () => {
  const r = await mono(['setup'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /box is set up: \d+ changed/);
  const checks = await boxSsh(
    box,
    [
      'id -un shop',
      'stat -c "%a %U %G" /srv/shop /srv/shop/shared/.env /run/shop /var/backups/shop /etc/sudoers.d/mono-shop /srv/shop/.ssh/authorized_keys',
      'systemctl is-active nginx',
      'mono --version',
      'node --version',
      'nginx -T 2>/dev/null | grep -c "proxy_pass http://unix:/run/shop/current.sock:"',
      'wc -l < /srv/shop/.mono/audit.log',
    ].join(' && '),
  );
  assert.equal(checks.code, 0, checks.stderr);
  const lines = checks.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 7), ['shop', '750 shop shop', '600 shop shop', '2750 shop www-data', '700 shop shop', '440 root root', '600 shop shop']);
  assert.equal(lines[7], 'active');
  assert.equal(lines[8], '0.1.0', 'the bundled agent runs on the box');
  assert.match(lines[9] ?? '', /^v18\./, "the box runs Debian 12's Node 18");
  assert.equal(lines[10], '1');
  assert.equal(lines[11], '1', 'one audit line for the setup');
  const verify = await boxSsh(box, 'systemd-analyze verify --man=no /etc/systemd/system/shop-web@.service /etc/systemd/system/shop-worker@.service 2>&1; echo "rc=$?"; systemd-analyze security shop-web@check.service 2>/dev/null | tail -1');
  assert.match(verify.stdout, /^rc=0\n/, `systemd-analyze verify prints nothing and succeeds: ${verify.stdout}`);
  const exposure = Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(verify.stdout)?.[1]);
  assert.ok(exposure <= 2.5, `systemd-analyze security rates the unit ${exposure} (want <= 2.5, "OK")`);
});

test('a second run reports every step unchanged and changes nothing (checksums and mtimes)', async () => {
  const before_ = await snapshot();
  const r = await mono(['setup', '--json'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; id?: string });
  const ends = events.filter((e) => e.type === 'step.end');
  assert.ok(ends.length >= 15, `expected every step, got ${ends.length}`);
  assert.deepEqual(ends.filter((e) => e.status !== 'unchanged').map((e) => e.id), []);
  assert.equal(await snapshot(), before_);
  const text = await mono(['setup'], { cwd: project });
  assert.match(text.stderr, /box is set up: all \d+ steps unchanged/);
});

test('a change that an earlier run left unfinished is redone (checked and reloaded)', async () => {
  const mark = await boxSsh(box, 'touch /etc/nginx/mono/shop/proxy.conf.mono-pending');
  assert.equal(mark.code, 0);
  const r = await mono(['setup', '--json'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  const changed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; id?: string }).filter((e) => e.type === 'step.end' && e.status === 'changed');
  assert.deepEqual(changed.map((e) => e.id), ['nginx-proxy']);
  const gone = await boxSsh(box, 'ls /etc/nginx/mono/shop/');
  assert.equal(gone.stdout, 'proxy.conf', 'the pending marker is gone');
});

test('the agent: a damaged file is put back, and a box with the single-file agent of older monos is moved to the folder', async () => {
  const chunk = (await boxSsh(box, 'cd /usr/local/lib/mono/agent && ls chunks | head -1')).stdout.trim();
  assert.match(chunk, /\.mjs$/);
  assert.equal((await boxSsh(box, `echo tampered >> /usr/local/lib/mono/agent/chunks/${chunk}`)).code, 0);
  const repaired = await mono(['setup', '--json'], { cwd: project });
  assert.equal(repaired.code, 0, repaired.stderr);
  const ends = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; id?: string; reason?: string }).filter((e) => e.type === 'step.end' && e.status === 'changed');
  assert.deepEqual(ends(repaired.stdout).map((e) => [e.id, e.reason]), [['agent', 'a file differs from its SHA256SUMS (damaged or edited)']]);
  // An older mono's layout: the bundle as one file, the wrapper pointing at it, no agent folder.
  // (A stand-in for the old agent that stays up, as the old scheduler would, when the service is restarted on it.)
  const legacy = await boxSsh(box, 'set -e; cd /usr/local/lib/mono; rm -rf agent agent-*; printf "#!/bin/sh\\nexec node /usr/local/lib/mono/mono.mjs \\"\\$@\\"\\n" > /usr/local/bin/mono; echo "setInterval(() => {}, 1 << 30);" > mono.mjs');
  assert.equal(legacy.code, 0, legacy.stderr);
  const upgraded = await mono(['setup', '--json'], { cwd: project });
  assert.equal(upgraded.code, 0, upgraded.stderr);
  assert.deepEqual(ends(upgraded.stdout).map((e) => [e.id, e.reason]), [['agent', 'missing'], ['agent-bin', 'content differs']]);
  const after = await boxSsh(box, 'cd /usr/local/lib/mono && ls -A && readlink agent && mono --version && (cd agent && sha256sum --quiet --strict -c SHA256SUMS && echo sums ok)');
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /^agent\nagent-[0-9a-f]{16}\npriv-shop\nagent-[0-9a-f]{16}\n\d+\.\d+\.\d+\nsums ok\n?$/, 'the old single file is gone');
  const scheduler = await boxSsh(box, 'systemctl is-active shop-cron.service && tr "\\0" " " < /proc/$(systemctl show -p MainPID --value shop-cron.service)/cmdline');
  assert.match(scheduler.stdout, /^active\nnode \/usr\/local\/lib\/mono\/agent\/mono\.mjs agent cron serve /, 'mono cron was restarted on the new agent');
  const again = await mono(['setup', '--json'], { cwd: project });
  assert.deepEqual(ends(again.stdout), [], 'and the next run changes nothing');
});

test('the deploy user can run what mono needs through sudo, and nothing else', async () => {
  const asShop = (cmd: string) => boxSsh(box, `su -s /bin/sh shop -c ${quoteArg(cmd)}`);
  const allowed = await asShop('sudo -n /usr/local/lib/mono/priv-shop is-active web r1; echo "rc=$?"');
  assert.match(allowed.stdout, /inactive\s+rc=3/, allowed.stdout + allowed.stderr);
  const direct = await asShop('sudo -n systemctl stop ssh');
  assert.notEqual(direct.code, 0);
  assert.match(direct.stderr, /password is required/);
  const viaHelper = await asShop('sudo -n /usr/local/lib/mono/priv-shop stop ssh r1');
  assert.equal(viaHelper.code, 64);
  assert.match(viaHelper.stderr, /unknown process type: ssh/);
  const smuggled = await asShop("sudo -n /usr/local/lib/mono/priv-shop stop web 'r1 ssh.service'");
  assert.equal(smuggled.code, 64);
  assert.match(smuggled.stderr, /bad release id/);
  const shell = await asShop('sudo -n /bin/sh -c id');
  assert.notEqual(shell.code, 0);
  const sshd = await boxSsh(box, 'systemctl is-active ssh');
  assert.equal(sshd.stdout.trim(), 'active');
});

test('the hardened unit runs a release as the deploy user with a read-only system', async () => {
  const prepare = await boxSsh(
    box,
    [
      'install -d -o shop -g shop /srv/shop/releases/r1/.mono/procs /srv/shop/.mono/instances/r1',
      `printf '%s\\n' 'id -un > /run/shop/probe' 'if touch /srv/shop/releases/r1/x 2>/dev/null; then echo writable >> /run/shop/probe; else echo readonly >> /run/shop/probe; fi' 'exec sleep 600' > /srv/shop/releases/r1/.mono/procs/web`,
      'chown -R shop:shop /srv/shop/releases/r1',
    ].join(' && '),
  );
  assert.equal(prepare.code, 0, prepare.stderr);
  const start = await boxSsh(box, `su -s /bin/sh shop -c 'sudo -n /usr/local/lib/mono/priv-shop start web r1' && sleep 1 && systemctl is-active shop-web@r1 && cat /run/shop/probe && systemctl show shop-web@r1 -p NoNewPrivileges -p ProtectSystem -p TimeoutStopUSec`);
  assert.equal(start.code, 0, start.stdout + start.stderr);
  assert.match(start.stdout, /^active\nshop\nreadonly\n/);
  assert.match(start.stdout, /NoNewPrivileges=yes/);
  assert.match(start.stdout, /ProtectSystem=strict/);
  assert.match(start.stdout, /TimeoutStopUSec=31min/);
  const stop = await boxSsh(box, "su -s /bin/sh shop -c 'sudo -n /usr/local/lib/mono/priv-shop stop web r1' && systemctl is-active shop-web@r1; true");
  assert.match(stop.stdout, /inactive/);
});

test('a template that fails its check is refused and the previous file stays', async () => {
  const broken = projectFor(box);
  mkdirSync(join(broken, 'templates', 'nginx'), { recursive: true });
  writeFileSync(join(broken, 'templates', 'nginx', 'proxy.conf'), 'this is not nginx syntax {\n');
  const beforeFile = await boxSsh(box, 'sha256sum /etc/nginx/mono/shop/proxy.conf');
  const r = await mono(['setup'], { cwd: broken });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: nginx -t rejected the new \/etc\/nginx\/mono\/shop\/proxy.conf; the previous version was put back/);
  assert.match(r.stderr, /hint: /);
  const afterFile = await boxSsh(box, 'sha256sum /etc/nginx/mono/shop/proxy.conf; systemctl is-active nginx; nginx -t 2>&1 | tail -1');
  assert.equal(afterFile.stdout.split('\n')[0], beforeFile.stdout.trim());
  assert.match(afterFile.stdout, /active\n.*test is successful/);
});

test('a TLS site renders, passes nginx -t for real, and redirects HTTP to the HTTPS port', async () => {
  const tlsPort = await freePort();
  const cert = await boxSsh(
    box,
    'openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=tls.test -days 2 -keyout /etc/ssl/private/tls-test.key -out /etc/ssl/certs/tls-test.pem 2>/dev/null && chmod 600 /etc/ssl/private/tls-test.key',
  );
  assert.equal(cert.code, 0, cert.stderr);
  const dir = projectFor(box, '', 'tlsshop');
  const yml = join(dir, 'mono.yml');
  writeFileSync(
    yml,
    readFileSync(yml, 'utf8').replace(
      /nginx:\n  listen: .*\n/,
      `nginx:\n  listen: 127.0.0.1:${box.httpPort}\n  server_names: [tls.test]\n  tls:\n    certificate: /etc/ssl/certs/tls-test.pem\n    key: /etc/ssl/private/tls-test.key\n    listen: 127.0.0.1:${tlsPort}\n`,
    ),
  );
  const r = await mono(['setup'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const probe = await boxSsh(
    box,
    `curl -s -o /dev/null -w '%{http_code} %{redirect_url}\\n' -H 'Host: tls.test' http://127.0.0.1:${box.httpPort}/x; curl -sk -o /dev/null -w '%{http_code}\\n' --resolve tls.test:${tlsPort}:127.0.0.1 https://tls.test:${tlsPort}/up`,
  );
  const [redirect, https] = probe.stdout.split('\n');
  assert.equal(redirect, `301 https://tls.test:${tlsPort}/x`);
  assert.equal(https, '502', 'TLS terminates in nginx; with no release deployed yet the upstream socket is missing');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
