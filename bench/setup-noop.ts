// Benchmark: a no-op second `mono setup` against the sandbox box, beside a bare `ssh box true`, in the same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxDown, sandboxDownSync, sandboxUp, sshArgv } from '../src/sandbox/index.js';
import { compare, report } from './lib.js';

const name = `bench-${process.pid}`;
process.on('exit', () => sandboxDownSync(name));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const box = await sandboxUp({ name, kind: 'app' });
try {
  const dir = mkdtempSync(join(tmpdir(), 'mono-bench-'));
  writeFileSync(join(dir, 'Procfile'), 'web: node server.js\nworker: node worker.js\n');
  writeFileSync(join(dir, 'mono.yml'), `app: shop\nhost: root@127.0.0.1:${box.sshPort}\nssh:\n  identity: ${box.keyFile}\n  known_hosts: ${box.knownHostsFile}\nnginx:\n  listen: 127.0.0.1:${box.httpPort}\n`);
  const mono = new URL('../dist/cli/mono.mjs', import.meta.url).pathname;
  execFileSync(process.execPath, [mono, 'setup'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const runs = Number(process.env['RUNS'] ?? 7);
  const result = compare('no-op second setup (mono setup vs ssh box true)', [process.execPath, mono, '--config', join(dir, 'mono.yml'), 'setup'], sshArgv(box, ['true']), runs);
  report(result, { maxMs: 3000 });
} finally {
  await sandboxDown(name);
}
