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

  program
    .command('deploy')
    .description('package the release, send only what the box lacks, verify it there, run the release command, then switch to it')
    .option('--from <path>', 'deploy this build folder or tarball (.tar, .tar.gz, .tgz) instead of release.source')
    .option('--wait-lock', 'wait for another deploy to finish instead of failing at once')
    .option('-m, --message <text>', 'a note for the lock and the audit log')
    .option('--wait', 'after the switch, wait until the old instances have finished their work and exited')
    .action(lazy(async () => (await import('../../ops/deploy/command.js')).deployCommand));

  program
    .command('rollback')
    .argument('[release]', 'the release to go back to (default: the one active before the current one)')
    .description('activate a release that is still on the box, as a deploy would (no upload, no release command)')
    .option('--wait-lock', 'wait for a running deploy to finish instead of failing at once')
    .option('-m, --message <text>', 'why (kept in the lock and the audit log)')
    .option('--wait', 'after the switch, wait until the old instances have finished their work and exited')
    .action(lazy(async () => (await import('../../ops/rollback.js')).rollbackCommand));

  program
    .command('backup')
    .description('back up the databases on the box: pg_dump and a manifest from the same snapshot, written safely (0600) and checked')
    .option('--db <name>', 'only this database (default: every one in mono.yml)')
    .action(lazy(async () => (await import('../../ops/backup/command.js')).backupCommand));

  const backups = program
    .command('backups')
    .description('the backups on the box and on the offsite host: age, size, checks, offsite state')
    .action(lazy(async () => (await import('../../ops/backup/list.js')).backupsCommand));
  backups
    .command('prune')
    .description('apply backups.retention.local on the box (--dry-run shows what would go); never after a failed backup, never the newest verified ones')
    .action(lazy(async () => (await import('../../ops/backup/list.js')).backupsPruneCommand));

  program
    .command('restore-test')
    .description('the restore drill: fetch the newest backup (offsite by default), restore it into a throwaway cluster on the box and check it against its manifest')
    .option('--backup <id>', 'this backup (default: the newest complete one)')
    .option('--from <where>', 'offsite (default when backups.offsite is set) or local')
    .option('--db <name>', 'only this database (default: every one in mono.yml)')
    .option('--identity <file>', 'an age identity file on this machine (your recovery key) to decrypt with, instead of the box\'s own key')
    .action(lazy(async () => (await import('../../ops/restore/command.js')).restoreTestCommand));

  program
    .command('restore')
    .description('the real recovery: restore a backup into a database of the box\'s live server, through the same steps and checks as the drill')
    .option('--backup <id>', 'the backup to restore (mono backups lists them)')
    .option('--to <db>', 'the database to restore into (a new one, or an existing one with --replace)')
    .option('--db <name>', 'whose backup (default: the only database in mono.yml)')
    .option('--from <where>', 'offsite (default when backups.offsite is set) or local')
    .option('--replace', 'the database --to exists: swap the restored copy in and keep the old one as <db>_before_<time>')
    .option('--identity <file>', 'an age identity file on this machine (your recovery key) to decrypt with, for a new box whose own key cannot open the old backups')
    .action(lazy(async () => (await import('../../ops/restore/command.js')).restoreCommand));

  program
    .command('logs')
    .argument('[process]', 'one process type (default: every one)')
    .description('the app\'s logs from journald on the box; -f follows them until Ctrl-C')
    .option('-f, --follow', 'keep printing new lines')
    .option('--since <time>', 'from: -30m, -2h, -1d, 2026-12-01, 2026-12-01T09:00:00, today, yesterday')
    .option('--release <id>', 'only this release\'s units')
    .option('--lines <n>', 'how many lines back (default 100; all with --since)')
    .action(lazy(async () => (await import('../../ops/logs.js')).logsCommand));

  const notify = program.command('notify').description('the box\'s notifications (notifications.webhook and notifications.ping)');
  notify
    .command('test')
    .description('send a test notification from the box to the webhook and every ping URL, and say which arrived')
    .action(lazy(async () => (await import('../../ops/notify.js')).notifyTestCommand));

  const cron = program.command('cron').description('the maintenance jobs the box runs by itself (backups, drills, pruning, checks): schedules, results, a run now');
  cron
    .command('list')
    .description('each job\'s schedule, next run, last run and result; the service\'s state and the open alerts')
    .action(lazy(async () => (await import('../../ops/cron/command.js')).cronListCommand));
  cron
    .command('run')
    .argument('<job>', 'backup, restore_test, prune_releases, prune_backups, disk, tls, health or stale_lock')
    .description('run one job on the box now, as the scheduler would (never alongside a run of itself), and show its output')
    .action(lazy(async () => (await import('../../ops/cron/command.js')).cronRunCommand));

  program
    .command('status')
    .description('the box at a glance: current release, running and draining instances, the lock, handovers under way')
    .action(lazy(async () => (await import('../../ops/status.js')).statusCommand));

  const handover = program.command('handover').description('the handovers on the box: where they are, and reattaching to one');
  handover
    .command('status')
    .argument('[id]', 'one handover (default: the newest five)')
    .description('phase, switch time, tenants pinned to the old version and for how long, instances still draining')
    .action(lazy(async () => (await import('../../ops/handover/command.js')).handoverStatusCommand));
  handover
    .command('follow')
    .argument('[id]', 'the handover to follow (default: the newest)')
    .description('show a handover\'s progress from its start until it is done (the old version has drained); Ctrl-C leaves it running')
    .action(lazy(async () => (await import('../../ops/handover/command.js')).handoverFollowCommand));

  const releases = program
    .command('releases')
    .description('list the releases on the box: current, running, size, who deployed, when, git commit')
    .action(lazy(async () => (await import('../../ops/releases.js')).releasesCommand));
  releases
    .command('prune')
    .description('remove old releases (never the current or a running one) and blobs no kept release uses; --dry-run shows what would go')
    .option('--keep <n>', 'releases to keep (default: release.keep)')
    .action(lazy(async () => (await import('../../ops/releases.js')).pruneCommand));

  program
    .command('lock')
    .description('the deploy lock: status, acquire (by hand, e.g. for maintenance) or release [--force]')
    .argument('<action>', 'status | acquire | release')
    .option('-m, --message <text>', 'why (with acquire)')
    .option('--force', 'release a lock held by someone else (with release)')
    .action(lazy(async () => (await import('../../ops/lock-cmd.js')).lockCommand));

  program
    .command('audit')
    .description('show the recent entries of the audit log on the box')
    .option('--lines <n>', 'how many entries', '20')
    .action(lazy(async () => (await import('../../ops/lock-cmd.js')).auditCommand));

  registerSandbox(program);
  registerAgent(program);
}
