import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { MonoError } from '../../src/errors.js';
import { tenantVariable } from '../../src/config/types.js';
import { printable } from '../../src/ops/show-config.js';
import { starterConfig } from '../../src/ops/init.js';

function project(procfile = 'web: node server.js\nworker: node worker.js\nrelease: node migrate.js\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mono-config-'));
  writeFileSync(join(dir, 'Procfile'), procfile);
  return dir;
}

function problems(yaml: string, dir = project(), env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, join(dir, 'mono.yml'), env);
  } catch (error) {
    assert.ok(error instanceof MonoError, String(error));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.exitCode, 2);
    return [...error.details];
  }
  assert.fail('config was accepted');
}

const BASE = 'app: shop\nhost: root@203.0.113.7\n';

test('a process type can have its own drain budget; the others keep drain_timeout', () => {
  const config = parseConfig(BASE + 'handover:\n  drain_timeout: 10m\n  drain_timeouts:\n    worker: 2h\n', join(project(), 'mono.yml'), {});
  assert.deepEqual(config.handover, { drainTimeoutMs: 10 * 60_000, drainTimeoutsMs: { worker: 2 * 3600_000 }, verifyWindowMs: 5000, listen: 'socket', strategy: 'nginx', tenantPinTimeoutMs: 30 * 60_000 });
});

test('handover.tenant_key names the tenant by host, a header or a cookie', () => {
  const parse = (key: string) => parseConfig(BASE + `handover:\n  tenant_key: "${key}"\n  tenant_pin_timeout: 2h\n`, join(project(), 'mono.yml'), {}).handover;
  assert.deepEqual(parse('host').tenantKey, { kind: 'host', name: 'host' });
  assert.deepEqual(parse('header:X-Tenant').tenantKey, { kind: 'header', name: 'X-Tenant' });
  assert.deepEqual(parse('cookie:tenant_id').tenantKey, { kind: 'cookie', name: 'tenant_id' });
  assert.equal(parse('host').tenantPinTimeoutMs, 2 * 3600_000);
  assert.equal(tenantVariable({ kind: 'header', name: 'X-Tenant' }), '$http_x_tenant');
  assert.equal(tenantVariable({ kind: 'cookie', name: 'tenant_id' }), '$cookie_tenant_id');
  assert.equal(tenantVariable({ kind: 'host', name: 'host' }), '$host');
});

test('a minimal config gets every default', () => {
  const dir = project();
  const config = parseConfig(BASE, join(dir, 'mono.yml'), {});
  assert.equal(config.user, 'shop');
  assert.equal(config.root, '/srv/shop');
  assert.deepEqual(config.target, { user: 'root', host: '203.0.113.7', port: 22 });
  assert.deepEqual(Object.keys(config.processes), ['web', 'worker', 'release']);
  assert.equal(config.health.path, '/up');
  assert.equal(config.handover.drainTimeoutMs, 30 * 60_000);
  assert.deepEqual(config.handover.drainTimeoutsMs, {});
  assert.deepEqual(config.nginx.listen, { port: 80 });
  assert.equal(config.backups.dir, '/var/backups/shop');
  assert.equal(config.ssh.connectTimeoutMs, 10_000);
});

