// `mono status`: the box at a glance: the current release, what runs (and what is still draining), the lock, and the
// handovers that are under way or ended last; each database's newest backup and last restore drill. The exit status is 5
// when a backup or drill line is red, so that a monitor can run it. (Schedules join it with their issue.)
import type { Context } from '../cli/context.js';
import type { LockInfo, ReleaseInfo } from '../release/protocol.js';
import { connect } from './connect.js';
import { agentCall } from './deploy/agent-call.js';
import { describeHolder } from './deploy/lock.js';
import { describeHandover, type HandoverRow } from './handover/command.js';
import { age } from './releases.js';
import { layoutOf } from './setup/layout.js';
import { backupHealth } from './backup/health.js';
import { boxBackups } from './backup/list.js';
import { ExitCode } from '../errors.js';

type LockStatus = { locked: false } | { locked: true; holder: LockInfo; stale: boolean };

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

export async function statusCommand(ctx: Context): Promise<number> {
  const config = await ctx.config();
  const t = await connect(ctx, config, 'deploy');
  const root = layoutOf(config).root;
  const [{ releases }, lock, { handovers }, listing] = await Promise.all([
    agentCall<{ releases: ReleaseInfo[] }>(t, ['releases'], root, { extra: ['--app', config.app] }),
    agentCall<LockStatus>(t, ['lock', 'status'], root),
    agentCall<{ handovers: HandoverRow[] }>(t, ['handover', 'status'], root),
    config.databases.length === 0 ? undefined : boxBackups(t, config),
  ]);
  const health = listing === undefined ? [] : backupHealth(listing, config.backups.maxDataLossMs, config.backups.offsite !== undefined);
  const red = health.some((h) => h.red);
  if (ctx.options.json) ctx.log.data(JSON.stringify({ type: 'status', app: config.app, releases, lock, handovers, backups: health, red }));
  else {
    const c = ctx.log.colors;
    const backupLines = health.length === 0 ? [] : ['backups:', ...health.map((h) => `  ${h.red ? c.red(h.text) : h.text}`)];
    ctx.log.data([`${config.app} on ${config.target.host}`, ...statusLines(releases, lock, handovers), ...backupLines].join('\n'));
  }
  return red ? ExitCode.remote : 0;
}
