// `mono agent check disk|tls|health|lock` (hidden): box-side checks, each printing one CheckResult JSON line; exit 5 when it fails.
import type { Command } from 'commander';
import { lazy } from '../run.js';

const ROOT = ['--root <path>', 'the app root on the box (absolute), e.g. /srv/shop'] as const;

/** Repeatable options: --path a --path b. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerChecks(agent: Command): void {
  const check = agent.command('check').description('box-side checks: one JSON line {check, status, message, hint?, details}; exit 0 for ok or warning, 5 for fail');
  const commands = async () => import('../../agent/checks/command.js');

  check
    .command('disk')
    .description('space and inodes of the filesystems holding each --path (default: the root); fail at or above a threshold')
    .requiredOption(...ROOT)
    .option('--path <path>', 'a path on a filesystem to check (repeatable)', collect)
    .option('--max-used-percent <n>', 'fail when a filesystem is this full or more', '90')
    .option('--max-inodes-percent <n>', 'fail when this share of a filesystem\'s inodes or more is in use', '90')
    .action(lazy(async () => (await commands()).diskHandler));

  check
    .command('tls')
    .description('expiry of TLS certificate files (PEM, the first certificate of a chain); fail when expired or expiring within --warn-days')
    .requiredOption(...ROOT)
    .option('--cert <file>', 'a certificate file (repeatable)', collect)
    .option('--warn-days <n>', 'fail when a certificate expires within this many days', '14')
    .action(lazy(async () => (await commands()).tlsHandler));

  check
    .command('health')
    .description('GET --path from the current release on /run/<app>/current.sock and, with --nginx-port, through nginx (127.0.0.1 unless --nginx-address); fail unless 2xx')
    .requiredOption(...ROOT)
    .requiredOption('--app <name>', 'app name (its socket is /run/<app>/current.sock)')
    .requiredOption('--path <path>', 'the health path, e.g. /health')
    .option('--nginx-port <n>', 'also ask nginx on 127.0.0.1:<n>')
    .option('--host <name>', 'the Host header (and TLS server name) of the request through nginx')
    .option('--nginx-address <ip>', 'the address nginx listens on', '127.0.0.1')
    .option('--nginx-tls', 'ask nginx over HTTPS (the certificate is not verified: the tls job watches it)')
    .option('--public', 'no proxy in front (handover.strategy socket or bind-retry): --nginx-port and --nginx-address are where the app itself serves clients; no socket to ask')
    .option('--timeout-ms <n>', 'how long each request may take', '5000')
    .action(lazy(async () => (await commands()).healthHandler));

  check
    .command('lock')
    .description('the deploy lock: fail when its holder is gone (stale), warn when held longer than --max-held-ms')
    .requiredOption(...ROOT)
    .option('--max-held-ms <n>', 'warn when the lock is held longer than this', String(2 * 3_600_000))
    .action(lazy(async () => (await commands()).lockHandler));
}
