// `mono agent <verb>` (hidden): the box side of deploys, run over SSH by the CLI. JSON in on stdin, one JSON line out on stdout.
import type { Command } from 'commander';
import { lazy } from '../run.js';
import { collect, registerChecks } from './agent-checks.js';

const ROOT = ['--root <path>', 'the app root on the box (absolute), e.g. /srv/shop'] as const;

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent', { hidden: true })
    .description('box-side verbs used by mono over SSH (requests on stdin, one JSON reply line on stdout)');

  agent
    .command('store-missing')
    .description('read "<sha256> <size>" lines; print the blobs the store lacks')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/store-missing.js')).handler));

  agent
    .command('receive')
    .description('store the blobs of an upload stream; exit 75 after a write error (disk full…)')
    .requiredOption(...ROOT)
    .option('--gzip', 'the stream is gzip-compressed')
    .action(lazy(async () => (await import('../../agent/receive.js')).handler));

  agent
    .command('release-build')
    .description('build releases/<id> from a BuildRequest on stdin (hard links to store blobs)')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/release-build.js')).handler));

  agent
    .command('releases')
    .description('list releases, newest first, with metadata, the current one and live units')
    .requiredOption(...ROOT)
    .option('--app <name>', 'app name, to look up its systemd units')
    .action(lazy(async () => (await import('../../agent/releases.js')).handler));

  agent
    .command('prune')
    .description('remove old releases (keeping the newest N, the current one and any with live units), then unused blobs')
    .requiredOption(...ROOT)
    .requiredOption('--keep <n>', 'how many of the newest releases to keep')
    .requiredOption('--app <name>', 'app name, to look up its systemd units')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--take-lock', 'hold the deploy lock while pruning; exit 7 at once when it is held (mono cron)')
    .action(lazy(async () => (await import('../../agent/prune.js')).handler));

  agent
    .command('session')
    .description('a deploy\'s agent: prints its version, then answers one JSON request per line ("lock" first) and holds the lock until stdin ends or says "release"')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/lock-command.js')).sessionHandler));

  const lock = agent.command('lock').description('the deploy lock (<root>/.mono/lock)');
  const lockCommands = async () => import('../../agent/lock-command.js');

  lock
    .command('acquire')
    .description('take the lock until it is released (stdin: the JSON request)')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await lockCommands()).acquireHandler));

  lock
    .command('status')
    .description('who holds the lock, and whether the holder is gone')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await lockCommands()).statusHandler));

  lock
    .command('release')
    .description('release the lock: your own with --token, anyone\'s with --force')
    .requiredOption(...ROOT)
    .option('--token <token>', 'the token from the reply that took the lock')
    .option('--force', 'release whoever holds it')
    .action(lazy(async () => (await lockCommands()).releaseHandler));

  const handover = agent.command('handover').description('the handover runner (a transient systemd unit) and what it records under <root>/.mono/handover');
  const handoverCommands = async () => import('../../agent/handover/command.js');

  handover
    .command('run')
    .description('run the handover <id>.json describes: start, check, switch, verify, move pinned tenants, drain the old release')
    .requiredOption(...ROOT)
    .requiredOption('--id <id>', 'the handover id')
    .action(lazy(async () => (await handoverCommands()).runHandler));

  handover
    .command('follow')
    .description('print the handover\'s events as JSON lines until it reaches --until (switched or done), then an "end" line')
    .requiredOption(...ROOT)
    .option('--id <id>', 'the handover id (default: the newest)')
    .option('--until <phase>', 'switched or done', 'done')
    .action(lazy(async () => (await handoverCommands()).followHandler));

  handover
    .command('status')
    .description('the newest handovers\' states as one JSON line')
    .requiredOption(...ROOT)
    .option('--id <id>', 'only this handover')
    .option('--last <n>', 'how many', '5')
    .action(lazy(async () => (await handoverCommands()).statusHandler));

  agent
    .command('status')
    .description('everything mono status shows, as one JSON line: the box, releases, lock, handovers, backups, cron and alerts')
    .requiredOption(...ROOT)
    .requiredOption('--app <name>', 'app name, to look up its systemd units')
    .option('--dir <path>', 'the backups folder (backups.dir)')
    .option('--dbs <names>', 'database names, comma-separated')
    .option('--disk-path <path>', 'a folder whose filesystem is shown (repeatable)', collect)
    .action(lazy(async () => (await import('../../agent/status.js')).statusHandler));

  const cron = agent.command('cron').description('mono cron on the box: the scheduler service, its jobs, a run now');
  const cronCommands = async () => import('../../agent/cron/command.js');

  cron
    .command('serve')
    .description('the scheduler (the <app>-cron service): runs the jobs of <root>/.mono/cron.json on time, catches up missed runs, reloads the file when it changes')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await cronCommands()).serveHandler));

  cron
    .command('list')
    .description('each job\'s schedule, next run, last run and the open alerts, as one JSON line')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await cronCommands()).listHandler));

  cron
    .command('run')
    .description('run one job now (never alongside a run of itself): its output on stderr, its record as the reply')
    .requiredOption(...ROOT)
    .requiredOption('--job <name>', 'the job')
    .action(lazy(async () => (await cronCommands()).runHandler));

  agent
    .command('backup')
    .description('back up one database into <dir>/<db>/<id>/ (dump, globals, manifest from the same snapshot, checked)')
    .requiredOption(...ROOT)
    .requiredOption('--dir <path>', 'the backups folder (backups.dir)')
    .requiredOption('--db <name>', 'the database')
    .requiredOption('--user <role>', 'the role to connect as')
    .option('--host <host>', 'host or socket folder (default: the local unix socket)')
    .option('--port <n>', 'port', '5432')
    .option('--offsite <user@host:port>', 'then copy every backup without a verified offsite copy there (with the box\'s offsite key)')
    .option('--retention <h,d,w,m,min>', 'after a good backup, prune local backups to this policy (hourly,daily,weekly,monthly,min_verified)')
    .option('--max-drop <percent>', 'fail the run (keeping the backup) when size or table count fell more than this since the last one', '50')
    .option('--encrypt <age1…,…>', 'encrypt the files with age for these recipients and the box\'s own key')
    .option('--strict', 'exit 5 when the backup was kept but its offsite copy is pending or damaged (mono cron)')
    .action(lazy(async () => (await import('../../agent/backup/notified.js')).notifiedBackupHandler));

  agent
    .command('backups')
    .description('the local backups of the databases, newest first, with their last run')
    .requiredOption(...ROOT)
    .requiredOption('--dir <path>', 'the backups folder (backups.dir)')
    .requiredOption('--dbs <names>', 'database names, comma-separated')
    .action(lazy(async () => (await import('../../agent/backup/command.js')).listHandler));

  agent
    .command('restore-test')
    .description('start a restore drill (its spec as JSON on stdin) in a transient unit and pass its output and exit status through')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/restore/command.js')).restoreTestHandler));

  agent
    .command('restore-test-run')
    .description('the restore drill itself (inside its transient unit): fetch, check, decrypt, restore into a throwaway cluster, verify')
    .requiredOption(...ROOT)
    .requiredOption('--id <id>', 'the drill (its spec is <root>/.mono/drills/<id>.json)')
    .action(lazy(async () => (await import('../../agent/restore/command.js')).restoreTestRunHandler));

  agent
    .command('notify-test')
    .description('send a test notification to every target in <root>/.mono/notify.json; one JSON line says which arrived')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/notify-command.js')).notifyTestHandler));

  agent
    .command('backups-prune')
    .description('apply a retention policy to one database\'s local backups (never after a failed run, never a backup awaiting its offsite copy)')
    .requiredOption(...ROOT)
    .requiredOption('--dir <path>', 'the backups folder (backups.dir)')
    .requiredOption('--db <name>', 'the database')
    .requiredOption('--retention <h,d,w,m,min>', 'hourly,daily,weekly,monthly,min_verified')
    .option('--offsite', 'an offsite copy is configured: keep backups not copied yet')
    .option('--dry-run', 'say what would go, remove nothing')
    .action(lazy(async () => (await import('../../agent/backup/command.js')).pruneHandler));

  agent
    .command('audit')
    .description('print the last entries of the audit log')
    .requiredOption(...ROOT)
    .option('--lines <n>', 'how many entries', '20')
    .action(lazy(async () => (await import('../../agent/audit.js')).handler));

  agent
    .command('audit-append')
    .description('append the JSON object on stdin to the audit log (adds "time")')
    .requiredOption(...ROOT)
    .action(lazy(async () => (await import('../../agent/audit.js')).appendHandler));

  registerChecks(agent);
}
