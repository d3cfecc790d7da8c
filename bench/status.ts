// Benchmark: `mono status` (the whole box at a glance: one SSH connection, one agent process on the box) against a bare
// `ssh box true`, in the same run, on a set-up box with a deployed release, a database with a backup, and mono cron.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxDown, sandboxDownSync, sandboxUp, sshArgv } from '../src/sandbox/index.js';
import { compare, log, median, MONO, onBox, report, timeOnce } from './lib.js';

const name = `bench-status-${process.pid}`;
process.on('exit', () => sandboxDownSync(name));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const box = await sandboxUp({ name, kind: 'app' });
try {
  const dir = mkdtempSync(join(tmpdir(), 'mono-bench-'));
  writeFileSync(join(dir, 'Procfile'), 'web: node server.js\n');
  writeFileSync(join(dir, 'server.js'), "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.MONO_LISTEN);\n");
  writeFileSync(join(dir, 'mono.yml'), `app: shop\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\ndatabases:\n  - name: shopdb\n`);
  const mono = (args: readonly string[]): void => void execFileSync(process.execPath, [MONO, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  log('setting up the box, a release and a backup');
  mono(['setup']);
  onBox(box, 'runuser -u postgres -- psql -qc "CREATE ROLE shop LOGIN" -c "CREATE DATABASE shopdb OWNER shop"');
  mono(['deploy']);
  mono(['backup']);
  const runs = Number(process.env['RUNS'] ?? 9);
  const result = compare('mono status vs ssh box true', [process.execPath, MONO, '--config', join(dir, 'mono.yml'), 'status'], sshArgv(box, ['true']), runs);
  report(result, { maxMs: 1000 });
  // Where the time goes: the agent's part (one `mono agent status` on the box, over a plain ssh) and the CLI's start.
  const agent = compare('  of which: ssh box mono agent status vs ssh box true', sshArgv(box, ['/usr/local/bin/mono', 'agent', 'status', '--root', '/srv/shop', '--app', 'shop']), sshArgv(box, ['true']), runs);
  process.stdout.write(`${agent.name}: ${agent.subjectMs.toFixed(0)} ms vs ${agent.baselineMs.toFixed(0)} ms (the agent adds ${(agent.subjectMs - agent.baselineMs).toFixed(0)} ms)\n`);
  const local = median(Array.from({ length: runs }, () => timeOnce([process.execPath, MONO, '--version'])));
  process.stdout.write(`  of which: mono --version here (Node start and the CLI entry): ${local.toFixed(0)} ms\n`);
} finally {
  await sandboxDown(name);
}
