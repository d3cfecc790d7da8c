// `mono sandbox …`: bring local nspawn boxes up and down, open a shell in one, list them.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { formatTable } from '../log/table.js';
import { boxPaths, checkPrerequisites, isBoxRunning, readBox, sandboxDown, sandboxDownAll, sandboxStatus, sandboxUp, sshArgv, type BoxInfo, type BoxStatus } from '../sandbox/index.js';

export interface UpCommandOptions {
  readonly name: string;
  readonly offsite?: boolean;
}

export interface DownCommandOptions {
  readonly name?: string;
  readonly all?: boolean;
}

export interface SshCommandOptions {
  readonly name: string;
}

/** The lines to paste into mono.yml to point mono at the box. */
export function configSnippet(box: BoxInfo): string {
  return [
    `host: root@127.0.0.1:${box.sshPort}`,
    `ssh: { identity: ${box.keyFile}, known_hosts: ${box.knownHostsFile} }`,
    `nginx: { listen: "127.0.0.1:${box.httpPort}" }`,
    '',
  ].join('\n');
}

export async function sandboxUpCommand(ctx: Context, options: UpCommandOptions): Promise<void> {
  const box = await sandboxUp({
    name: options.name,
    kind: options.offsite === true ? 'offsite' : 'app',
    onProgress: (message) => ctx.log.info(message),
    onWarning: (message) => ctx.log.warn(message),
    onCleanup: (cleanup) => ctx.onCleanup(cleanup),
  });
  if (ctx.log.json) {
    ctx.log.event('sandbox.up', { ...box });
    return;
  }
  ctx.log.info(
    [
      `  ${box.kind} box "${box.name}": nspawn pid ${box.pid}, root filesystem ${box.rootDir}`,
      `  ssh:   mono sandbox ssh --name ${box.name}   (root@127.0.0.1 port ${box.sshPort})`,
      `  http:  127.0.0.1:${box.httpPort} is reserved for the app's nginx`,
      `  stop:  mono sandbox down --name ${box.name}`,
      '  config for mono.yml (on stdout):',
    ].join('\n'),
  );
  ctx.log.data(configSnippet(box));
}

export async function sandboxDownCommand(ctx: Context, options: DownCommandOptions): Promise<void> {
  if (options.all === true) {
    if (options.name !== undefined) throw new MonoError('USAGE', 'use either --name or --all, not both');
    await sandboxDownAll();
    ctx.log.info('all sandbox boxes are down');
    ctx.log.event('sandbox.down', { all: true });
    return;
  }
  const name = options.name ?? 'app';
  const existed = existsSync(boxPaths(name).dir);
  await sandboxDown(name);
  ctx.log.info(existed ? `sandbox "${name}" is down` : `there is no sandbox "${name}"; nothing to do`);
  ctx.log.event('sandbox.down', { name, existed });
}

export async function sandboxSshCommand(ctx: Context, command: readonly string[], options: SshCommandOptions): Promise<number> {
  checkPrerequisites();
  const box = readBox(options.name);
  if (box === undefined) {
    throw new MonoError('USAGE', `there is no sandbox "${options.name}"`, { hint: `start it with: mono sandbox up --name ${options.name}` });
  }
  if (!isBoxRunning(box)) {
    throw new MonoError('USAGE', `sandbox "${options.name}" is not running`, { hint: `recreate it: mono sandbox down --name ${options.name} && mono sandbox up --name ${options.name}` });
  }
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  const [file, ...args] = sshArgv(box, command, { tty: command.length > 0 && interactive, batch: false, connectTimeoutS: 5 });
  ctx.log.debug(`running ${[file, ...args].join(' ')}`);
  const result = await execa(file ?? 'ssh', args, { stdio: 'inherit', reject: false });
  return result.exitCode ?? 255;
}

function stateOf(s: BoxStatus): string {
  if (s.info === undefined) return s.alive ? 'starting' : 'incomplete';
  if (!s.alive) return 'stopped';
  return s.sshd ? 'up' : 'no-ssh';
}

export async function sandboxStatusCommand(ctx: Context): Promise<void> {
  const boxes = await sandboxStatus();
  if (ctx.log.json) {
    ctx.log.event('sandbox.status', { boxes: boxes.map((b) => ({ ...b, state: stateOf(b) })) });
    return;
  }
  if (boxes.length === 0) {
    ctx.log.info('no sandbox boxes (start one with: mono sandbox up)');
    return;
  }
  const rows = [
    ['NAME', 'KIND', 'STATE', 'PID', 'SSH', 'HTTP', 'MOUNTED', 'CREATED'],
    ...boxes.map((b) => [
      b.name,
      b.info?.kind ?? '-',
      stateOf(b),
      b.info === undefined ? '-' : String(b.info.pid),
      b.info === undefined ? '-' : `127.0.0.1:${b.info.sshPort}`,
      b.info === undefined ? '-' : `127.0.0.1:${b.info.httpPort}`,
      b.mounted ? 'yes' : 'no',
      b.createdAt ?? '-',
    ]),
  ];
  ctx.log.data(formatTable(rows).join('\n'));
  const broken = boxes.filter((b) => stateOf(b) !== 'up').map((b) => b.name);
  if (broken.length > 0) ctx.log.info(`not running: ${broken.join(', ')} (remove with: mono sandbox down --name NAME)`);
}
