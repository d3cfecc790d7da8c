// `mono agent status`: everything mono status shows, gathered by one process on the box (one Node start, one SSH
// command): the box (uptime, load, memory, disks), releases and units, the lock, handovers, backups, cron and alerts.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, uptime } from 'node:os';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { backupListing } from './backup/listing.js';
import { diskUsage, type DiskUsage } from './checks/disk.js';
import { cronListing, type CronListing } from './cron/listing.js';
import { errorMessage } from './fs-errors.js';
import { agentHandler } from './handler.js';
import { listStates } from './handover/journal.js';
import { lockStatus } from './lock.js';
import { parseApp } from './options.js';
import { agentPaths, requireRoot } from './paths.js';
import { pidAlive } from './pid.js';
import { listReleases } from './releases.js';

export interface BoxFacts {
  readonly uptimeS: number;
  readonly load: readonly number[];
  readonly cores: number;
  readonly memory: { readonly totalBytes: number; readonly availableBytes: number };
  readonly disks: readonly DiskUsage[];
}

/** MemTotal and MemAvailable from /proc/meminfo (os.freemem() leaves out the page cache the kernel gives back). */
export function memoryOf(meminfo: string): { totalBytes: number; availableBytes: number } {
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

export function boxFacts(diskPaths: readonly string[]): BoxFacts {
  let meminfo = '';
  try {
    meminfo = readFileSync('/proc/meminfo', 'utf8');
  } catch {
    // not Linux: memory shows as 0
  }
  return { uptimeS: Math.round(uptime()), load: loadavg().map((l) => Math.round(l * 100) / 100), cores: cpus().length, memory: memoryOf(meminfo), disks: diskUsage(diskPaths) };
}

export const statusHandler = agentHandler('status', async (ctx: Context, o: { root?: string; app?: string; dir?: string; dbs?: string; diskPath?: string[] }) => {
  const root = requireRoot(o.root);
  const app = parseApp(o.app);
  if (app === undefined) throw new MonoError('USAGE', 'status needs --app <name>');
  const paths = agentPaths(root);
  const dbs = (o.dbs ?? '').split(',').filter(Boolean);
  const cronOrError = (): Promise<CronListing | { error: string }> => cronListing(root).catch((error: unknown) => ({ error: errorMessage(error) }));
  const [releases, lock, cron] = await Promise.all([listReleases(root, { app }), lockStatus(paths), cronOrError()]);
  ctx.log.data(
    JSON.stringify({
      box: boxFacts(o.diskPath ?? [root]),
      releases,
      lock,
      handovers: listStates(`${paths.monoDir}/handover`).slice(0, 5).map((s) => ({ ...s, running: pidAlive(s.pid) })),
      backups: dbs.length === 0 || o.dir === undefined ? null : backupListing(o.dir, dbs),
      cron,
    }),
  );
});
