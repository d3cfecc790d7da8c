// Phase 2: apply defaults, resolve paths, read the Procfile, parse targets and wrap secrets.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Secret } from '../log/secret.js';
import { parseTarget, type SshTarget } from '../ssh/target.js';
import { durationMs } from './duration.js';
import { problem, type Problem } from './problems.js';
import { parseProcfile } from './procfile.js';
import { LISTEN, type RawConfig } from './schema.js';
import type { Config, ListenAddress, Retention, TenantKey } from './types.js';
import { scheduledJobs } from '../cron/jobs.js';

export interface NormalizeContext {
  readonly file: string;
  readonly dir: string;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
}

const DEFAULT_RETENTION: Retention = { hourly: 0, daily: 7, weekly: 4, monthly: 6, min_verified: 2 };

export function localPath(value: string, context: NormalizeContext): string {
  if (value === '~') return context.home;
  if (value.startsWith('~/')) return join(context.home, value.slice(2));
  return resolve(context.dir, value);
}

function listen(value: number | string, path: string, problems: Problem[]): ListenAddress {
  const text = String(value);
  const match = LISTEN.exec(text);
  const port = match?.[2] === undefined ? NaN : Number(match[2]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    problems.push(problem(path, `expected a port (1-65535) or address:port, got "${text}"`, 'for example: 80, or 127.0.0.1:8080'));
    return { port: 80 };
  }
  return match[1] === undefined ? { port } : { address: match[1], port };
}

function target(value: string, path: string, problems: Problem[]): SshTarget {
  const parsed = parseTarget(value);
  if (typeof parsed === 'string') {
    problems.push(problem(path, parsed, 'write it as user@host or user@host:port, for example root@203.0.113.7:22'));
    return { user: 'root', host: 'invalid', port: 22 };
  }
  return parsed;
}

function secret(value: string, path: string, context: NormalizeContext, problems: Problem[]): Secret {
  if (value.startsWith('$')) {
    const name = value.slice(1);
    const fromEnv = context.env[name];
    if (fromEnv === undefined || fromEnv === '') problems.push(problem(path, `environment variable ${name} is not set`, `export ${name}=… before running mono, or write the value itself`));
    return new Secret(fromEnv ?? '');
  }
  return new Secret(value);
}

function processesOf(raw: RawConfig, context: NormalizeContext, problems: Problem[]): { processes: Record<string, string>; source: string } {
  if (raw.processes !== undefined) return { processes: raw.processes, source: 'mono.yml processes' };
  const file = localPath(raw.procfile, context);
  if (!existsSync(file)) {
    problems.push(problem('procfile', `no Procfile at ${file}`, 'create one with a line per process type, such as "web: bin/server", or list them under processes:'));
    return { processes: {}, source: file };
  }
  const parsed = parseProcfile(readFileSync(file, 'utf8'), raw.procfile);
  problems.push(...parsed.problems);
  return { processes: parsed.processes, source: file };
}

