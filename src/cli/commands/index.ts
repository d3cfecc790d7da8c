// Registers every subcommand on the program. Each handler module is loaded only when its command runs.
import type { Command } from 'commander';
import { lazy } from '../run.js';
import { registerAgent } from './agent.js';
import { registerSandbox } from './sandbox.js';

export function registerCommands(program: Command): void {
  program
    .command('init')
    .description('write a commented starter mono.yml and a Procfile example')
    .option('--app <name>', 'app name')
    .option('--host <user@host[:port]>', 'the server mono sets up')
    .option('--force', 'overwrite existing files')
    .action(lazy(async () => (await import('../../ops/init.js')).initCommand));

  program
    .command('config')
    .description('check mono.yml and print the resolved config (secrets shown as [redacted])')
    .action(lazy(async () => (await import('../../ops/show-config.js')).showConfigCommand));

  program
    .command('trust')
    .description("show a host's SSH key fingerprint and pin it in known_hosts")
    .argument('[target]', 'user@host[:port] (default: host from mono.yml)')
    .option('--fingerprint <SHA256:…>', 'pin only if the key has this fingerprint (for scripts)')
    .option('--file <path>', 'known_hosts file to write (default: ssh.known_hosts, else ~/.ssh/known_hosts)')
    .action(lazy(async () => (await import('../../ops/trust.js')).trustCommand));

  program
    .command('setup')
    .description('provision the box over SSH: packages, deploy user, folders, systemd units, nginx, sudo rules, agent (idempotent)')
    .action(lazy(async () => (await import('../../ops/setup/command.js')).setupCommand));

  registerSandbox(program);
  registerAgent(program);
}
