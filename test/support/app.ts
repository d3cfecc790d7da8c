// A small app project for deploy tests: a web process on $MONO_LISTEN that says which release it is.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BoxInfo } from '../../src/sandbox/index.js';

export const SERVER_JS = `const http = require('node:http');
const fs = require('node:fs');
const listen = process.env.MONO_LISTEN;
const version = fs.readFileSync(__dirname + '/VERSION', 'utf8').trim();
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(req.url === '/up' ? 'up\\n' : 'version ' + version + ' release ' + process.env.MONO_RELEASE + '\\n');
});
fs.rmSync(listen, { force: true });
// The control folder is the instance's own, and writable under the unit's sandbox.
fs.writeFileSync(process.env.MONO_CONTROL_DIR + '/pid', String(process.pid));
server.listen(listen);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** An app on mono/runtime (runtime.mjs beside it): /job?ms=&tenant= starts a job, /slow?ms= answers late, upgrades tick. */
export const JOBS_SERVER = `import http from 'node:http';
import fs from 'node:fs';
import { monoServe } from './runtime.mjs';
const version = fs.readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
const release = process.env.MONO_RELEASE;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/up') return res.end('up');
  if (url.pathname === '/job') {
    const tenant = url.searchParams.get('tenant') ?? undefined;
    app.job(() => new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms')))).then(() => fs.appendFileSync('storage/jobs.log', 'done ' + release + ' ' + tenant + '\\n')), { tenant });
    return res.end('started on ' + release);
  }
  if (url.pathname === '/slow') return void setTimeout(() => res.end('slow done on ' + release), Number(url.searchParams.get('ms')));
  res.end('version ' + version + ' release ' + release);
});
// An upgraded connection (as a WebSocket is): a tick with the release and the time every 500 ms until the client says bye.
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: mono-test\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  const tick = setInterval(() => socket.write('tick ' + release + ' ' + Date.now() + '\\n'), 500);
  socket.on('data', (d) => { if (String(d).includes('bye')) socket.end(); });
  socket.on('close', () => clearInterval(tick));
  socket.on('error', () => clearInterval(tick));
});
const app = monoServe(server);
`;

/**
 * The box's own scheduler (mono cron) must not start a backup, a drill or a prune in the middle of a test that runs one
 * itself: those jobs are off unless the test sets its schedules. The read-only checks keep their defaults.
 */
export function quietSchedules(yaml: string): string {
  return /^schedules:/m.test(yaml) ? yaml : `${yaml}schedules:\n  backup: "off"\n  restore_test: "off"\n  prune_releases: "off"\n  prune_backups: "off"\n`;
}

export interface AppProject {
  readonly dir: string;
  write(path: string, content: string | Buffer): void;
}

/** A project folder: mono.yml pointing at the box, a Procfile and the files of the app. */
export function appProject(box: BoxInfo, options: { app?: string; procfile?: string; yaml?: string; files?: Record<string, string | Buffer> } = {}): AppProject {
  const dir = mkdtempSync(join(tmpdir(), 'mono-app-'));
  const app = options.app ?? 'shop';
  const write = (path: string, content: string | Buffer): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  write('Procfile', options.procfile ?? 'web: node server.js\n');
  write('server.js', SERVER_JS);
  write('VERSION', '1\n');
  for (const [path, content] of Object.entries(options.files ?? {})) write(path, content);
  write(
    'mono.yml',
    `app: ${app}\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\n  connect_timeout: 5s\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\nhealth:\n  timeout: 20s\n${quietSchedules(options.yaml ?? '')}`,
  );
  write('.monoignore', 'mono.yml\n.monoignore\n');
  return { dir, write };
}
