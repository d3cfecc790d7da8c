// mono sandbox: an app box and an offsite box side by side, with real systemd, their own keys and ports, and a clean down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { boxPaths, readBox, sandboxDown, sandboxStatus, type BoxInfo } from '../../src/sandbox/index.js';
import { bootBox, boxSsh, downBox, uniqueBoxName } from '../support/box.js';

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

function mountedUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

async function ok(box: BoxInfo, command: string): Promise<string> {
  const r = await boxSsh(box, command);
  assert.equal(r.code, 0, `${command} failed in ${box.name}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

function assertGone(box: BoxInfo): void {
  assert.equal(alive(box.pid), false, `nspawn pid ${box.pid} still runs`);
  assert.deepEqual(mountedUnder(box.dir), [], 'mounts left behind');
  assert.equal(existsSync(box.dir), false, 'state dir left behind');
  assert.equal(readBox(box.name), undefined);
}

describe('sandbox: app and offsite boxes side by side', () => {
  let app: BoxInfo;
  let offsite: BoxInfo;

  before(async () => {
    // In parallel: also checks that two concurrent ups share one cache build and get distinct ports.
    [app, offsite] = await Promise.all([bootBox('app'), bootBox('offsite')]);
  });

  test('both boxes are up with systemd running, on distinct loopback ports', async () => {
    assert.equal(await ok(app, 'systemctl is-system-running'), 'running');
    assert.equal(await ok(offsite, 'systemctl is-system-running'), 'running');
    const ports = new Set([app.sshPort, app.httpPort, offsite.sshPort, offsite.httpPort]);
    assert.equal(ports.size, 4);
    assert.equal(await ok(app, 'hostname'), app.name);
    assert.match(await ok(app, `ss -ltnH 'sport = :${app.sshPort}'`), new RegExp(`127\\.0\\.0\\.1:${app.sshPort}`));
  });

  test('the app box runs sshd, nginx and PostgreSQL 15 (unix socket only), with Node 18', async () => {
    assert.equal(await ok(app, 'systemctl is-active ssh nginx postgresql postgresql@15-main'), 'active\nactive\nactive\nactive');
    assert.match(await ok(app, 'node --version'), /^v18\./);
    assert.equal(await ok(app, "cd / && runuser -u postgres -- psql -Atc 'select 1'"), '1');
    assert.equal(await ok(app, "cd / && runuser -u postgres -- psql -Atc 'show listen_addresses'"), '');
    assert.match(await ok(app, 'sshd -T | grep -E "^(passwordauthentication|permitrootlogin) " | sort'), /^passwordauthentication no\npermitrootlogin (prohibit-password|without-password)$/);
    assert.equal(await ok(app, 'test ! -e /etc/nginx/sites-enabled/default && echo gone'), 'gone');
  });

  test('the offsite box runs sshd only: nginx and PostgreSQL are masked and not running', async () => {
    assert.equal(await ok(offsite, 'systemctl is-active ssh'), 'active');
    const r = await boxSsh(offsite, 'systemctl is-active nginx postgresql postgresql@15-main');
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout.trim(), 'inactive\ninactive\ninactive');
    assert.equal((await boxSsh(offsite, 'systemctl is-enabled nginx postgresql')).stdout.trim(), 'masked\nmasked');
    assert.equal((await boxSsh(offsite, 'pgrep -x nginx; pgrep -x postgres')).stdout.trim(), '');
  });

  test('each box has its own host key, pinned in its own known_hosts, and strict checking holds', async () => {
    const pinned = (box: BoxInfo): string => {
      const line = readFileSync(box.knownHostsFile, 'utf8').trim();
      assert.match(line, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${box.sshPort} ssh-ed25519 \\S+$`));
      return line.split(' ').slice(1).join(' ');
    };
    const appKey = pinned(app);
    const offsiteKey = pinned(offsite);
    assert.notEqual(appKey, offsiteKey);
    assert.equal((await ok(app, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).split(' ').slice(0, 2).join(' '), appKey);
    assert.equal((await ok(offsite, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).split(' ').slice(0, 2).join(' '), offsiteKey);
    assert.equal(await ok(app, 'ls /etc/ssh | grep -c "^ssh_host_.*_key$"'), '1');
    // The app box's port with the offsite box's known_hosts: the host key does not match, so ssh refuses.
    const wrong = await boxSsh({ ...app, knownHostsFile: offsite.knownHostsFile }, 'true');
    assert.equal(wrong.code, 255);
    assert.match(wrong.stderr, /host key verification failed|no .* host key is known|REMOTE HOST IDENTIFICATION/i);
    for (const box of [app, offsite]) assert.equal(statSync(box.keyFile).mode & 0o777, 0o600);
  });

  test('nginx can serve on the reserved httpPort, reachable from this machine', async () => {
    const site = `server { listen 127.0.0.1:${app.httpPort}; location / { return 200 "hello from ${app.name}\\n"; } }\n`;
    const r = await boxSsh(app, 'cat > /etc/nginx/sites-enabled/t.conf && nginx -t -q && systemctl reload nginx', { input: site });
    assert.equal(r.code, 0, r.stderr);
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      body = await fetch(`http://127.0.0.1:${app.httpPort}/`).then((r) => r.text(), () => '');
      if (body === '') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, `hello from ${app.name}\n`);
  });

  test('systemd-run with hardening options and systemd-analyze verify work inside', async () => {
    assert.equal(await ok(app, 'systemd-run --quiet --wait --pipe -p ProtectSystem=strict -p PrivateTmp=yes -p NoNewPrivileges=yes -p DynamicUser=yes echo hardened'), 'hardened');
    await ok(app, "printf '[Service]\\nExecStart=/bin/true\\n' > /tmp/t.service && systemd-analyze verify /tmp/t.service");
  });

  test('status lists both boxes as alive with sshd answering', async () => {
    const status = await sandboxStatus();
    for (const box of [app, offsite]) {
      const s = status.find((b) => b.name === box.name);
      assert.ok(s, `${box.name} missing from status`);
      assert.deepEqual({ alive: s.alive, mounted: s.mounted, sshd: s.sshd, pid: s.info?.pid }, { alive: true, mounted: true, sshd: true, pid: box.pid });
    }
  });

  test('down stops nspawn, unmounts the overlay and removes the state dir; a second down is a no-op', async () => {
    assert.equal(alive(app.pid), true);
    assert.deepEqual(mountedUnder(app.dir), [app.rootDir]);
    await Promise.all([downBox(app), downBox(offsite)]);
    assertGone(app);
    assertGone(offsite);
    await sandboxDown(app.name);
    assertGone(app);
  });
});

describe('sandbox: cleanup of broken and abandoned boxes', () => {
  test('down removes a half-created box (no state.json, no process)', async () => {
    const name = uniqueBoxName();
    const paths = boxPaths(name);
    for (const dir of [paths.upper, paths.work, paths.root]) mkdirSync(dir, { recursive: true });
    writeFileSync(`${paths.upper}/junk`, 'x');
    await sandboxDown(name);
    assert.equal(existsSync(paths.dir), false);
  });

  test('a test process that is terminated mid-run leaves no box, mount or state behind', async () => {
    const name = uniqueBoxName();
    const helper = new URL('../support/box.ts', import.meta.url).pathname;
    const script = `const { bootBox } = await import(${JSON.stringify(helper)}); const box = await bootBox('app', ${JSON.stringify(name)}); process.stdout.write('BOX ' + JSON.stringify(box) + '\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const box = await new Promise<BoxInfo>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('BOX '));
        if (line !== undefined) resolve(JSON.parse(line.slice(4)) as BoxInfo);
      });
      child.on('exit', (code) => reject(new Error(`child exited (${String(code)}) before the box was up: ${out}`)));
    });
    assert.equal(alive(box.pid), true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    assertGone(box);
  });
});
