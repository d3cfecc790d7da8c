// The resolved config that the rest of mono reads: defaults applied, paths absolute, durations in ms, secrets wrapped.
import type { Secret } from '../log/secret.js';
import type { SshTarget } from '../ssh/target.js';
import type { ScheduledJob } from '../cron/jobs.js';

export type HandoverStrategy = 'nginx' | 'socket' | 'bind-retry';

export interface ListenAddress {
  readonly address?: string;
  readonly port: number;
}

export interface TenantKey {
  readonly kind: 'host' | 'header' | 'cookie';
  readonly name: string;
}

/** The nginx variable that holds a request's tenant key. */
export function tenantVariable(key: TenantKey): string {
  if (key.kind === 'host') return '$host';
  if (key.kind === 'cookie') return `$cookie_${key.name}`;
  return `$http_${key.name.toLowerCase().replaceAll('-', '_')}`;
}

export interface Retention {
  readonly hourly: number;
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
  readonly min_verified: number;
}

export interface Config {
  /** Absolute path of mono.yml, and its folder (relative paths in the file are resolved against it). */
  readonly file: string;
  readonly dir: string;
  readonly app: string;
  readonly user: string;
  readonly root: string;
  /** The login used by `mono setup` (root or a sudo user). */
  readonly target: SshTarget;
  readonly ssh: {
    readonly identity?: string;
    readonly projectKnownHosts?: string;
    /** Every known_hosts file consulted, project file first. */
    readonly knownHostsFiles: readonly string[];
    readonly authorizedKeys: readonly string[];
    readonly connectTimeoutMs: number;
    readonly commandTimeoutMs: number;
  };
  /** Process types in Procfile order; "release" is a one-off step, not a unit. */
  readonly processes: Readonly<Record<string, string>>;
  readonly processSource: string;
  readonly health: { readonly path: string; readonly timeoutMs: number };
  readonly handover: {
    readonly drainTimeoutMs: number;
    /** Per process type, where handover.drain_timeouts sets one. */
    readonly drainTimeoutsMs: Readonly<Record<string, number>>;
    /** How long the new web instance is watched after the switch (0: not at all). */
    readonly verifyWindowMs: number;
    /** How the web process listens: its own unix socket, or a loopback port bridged to that socket. */
    readonly listen: 'socket' | 'port';
    /** How traffic moves: through nginx, or without a proxy on one shared socket (socket) or the seed thread's bind retry. */
    readonly strategy: HandoverStrategy;
    /** strategy socket or bind-retry: where clients connect (handover.public_listen). */
    readonly publicListen?: ListenAddress;
    /** Per-tenant cutover: what names a request's tenant (handover.tenant_key). */
    readonly tenantKey?: TenantKey;
    readonly tenantPinTimeoutMs: number;
  };
  readonly nginx: {
    readonly serverNames: readonly string[];
    readonly listen: ListenAddress;
    readonly tls?: { readonly certificate: string; readonly key: string; readonly listen: ListenAddress };
    readonly clientMaxBodySize: string;
  };
  readonly release: {
    readonly source: string;
    readonly ignoreFile?: string;
    readonly build?: string;
    readonly keep: number;
    readonly compress: boolean;
  };
  readonly envFile?: string;
  readonly envCommand?: string;
  readonly shared: readonly string[];
  readonly databases: readonly { readonly name: string; readonly user: string; readonly host?: string; readonly port: number }[];
  readonly backups: {
    readonly dir: string;
    readonly maxDataLossMs: number;
    /** A drop in size or table count above this percentage fails the run (the backup is kept). */
    readonly maxDropPercent: number;
    readonly encryptRecipients: readonly string[];
    readonly offsite?: { readonly target: SshTarget; readonly path: string; readonly knownHostsFiles: readonly string[]; readonly identity?: string };
    readonly retention: { readonly local: Retention; readonly offsite: Retention };
  };
  readonly restore: { readonly jobs: number; readonly target: 'cluster' | 'scratch'; readonly checks: readonly SmokeCheck[] };
  /** The maintenance jobs mono cron runs on the box (schedules, with defaults; "off" ones left out). */
  readonly jobs: readonly ScheduledJob[];
  readonly checks: {
    readonly disk: { readonly paths: readonly string[]; readonly maxUsedPercent: number; readonly maxInodesPercent: number };
    readonly tls: { readonly certificates: readonly string[]; readonly warnDays: number };
    readonly lock: { readonly maxHeldMs: number };
  };
  readonly notifications: { readonly webhook?: Secret; readonly ping: Readonly<Record<string, Secret>> };
}

/** A restore drill's own check in the restored copy: one value, equal to `expect`, or a timestamp within `maxAgeMs` of the backup. */
export interface SmokeCheck {
  readonly name: string;
  readonly db?: string;
  readonly sql: string;
  readonly expect?: string;
  readonly maxAgeMs?: number;
}

/** Process types that run as long-lived systemd units (everything but the one-off "release"). */
export function serviceProcesses(config: Pick<Config, 'processes'>): string[] {
  return Object.keys(config.processes).filter((name) => name !== 'release');
}
