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
