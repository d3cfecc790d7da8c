// `mono sandbox`: local Debian 12 boxes with systemd under systemd-nspawn (up, down, ssh, status).
import type { Command } from 'commander';
import { lazy } from '../run.js';

const ops = async () => import('../../ops/sandbox.js');

export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('local Debian 12 boxes with real systemd (systemd-nspawn) to try mono on and to test against; needs root')
    .enablePositionalOptions();

  sandbox
    .command('up')
    .description('boot a fresh box (the first run builds a cached root filesystem with debootstrap, about 2 minutes)')
    .option('--name <name>', 'box name', 'app')
    .option('--offsite', 'an offsite box for backups: sshd only, no nginx and no PostgreSQL')
    .action(lazy(async () => (await ops()).sandboxUpCommand));

  sandbox
    .command('down')
    .description('power a box off, unmount it and delete its state')
    .option('--name <name>', 'box name (default: app)')
    .option('--all', 'every box')
    .action(lazy(async () => (await ops()).sandboxDownCommand));

  sandbox
    .command('ssh')
    .description('open a root shell in a box, or run a command there (put -- before a command that uses -v, -y, -n, -c or --json)')
    .argument('[command...]', 'command to run in the box (default: a login shell)')
    .option('--name <name>', 'box name', 'app')
    .passThroughOptions()
    .action(lazy(async () => (await ops()).sandboxSshCommand));

  sandbox
    .command('status')
    .description('list boxes: running, mounted, sshd answering')
    .action(lazy(async () => (await ops()).sandboxStatusCommand));
}