export function normalize(raw: RawConfig, context: NormalizeContext): { config?: Config; problems: Problem[] } {
  const problems: Problem[] = [];
  const identity = raw.ssh.identity === undefined ? undefined : localPath(raw.ssh.identity, context);
  const projectKnownHosts = raw.ssh.known_hosts === undefined ? undefined : localPath(raw.ssh.known_hosts, context);
  const userKnownHosts = [join(context.home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const knownHostsFiles = [...(projectKnownHosts === undefined ? [] : [projectKnownHosts]), ...userKnownHosts];
  const authorizedKeys = raw.ssh.authorized_keys?.map((k) => localPath(k, context)) ?? (identity === undefined ? [] : [`${identity}.pub`]);
  const { processes, source } = processesOf(raw, context, problems);
  const tls = raw.nginx.tls;
  const offsite = raw.backups?.offsite;
  const user = raw.user ?? raw.app;

  const partial: Omit<Config, 'jobs'> = {
    file: context.file,
    dir: context.dir,
    app: raw.app,
    user,
    root: raw.root ?? `/srv/${raw.app}`,
    target: target(raw.host, 'host', problems),
    ssh: {
      ...(identity === undefined ? {} : { identity }),
      ...(projectKnownHosts === undefined ? {} : { projectKnownHosts }),
      knownHostsFiles,
      authorizedKeys,
      connectTimeoutMs: durationMs(raw.ssh.connect_timeout),
      commandTimeoutMs: durationMs(raw.ssh.command_timeout),
    },
    processes,
    processSource: source,
    health: { path: raw.health.path, timeoutMs: durationMs(raw.health.timeout) },
    handover: {
      drainTimeoutMs: durationMs(raw.handover.drain_timeout),
      drainTimeoutsMs: Object.fromEntries(Object.entries(raw.handover.drain_timeouts).map(([process, d]) => [process, durationMs(d)])),
      verifyWindowMs: durationMs(raw.handover.verify_window),
      listen: raw.handover.listen,
      strategy: raw.handover.strategy,
      ...(raw.handover.public_listen === undefined ? {} : { publicListen: listen(raw.handover.public_listen, 'handover.public_listen', problems) }),
      ...(raw.handover.tenant_key === undefined ? {} : { tenantKey: tenantKey(raw.handover.tenant_key) }),
      tenantPinTimeoutMs: durationMs(raw.handover.tenant_pin_timeout),
    },
    nginx: {
      serverNames: raw.nginx.server_names,
      listen: listen(raw.nginx.listen, 'nginx.listen', problems),
      ...(tls?.certificate !== undefined && tls.key !== undefined ? { tls: { certificate: tls.certificate, key: tls.key, listen: listen(tls.listen, 'nginx.tls.listen', problems) } } : {}),
      clientMaxBodySize: raw.nginx.client_max_body_size,
    },
    release: {
      source: localPath(raw.release.source, context),
      ...(raw.release.ignore_file === undefined ? {} : { ignoreFile: localPath(raw.release.ignore_file, context) }),
      ...(raw.release.build === undefined ? {} : { build: raw.release.build }),
      keep: raw.release.keep,
      compress: raw.release.compress,
    },
    ...(raw.env_file === undefined ? {} : { envFile: localPath(raw.env_file, context) }),
    ...(raw.env_command === undefined ? {} : { envCommand: raw.env_command }),
    shared: raw.shared,
    databases: raw.databases.map((db) => ({ name: db.name, user: db.user ?? user, port: db.port, ...(db.host === undefined ? {} : { host: db.host }) })),
    backups: {
      dir: raw.backups?.dir ?? `/var/backups/${raw.app}`,
      maxDataLossMs: durationMs(raw.backups?.max_data_loss ?? '24h'),
      maxDropPercent: raw.backups?.max_drop ?? 50,
      encryptRecipients: raw.backups?.encrypt?.recipients ?? [],
      ...(offsite === undefined
        ? {}
        : {
            offsite: {
              target: target(offsite.host, 'backups.offsite.host', problems),
              path: offsite.path,
              knownHostsFiles: [...(offsite.known_hosts === undefined ? [] : [localPath(offsite.known_hosts, context)]), ...knownHostsFiles],
              ...(offsite.identity === undefined ? {} : { identity: localPath(offsite.identity, context) }),
            },
          }),
      retention: { local: raw.backups?.retention?.local ?? DEFAULT_RETENTION, offsite: raw.backups?.retention?.offsite ?? DEFAULT_RETENTION },
    },
    restore: {
      jobs: raw.restore.jobs,
      target: raw.restore.target,
      checks: raw.restore.checks.map((c, i) => {
        if (c.expect === undefined && c.max_age === undefined) problems.push(problem(`restore.checks[${i}]`, 'a check needs expect or max_age', 'add expect: "<value>" or max_age: 6h'));
        return { name: c.name, sql: c.sql, ...(c.db === undefined ? {} : { db: c.db }), ...(c.expect === undefined ? {} : { expect: c.expect }), ...(c.max_age === undefined ? {} : { maxAgeMs: durationMs(c.max_age) }) };
      }),
    },
    checks: {
      disk: { paths: raw.checks.disk.paths ?? [], maxUsedPercent: raw.checks.disk.max_used_percent, maxInodesPercent: raw.checks.disk.max_inodes_percent },
      tls: { certificates: raw.checks.tls.certificates, warnDays: raw.checks.tls.warn_days },
      lock: { maxHeldMs: durationMs(raw.checks.lock.max_held) },
    },
    notifications: {
      ...(raw.notifications.webhook === undefined ? {} : { webhook: secret(raw.notifications.webhook, 'notifications.webhook', context, problems) }),
      ping: Object.fromEntries(Object.entries(raw.notifications.ping ?? {}).map(([job, url]) => [job, secret(url, `notifications.ping.${job}`, context, problems)])),
    },
  };
  const settings = Object.fromEntries(Object.entries(raw.schedules).map(([job, v]) => [job, v === undefined || typeof v === 'string' ? v : { cron: v.cron, ...(v.timeout === undefined ? {} : { timeoutMs: durationMs(v.timeout) }) }]));
  const config: Config = { ...partial, jobs: scheduledJobs(settings, partial) };
  return { config, problems };
}

/** handover.tenant_key (already checked against its pattern) as a kind and a name. */
function tenantKey(text: string): TenantKey {
  if (text === 'host') return { kind: 'host', name: 'host' };
  const [kind, name = ''] = text.split(':') as ['header' | 'cookie', string];
  return { kind, name };
}
