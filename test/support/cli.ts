// Runs the real built mono binary (dist/cli/mono.mjs) the way an operator would, and captures its output.
import { quietSchedules } from './app.js';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoxInfo } from '../../src/sandbox/index.js';

export const MONO = new URL('../../dist/cli/mono.mjs', import.meta.url).pathname;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `mono ...args` in cwd with an isolated HOME (so ~/.ssh/known_hosts of the machine never helps a test pass). */
export function mono(args: readonly string[], options: { cwd: string; home?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  const started = performance.now();
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'mono-home-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MONO, ...args],
      { cwd: options.cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', ...options.env }, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

/** A project folder with a Procfile and a mono.yml pointing at the box. */
export function projectFor(box: BoxInfo, extra = '', app = 'shop'): string {
  const dir = mkdtempSync(join(tmpdir(), 'mono-project-'));
  writeFileSync(join(dir, 'Procfile'), 'web: node server.js\nworker: node worker.js\nrelease: node migrate.js\n');
  writeFileSync(
    join(dir, 'mono.yml'),
    `app: ${app}\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\n  connect_timeout: 5s\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\n${quietSchedules(extra)}`,
  );
  mkdirSync(join(dir, 'templates'), { recursive: true });
  return dir;
}