const TABLE: readonly (readonly [string, string, readonly string[]])[] = [
  ['missing required keys', 'ssh: {}\n', ['app: is required (hint: for example: app: shop)', 'host: is required (hint: write it as user@host or user@host:port, for example root@203.0.113.7:22)']],
  ['unknown key with a suggestion', BASE + 'nginx:\n  server_name: [a.example.com]\n', ['nginx.server_name: unknown key (hint: did you mean server_names?)']],
  ['unknown top-level key', BASE + 'colour: blue\n', ['colour: unknown key (hint: allowed here: app, host, user, root, ssh, procfile, processes, health, handover, nginx, release, env_file, env_command, shared, databases, backups, restore, schedules, checks, notifications)']],
  ['wrong type', BASE + 'shared: storage\n', ['shared: expected array, got "storage"']],
  ['bad app name', 'app: Shop_1\nhost: root@h\n', ['app: expected a short lower-case name: letters, digits and "-", starting with a letter (at most 31 characters) (hint: for example: app: shop)']],
  ['bad host', 'app: shop\nhost: 203.0.113.7\n', ['host: expected user@host[:port], the user is missing (hint: write it as user@host or user@host:port, for example root@203.0.113.7:22)']],
  ['bad port in listen', BASE + 'nginx:\n  listen: "80a"\n', ['nginx.listen: expected a port (1-65535) or address:port, got "80a" (hint: for example: 80, or 127.0.0.1:8080)']],
  ['bad duration', BASE + 'handover:\n  drain_timeout: forever\n', ['handover.drain_timeout: expected a duration such as 30s, 10m, 2h or 7d']],
  [
    'drain budget of an unknown or one-off process type',
    BASE + 'handover:\n  drain_timeouts:\n    wroker: 2h\n    release: 1h\n',
    [
      'handover.drain_timeouts.wroker: "wroker" is not a process type of this app (hint: the process types are: web, worker, release)',
      'handover.drain_timeouts.release: the release command runs once and is not drained (hint: remove it; drain budgets apply to long-running process types)',
    ],
  ],
  ['tenant key that nginx cannot name', BASE + 'handover:\n  tenant_key: "header:X Tenant;"\n', ['handover.tenant_key: expected host, header:<Name> or cookie:<name>']],
  ['a process type named like mono\'s bridge units', BASE + 'processes:\n  web: bin/web\n  bridge: bin/bridge\n', ['processes: the process type name "bridge" is taken by mono (<app>-bridge@ units forward a release\'s socket to its port) (hint: rename that process type, for example to "bridge-worker")']],
  ['TLS half configured', BASE + 'nginx:\n  tls:\n    certificate: /etc/ssl/shop.pem\n', ['nginx.tls.key: is required when the other TLS file is set (hint: give both nginx.tls.certificate and nginx.tls.key, or neither)']],
  ['hostile root path', BASE + 'root: "/srv/x; rm -rf /"\n', ["root: expected an absolute path on the box without spaces, quotes or ; { } $ \\"]],
  ['invalid cron', BASE + 'schedules:\n  backup: "every night"\n', ['schedules.backup: "every night" is not a valid cron expression: expected 5 or 6 fields but got 2 (hint: use five fields: minute hour day-of-month month day-of-week, for example "0 3 * * *" (a sixth field in front is seconds), or "off")']],
  ['cron field out of range, with a timeout', BASE + 'schedules:\n  disk:\n    cron: "61 * * * *"\n    timeout: 1m\n', ['schedules.disk.cron: "61 * * * *" is not a valid cron expression: 61 is a invalid expression for minute (hint: use five fields: minute hour day-of-month month day-of-week, for example "0 3 * * *" (a sixth field in front is seconds), or "off")']],
  ['unknown job', BASE + 'schedules:\n  backups: "0 3 * * *"\n', ['schedules.backups: unknown key (hint: did you mean backup?)']],
  ['scheduled scratch drill', BASE + 'databases:\n  - name: shopdb\nrestore:\n  target: scratch\n', ['restore.target: a scratch drill needs sudo to create its database, and the scheduler on the box runs without it (hint: set schedules.restore_test: off and run mono restore-test from your laptop or CI, or use restore.target: cluster)']],
  ['scratch drill set to a schedule', BASE + 'databases:\n  - name: shopdb\nrestore:\n  target: scratch\nschedules:\n  restore_test: "0 4 * * 0"\n', ['schedules.restore_test: a scratch drill needs sudo to create its database, and the scheduler on the box runs without it (hint: set schedules.restore_test: off and run mono restore-test from your laptop or CI, or use restore.target: cluster)']],
  ['ping URL for a job mono does not run', BASE + 'notifications:\n  ping:\n    prune: https://hc-ping.com/x\n', ['notifications.ping.prune: is not a job mono runs (hint: ping URLs can be set for: backup, restore_test, prune_releases, prune_backups, disk, tls, health, stale_lock)']],
  ['smoke check without a verdict', BASE + 'restore:\n  checks:\n    - name: orders\n      sql: SELECT count(*) FROM orders\n', ['restore.checks[0]: a check needs expect or max_age (hint: add expect: "<value>" or max_age: 6h)']],
  ['missing env secret', BASE + 'notifications:\n  webhook: $MONO_HOOK\n', ['notifications.webhook: environment variable MONO_HOOK is not set (hint: export MONO_HOOK=… before running mono, or write the value itself)']],
  ['offsite on the box itself', BASE + 'backups:\n  offsite:\n    host: backup@203.0.113.7\n    path: /srv/backups\n', ['backups.offsite.host: is the app box itself (hint: an offsite copy must live on another machine, or it is lost with the box)']],
  ['app root hidden by ProtectHome', BASE + 'root: /home/shop\n', ["root: /home/shop is hidden from the app by the unit's ProtectHome=yes (hint: put the app under /srv (the default /srv/<app>) or another folder outside /home, /root and /run/user)"]],
  ['env file and env command together', BASE + 'env_file: .env\nenv_command: pass show shop\n', ['env_command: cannot be used together with env_file (hint: keep one: env_file uploads a local file, env_command uploads the output of a command)']],
  ['shared path escaping the release', BASE + 'shared: [storage, ../etc]\n', ['shared[1]: "../etc" is not a plain relative path inside the release (hint: use paths such as storage or log/app.log (no leading /, no ..))']],
  ['keep zero releases', BASE + 'release:\n  keep: 0\n', ['release.keep: keep at least 1 release']],
  ['root as app user', BASE + 'user: root\n', ['user: the app must not run as root (hint: pick an unprivileged name; mono setup creates the user)']],
  ['no web process', BASE + 'processes:\n  worker: bin/worker\n', ['processes: there is no "web" process type, so nginx has nothing to send requests to (hint: add a line such as "web: bin/server" (it listens on $MONO_LISTEN))']],
  ['no web process without a proxy', BASE + 'processes:\n  worker: bin/worker\nhandover:\n  strategy: socket\n  public_listen: 8080\n', ['processes: there is no "web" process type, so nothing serves handover.public_listen (handover.strategy: socket) (hint: add a line such as "web: bin/server" (mono/runtime finds where to listen by itself))']],
  ['socket strategy without an address', BASE + 'handover:\n  strategy: socket\n', ['handover.public_listen: is required with handover.strategy: socket (hint: give the port, or address:port, your clients connect to, for example 8080 or 0.0.0.0:80 (plain HTTP: mono checks the app there over HTTP))']],
  ['public address with nginx in front', BASE + 'handover:\n  public_listen: 8080\n', ['handover.public_listen: is only used with handover.strategy socket or bind-retry (hint: remove it (with nginx in front, clients connect to nginx.listen), or set handover.strategy: socket)']],
  [
    'per-tenant cutover without a proxy',
    BASE + 'handover:\n  strategy: socket\n  public_listen: 8080\n  tenant_key: header:X-Tenant\n',
    [
      "handover.tenant_key: per-tenant cutover is not possible with handover.strategy: socket: without a proxy nothing can send a tenant's requests to the old version while the new one serves the others (hint: use handover.strategy: nginx for per-tenant cutover, or remove handover.tenant_key (the old version still finishes its running jobs before it exits))",
    ],
  ],
  ['bind-retry on a privileged port', BASE + 'handover:\n  strategy: bind-retry\n  public_listen: 80\n', ['handover.public_listen: port 80 needs a privilege the hardened unit does not give the app (binding below 1024) (hint: use handover.strategy: socket, where systemd binds the port and hands it over, or a port from 1024 up)']],
  ['unknown strategy', BASE + 'handover:\n  strategy: proxy\n', ['handover.strategy: expected nginx, socket or bind-retry']],
  ['YAML syntax error', 'app: shop\n  host: [\n', ['line 1: YAML syntax: Nested mappings are not allowed in compact mappings (hint: check the indentation and quoting on that line)']],
];

