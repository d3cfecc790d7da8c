import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { renderSetupFiles, type RenderedFile } from '../../src/ops/setup/render-files.js';
import { render } from '../../src/templates/render.js';

const EXPECTED = new URL('../fixtures/expected/', import.meta.url).pathname;
const update = process.env['UPDATE_EXPECTED'] === '1';

function project(yaml: string, overrides: Record<string, string> = {}): ReturnType<typeof parseConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'mono-tpl-'));
  writeFileSync(join(dir, 'Procfile'), 'web: bin/web\nworker: bin/worker\nrelease: bin/migrate\n');
  for (const [rel, text] of Object.entries(overrides)) {
    mkdirSync(join(dir, 'templates', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'templates', rel), text);
  }
  return parseConfig(yaml, join(dir, 'mono.yml'), {});
}

function expectFile(name: string, file: RenderedFile): void {
  const path = join(EXPECTED, name);
  if (update || !existsSync(path)) {
    if (!update) assert.fail(`missing expectation ${path}: run UPDATE_EXPECTED=1 and review it`);
    writeFileSync(path, file.content);
  }
  assert.equal(file.content, readFileSync(path, 'utf8'), `${name} differs from the checked-in expectation`);
}

test('rendered files match the checked-in expectations (plain HTTP)', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@203.0.113.7\n'));
  assert.deepEqual(
    files.units.map((u) => u.path),
    ['/etc/systemd/system/shop-web@.service', '/etc/systemd/system/shop-worker@.service'],
    'one unit per long-running process type; release is not a unit',
  );
  expectFile('shop-web@.service', files.units[0]!);
  expectFile('shop-worker@.service', files.units[1]!);
  expectFile('site-plain.conf', files.nginxSite);
  expectFile('proxy.conf', files.nginxProxy);
  expectFile('sudoers', files.sudoers);
  expectFile('priv-shop', files.privHelper);
  expectFile('tmpfiles.conf', files.tmpfiles);
  expectFile('shop-current.service', files.currentUnit);
});

test('rendered nginx site with TLS matches its expectation', () => {
  const config = project('app: my-shop\nhost: root@203.0.113.7\nnginx:\n  server_names: [shop.example.com]\n  tls:\n    certificate: /etc/ssl/shop.pem\n    key: /etc/ssl/shop.key\n');
  expectFile('site-tls.conf', renderSetupFiles(config).nginxSite);
});

test('per-tenant cutover: a whitelisting map from the tenant key, and a symlink per pinned tenant', () => {
  const files = renderSetupFiles(project('app: my-shop\nhost: root@h\nhandover:\n  tenant_key: header:X-Tenant\n'));
  expectFile('site-tenants.conf', files.nginxSite);
  expectFile('proxy-tenants.conf', files.nginxProxy);
  assert.match(files.nginxSite.content, /map \$http_x_tenant \$mono_my_shop_tenant \{/);
  assert.match(files.nginxProxy.content, /if \(-f \/run\/my-shop\/tenants\/\$mono_my_shop_tenant\.route\)/);
  assert.doesNotMatch(files.nginxProxy.content, /proxy_pass http:\/\/unix:\/run\/my-shop\/current\.sock:;/);
});

test('a web process on a port: MONO_PORT from the instance\'s listen.env, and a bridge socket at the release\'s socket path', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@h\nhandover:\n  listen: port\n'));
  const web = files.units.find((u) => u.process === 'web')!.content;
  assert.doesNotMatch(web, /MONO_LISTEN/);
  assert.match(web, /^EnvironmentFile=\/srv\/shop\/\.mono\/instances\/%i\/listen\.env$/m);
  assert.ok(files.bridge !== undefined);
  expectFile('shop-bridge@.socket', files.bridge.socket);
  expectFile('shop-bridge@.service', files.bridge.service);
  assert.match(files.privHelper.content, /^WEB_LISTEN='port'$/m);
  assert.equal(renderSetupFiles(project('app: shop\nhost: root@h\n')).bridge, undefined, 'no bridge for a socket app');
});

test('HTTP redirects to the configured HTTPS port', () => {
  const config = project('app: shop\nhost: root@h\nnginx:\n  listen: 8080\n  tls:\n    certificate: /etc/ssl/a.pem\n    key: /etc/ssl/a.key\n    listen: 8443\n');
  const site = renderSetupFiles(config).nginxSite.content;
  assert.match(site, /return 301 https:\/\/\$host:8443\$request_uri;/);
  assert.match(site, /listen 8443 ssl default_server;/);
});

test('the unit stop timeout covers the whole drain budget, per process type where one is set', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@h\nhandover:\n  drain_timeout: 20m\n  drain_timeouts:\n    worker: 2h\n'));
  const unit = (process: string): string => files.units.find((u) => u.process === process)!.content;
  assert.match(unit('web'), /^TimeoutStopSec=1260$/m);
  assert.match(unit('worker'), /^TimeoutStopSec=7260$/m);
});

test('a project template overrides the shipped one', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@h\n', { 'nginx/proxy.conf': '# custom for {{app}}\n' }));
  assert.equal(files.nginxProxy.content, '# custom for shop\n');
});

test('templates refuse unknown placeholders', () => {
  assert.throws(() => render('{{nope}}', { app: 'x' }, 'test'), /uses \{\{nope\}\}, which mono does not provide/);
});

test('sections nest', () => {
  assert.equal(render('{{#a}}A{{#b}}B{{/b}}{{^b}}-{{/b}}{{/a}}', { a: true, b: false }, 't'), 'A-');
});

test('handover.strategy socket: the web unit inherits the public socket (fd 3 and stdin, non-blocking); a socket unit and its service', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@h\nhandover:\n  strategy: socket\n  public_listen: 0.0.0.0:80\n'));
  const web = files.units.find((u) => u.process === 'web')!;
  expectFile('shop-web@.service-socket', web);
  assert.doesNotMatch(web.content, /MONO_LISTEN|listen\.env/);
  assert.ok(files.publicSocket !== undefined);
  expectFile('shop-public.socket', files.publicSocket.socket);
  expectFile('shop-public.service', files.publicSocket.service);
  assert.match(files.publicSocket.socket.content, /^ListenStream=0\.0\.0\.0:80$/m);
  const worker = files.units.find((u) => u.process === 'worker')!.content;
  assert.doesNotMatch(worker, /Sockets=|<&3/, 'only the web process gets the socket');
  assert.match(files.privHelper.content, /^WEB_LISTEN='socket'$/m);
});

test('handover.strategy bind-retry: the web unit is told the port and the shutdown file, and listens nowhere else', () => {
  const files = renderSetupFiles(project('app: shop\nhost: root@h\nhandover:\n  strategy: bind-retry\n  public_listen: 8080\n'));
  const web = files.units.find((u) => u.process === 'web')!.content;
  assert.match(web, /^Environment=MONO_BIND_HOST= MONO_BIND_PORT=8080 MONO_SHUTDOWN_FILE=\/run\/shop\/shutdown\.txt$/m);
  assert.doesNotMatch(web, /MONO_LISTEN|Sockets=/);
  assert.equal(files.publicSocket, undefined);
});
