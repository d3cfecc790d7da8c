// mono.yml's maintenance jobs as the scheduler on the box runs them (<root>/.mono/cron.json): each job's agent verbs.
import type { Config } from '../../config/types.js';
import { tlsCertificates } from '../../cron/jobs.js';
import type { JobName } from '../../cron/names.js';
import type { CronSpec, CronStep } from '../../cron/spec.js';
import { backupFlags, backupsPruneFlags } from '../backup/flags.js';
import { frontProbe } from '../front-probe.js';
import { drillSpecs } from '../restore/specs.js';
import { layoutOf } from '../setup/layout.js';

/** Jobs that send their own pings and webhook (with their own verdict, such as "offsite copy pending"). */
const SELF_ALERTING: ReadonlySet<JobName> = new Set(['backup', 'restore_test']);

/** The filesystems the disk job watches by default: the app, its backups, the logs and the system. */
export function diskPaths(config: Pick<Config, 'root' | 'backups' | 'checks'>): string[] {
  return config.checks.disk.paths.length > 0 ? [...config.checks.disk.paths] : [config.root, config.backups.dir, '/var/log', '/'];
}

export function jobSteps(config: Config, job: JobName): CronStep[] {
  const root = layoutOf(config).root;
  const step = (verb: readonly string[], flags: readonly string[] = [], stdin?: string): CronStep => ({ args: [...verb, '--root', root, ...flags], ...(stdin === undefined ? {} : { stdin }) });
  const c = config.checks;
  switch (job) {
    case 'backup':
      // --strict: a backup kept on the box whose offsite copy is pending is a failed run, as it is for mono backup.
      return config.databases.map((db) => step(['backup'], [...backupFlags(config, db), '--strict']));
    case 'restore_test':
      // Without an id: the agent gives each drill a new one.
      return drillSpecs(config, {}).map(({ id: _id, ...spec }) => step(['restore-test'], [], JSON.stringify({ spec })));
    case 'prune_releases':
      return [step(['prune'], ['--keep', String(config.release.keep), '--app', config.app, '--take-lock'])];
    case 'prune_backups':
      return config.databases.map((db) => step(['backups-prune'], backupsPruneFlags(config, db)));
    case 'disk':
      return [step(['check', 'disk'], [...diskPaths(config).flatMap((p) => ['--path', p]), '--max-used-percent', String(c.disk.maxUsedPercent), '--max-inodes-percent', String(c.disk.maxInodesPercent)])];
    case 'tls':
      return [step(['check', 'tls'], [...tlsCertificates(config).flatMap((f) => ['--cert', f]), '--warn-days', String(c.tls.warnDays)])];
    case 'health': {
      const front = frontProbe(config);
      const target = ['--nginx-port', String(front.port), '--nginx-address', front.address, ...(front.scheme === 'https' ? ['--nginx-tls'] : []), '--host', front.host, ...(config.handover.strategy === 'nginx' ? [] : ['--public'])];
      return [step(['check', 'health'], ['--app', config.app, '--path', config.health.path, ...target, '--timeout-ms', String(Math.min(config.health.timeoutMs, 30_000))])];
    }
    case 'stale_lock':
      return [step(['check', 'lock'], ['--max-held-ms', String(c.lock.maxHeldMs)])];
  }
}

export function cronSpec(config: Config): CronSpec {
  return {
    version: 1,
    app: config.app,
    root: layoutOf(config).root,
    jobs: config.jobs.map((j) => ({ name: j.name, cron: j.cron, timeoutMs: j.timeoutMs, selfAlerting: SELF_ALERTING.has(j.name), steps: jobSteps(config, j.name) })),
  };
}