for (const [name, yaml, expected] of TABLE) {
  test(`invalid config: ${name}`, () => {
    assert.deepEqual(problems(yaml), expected);
  });
}

test('a scratch drill target is fine once the scheduled drill is off', () => {
  const config = parseConfig(BASE + 'databases:\n  - name: shopdb\nrestore:\n  target: scratch\nschedules:\n  restore_test: "off"\n', join(project(), 'mono.yml'), {});
  assert.equal(config.restore.target, 'scratch');
  assert.deepEqual(config.jobs.map((j) => j.name).filter((n) => n.startsWith('restore')), []);
});

test('every problem is reported at once', () => {
  const found = problems('app: Shop\nhost: nohost\nnginx:\n  listen: 0\n  servr: x\n');
  assert.deepEqual(
    found.map((p) => p.split(':')[0]),
    ['app', 'host', 'nginx.listen', 'nginx.servr'],
    found.join('\n'),
  );
});

test('Procfile problems carry the file and line', () => {
  assert.deepEqual(problems(BASE, project('web: node server.js\nBad Name: x\nworker:\n')), [
    'Procfile:2: expected "name: command", got "Bad Name: x" (hint: each line names a process type, a colon, then its command)',
    'Procfile:3: process type "worker" has no command',
  ]);
});

test('a missing Procfile says how to fix it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-config-'));
  assert.match(problems(BASE, dir)[0] ?? '', /^procfile: no Procfile at .*Procfile \(hint: create one/);
});

test('secrets are redacted when the config is printed', () => {
  const config = parseConfig(BASE + 'notifications:\n  webhook: $HOOK\n  ping:\n    backup: https://hc.example/ping/abc\n', join(project(), 'mono.yml'), { HOOK: 'https://hooks.example/T0KEN' });
  const text = JSON.stringify(printable(config));
  assert.ok(!text.includes('T0KEN') && !text.includes('/ping/abc'), text);
  assert.ok(text.includes('[redacted]'));
  assert.equal(config.notifications.webhook?.reveal(), 'https://hooks.example/T0KEN');
});

test('the starter config from mono init is valid', () => {
  const config = parseConfig(starterConfig('shop', 'root@203.0.113.10'), join(project(), 'mono.yml'), {});
  assert.equal(config.app, 'shop');
});
