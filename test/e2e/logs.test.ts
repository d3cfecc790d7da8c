// mono logs against a real box: the app's units in journald, read through the privileged helper; -f streams new lines
// as they are written and stops cleanly on Ctrl-C, leaving no journalctl behind on the box.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { BoxInfo } from '../../src/sandbox/index.js';
import { appProject, type AppProject } from '../support/app.js';
import { bootBox, boxSsh } from '../support/box.js';
import { MONO, mono } from '../support/cli.js';

let box: BoxInfo;
let app: AppProject;

before(async () => {
  box = await bootBox('app');
  app = appProject(box, {
    procfile: 'web: node server.js\nticker: node ticker.js\n',
    files: { 'ticker.js': "let n = 0;\nsetInterval(() => console.log('tick ' + ++n), 300);\nprocess.on('SIGTERM', () => process.exit(0));\n" },
  });
  assert.equal((await mono(['setup'], { cwd: app.dir, timeoutMs: 600_000 })).code, 0);
  const deployed = await mono(['deploy'], { cwd: app.dir, timeoutMs: 600_000 });
  assert.equal(deployed.code, 0, deployed.stderr);
});

test('mono logs prints the app\'s lines from journald; one process, a time window; bad arguments are clear errors', async () => {
  await new Promise((r) => setTimeout(r, 1500));
  const r = await mono(['logs', 'ticker', '--since', '-10m'], { cwd: app.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d{4}-\d{2}-\d{2}T\S+ \S+ shop-ticker\[\d+\]: tick \d+$/m);
  assert.doesNotMatch(r.stdout, /web@/, 'only the ticker');
  const all = await mono(['logs', '--lines', '500'], { cwd: app.dir });
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /Started shop-web@\S+\.service/);
  assert.match(all.stdout, /tick \d+/);
  const bad = await mono(['logs', 'nope'], { cwd: app.dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: nope is not a process type of this app \(web, ticker\)/);
});

test('mono logs -f streams new lines and stops cleanly on Ctrl-C, leaving no journalctl on the box', async () => {
  const child = spawn(process.execPath, [MONO, 'logs', 'ticker', '-f', '--lines', '1'], { cwd: app.dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: mkdtempSync(join(tmpdir(), 'mono-home-')), NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ticks = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no streamed lines:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const seen = [...stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      if (seen.length >= 4) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
  assert.ok(ticks.every((n, i) => i === 0 || n > ticks[i - 1]!), `new lines in order as they come: ${ticks.join(' ')}`);
  assert.equal((await boxSsh(box, 'pgrep -c -x journalctl; true')).stdout.trim(), '1', 'journalctl follows on the box meanwhile');
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.doesNotMatch(stderr, /error:/);
  let left = '';
  for (let i = 0; i < 50; i += 1) {
    left = (await boxSsh(box, 'pgrep -a -x journalctl; true')).stdout.trim();
    if (left === '') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(left, '', 'journalctl ended with the connection');
});
