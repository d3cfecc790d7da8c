// `mono status`: the whole box at a glance, from one agent call on one SSH connection: the box (uptime, load, memory,
// disks), the current release and what runs or drains, the lock and handovers, each database's newest backup and last
// drill, each cron job's next run and last result, and the open alerts. The exit status is 5 when a line is red, so
// that any monitor can run it.
import type { Context } from '../cli/context.js';
import type { LockInfo, ReleaseInfo } from '../release/protocol.js';
import type { CronListing } from '../agent/cron/listing.js';
import type { BoxFacts } from '../agent/status.js';
import { judgeDisk } from '../agent/checks/disk.js';
import type { Config } from '../config/types.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { describeHolder } from './deploy/lock.js';
import { describeHandover, type HandoverRow } from './handover/command.js';
import { age } from './releases.js';
import { layoutOf } from './setup/layout.js';
import { backupHealth } from './backup/health.js';
import type { Listing } from './backup/list.js';
import { diskPaths } from './cron/plan.js';
import { lastResult, until } from './cron/command.js';
import { formatBytes } from '../release/progress.js';
import { ExitCode } from '../errors.js';

type LockStatus = { locked: false } | { locked: true; holder: LockInfo; stale: boolean };

export interface BoxStatus {
  readonly box: BoxFacts;
  readonly releases: readonly ReleaseInfo[];
  readonly lock: LockStatus;
  readonly handovers: readonly HandoverRow[];
  readonly backups: Listing | null;
  readonly cron: CronListing | { readonly error: string };
}

/** A status line, and whether it is red (a problem) or yellow (worth a look). */
export interface Line {
  readonly text: string;
  readonly level?: 'red' | 'yellow';
}

export function statusLines(releases: readonly ReleaseInfo[], lock: LockStatus, handovers: readonly HandoverRow[], now = Date.now()): string[] {
  const current = releases.find((r) => r.current);
  const lines = [current === undefined ? 'current release: none (run mono deploy)' : `current release: ${current.id} (deployed ${age(current.meta?.createdAt, now)} by ${current.meta?.by ?? '?'})`];
  const running = releases.flatMap((r) => r.units.map((u) => ({ release: r.id, current: r.current, ...u })));
  lines.push(running.length === 0 ? 'running: nothing' : 'running:');
  for (const u of running) {
    const what = u.unit.replace(/\.service$/, '');
    const note = u.state === 'deactivating' ? 'draining: finishing its work, exits by itself' : u.current ? 'serving' : u.state === 'active' ? 'serving pinned tenants, or waiting to drain' : u.state;
    lines.push(`  ${what}  ${u.state}  (${note})`);
  }
  lines.push(lock.locked ? `lock: held by ${describeHolder(lock.holder, lock.stale)}` : 'lock: free');
  const shown = handovers.filter((h, i) => h.running || i === 0);
  if (shown.length > 0) lines.push('handovers:', ...shown.flatMap((h) => describeHandover(h, now).map((l) => `  ${l}`)));
  return lines;
}

function duration(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

export function boxLines(box: BoxFacts, checks: Config['checks']['disk']): Line[] {
  const used = box.memory.totalBytes - box.memory.availableBytes;
  const pct = box.memory.totalBytes === 0 ? 0 : Math.round((used / box.memory.totalBytes) * 100);
  const lines: Line[] = [{ text: `box: up ${duration(box.uptimeS)}, load ${box.load.join(' ')} (${box.cores} cores), memory ${formatBytes(used)} of ${formatBytes(box.memory.totalBytes)} used (${pct}%)` }];
  const disk = judgeDisk(box.disks, { maxUsedPercent: checks.maxUsedPercent, maxInodesPercent: checks.maxInodesPercent });
  const parts = box.disks.map((d) => ('error' in d ? `${d.path}: ${d.error}` : `${d.path} ${d.usedPercent}% of ${formatBytes(d.totalBytes)} (inodes ${d.inodesUsedPercent}%)`));
  lines.push({ text: `disk: ${parts.join(', ')}${disk.status === 'ok' ? '' : ` — ${disk.message}`}`, ...(disk.status === 'fail' ? { level: 'red' as const } : disk.status === 'warning' ? { level: 'yellow' as const } : {}) });
  return lines;
}

export function cronLines(cron: BoxStatus['cron'], unit: string, now = Date.now()): Line[] {
  if ('error' in cron) return [{ text: `cron: ${cron.error}`, level: 'red' }];
  const lines: Line[] = [{ text: `cron: service ${cron.service}${cron.service === 'active' ? '' : ` (nothing runs on schedule: sudo systemctl start ${unit} on the box, or run mono setup)`}`, ...(cron.service === 'active' ? {} : { level: 'red' as const }) }];
  const width = Math.max(0, ...cron.jobs.map((j) => j.name.length));
  for (const j of cron.jobs) {
    const next = j.running === undefined ? `next ${until(j.nextRun, now)}` : `running since ${age(j.running.startedAt, now)}`;
    const last = j.lastRun === undefined ? 'never ran' : `last ${age(j.lastRun.startedAt, now)}: ${lastResult(j.lastRun)}`;
    const bad = j.lastRun?.status === 'fail' || j.lastRun?.status === 'timeout';
    lines.push({ text: `  ${j.name.padEnd(width)}  ${j.cron.padEnd(14)}  ${next.padEnd(12)}  ${last}`, ...(bad ? { level: 'red' as const } : j.lastRun?.status === 'warning' ? { level: 'yellow' as const } : {}) });
  }
  const alerts = Object.entries(cron.alerts);
  lines.push({ text: alerts.length === 0 ? 'alerts: none' : 'alerts:' });
  for (const [job, a] of alerts) lines.push({ text: `  ${job}: ${a.status} since ${age(a.since, now)}: ${a.message}${a.hint === undefined ? '' : ` (hint: ${a.hint})`}`, level: a.status === 'fail' ? 'red' : 'yellow' });
  return lines;
}

export async function statusCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const L = layoutOf(config);
  const dbs = config.databases.map((d) => d.name);
  const s = await agentCall<BoxStatus>(t, ['status'], L.root, {
    extra: ['--app', config.app, ...(dbs.length === 0 ? [] : ['--dir', config.backups.dir, '--dbs', dbs.join(',')]), ...diskPaths(config).flatMap((p) => ['--disk-path', p])],
  });
  const health = s.backups === null ? [] : backupHealth(s.backups, config.backups.maxDataLossMs, config.backups.offsite !== undefined);
  const lines: Line[] = [
    ...boxLines(s.box, config.checks.disk),
    ...statusLines(s.releases, s.lock, s.handovers).map((text) => ({ text })),
    ...(health.length === 0 ? [] : [{ text: 'backups:' }, ...health.map((h) => ({ text: `  ${h.text}`, ...(h.red ? { level: 'red' as const } : {}) }))]),
    ...cronLines(s.cron, L.cronUnitName),
  ];
  const red = lines.filter((l) => l.level === 'red').map((l) => l.text.trim());
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'status', app: config.app, ...s, backups: health, red: red.length > 0, problems: red }));
  else {
    const c = ctx.log.colors;
    ctx.log.data([`${config.app} on ${config.target.host}`, ...lines.map((l) => (l.level === 'red' ? c.red(l.text) : l.level === 'yellow' ? c.yellow(l.text) : l.text))].join('\n'));
  }
  return red.length > 0 ? ExitCode.remote : 0;
}
