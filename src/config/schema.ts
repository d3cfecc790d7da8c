// The shape of mono.yml, written once: validation, defaults and the generated JSON Schema all come from here.
import { z } from 'zod';
import { parseTarget } from '../ssh/target.js';
import { JOB_NAMES, type JobName } from '../cron/names.js';

const DURATION = /^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/;
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION, { error: 'expected a duration such as 30s, 10m, 2h or 7d' })])
  .meta({ description: 'A duration: a number of seconds, or a string such as "30s", "10m", "2h", "7d".' });

const absolutePath = z.string().regex(/^\/[^\s;{}'"`$\\]*$/, { error: 'expected an absolute path on the box without spaces, quotes or ; { } $ \\' });
const localPath = z.string().min(1, { error: 'expected a path' });
const cron = z.string().meta({ description: 'A cron expression (5 fields, or 6 with seconds first), checked with node-cron.' });
const scheduledJob = z
  .union([cron, z.strictObject({ cron, timeout: duration.optional().meta({ description: 'Stop the run after this long (default: per job).' }) })])
  .meta({ description: 'A cron expression, "off", or {cron, timeout}.' });
const secretUrl = z.string().meta({ description: 'A URL. Treated as a secret: `mono config` shows it as [redacted]. Write "$NAME" to read it from the environment.' });

const processName = /^[a-z][a-z0-9_-]{0,30}$/;

const sshTarget = z.string().superRefine((value, ctx) => {
  const parsed = parseTarget(value);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

export const LISTEN = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|\*):)?(\d{1,5})$/;
const listenAddress = z.union([z.int(), z.string()]).superRefine((value, ctx) => {
  const match = LISTEN.exec(String(value));
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65535)) ctx.addIssue({ code: 'custom', message: `expected a port (1-65535) or address:port, got "${String(value)}"` });
});

const retention = z.strictObject({
  hourly: z.int().nonnegative().default(0),
  daily: z.int().nonnegative().default(7),
  weekly: z.int().nonnegative().default(4),
  monthly: z.int().nonnegative().default(6),
  min_verified: z.int().min(1, { error: 'must keep at least 1 verified backup' }).default(2).meta({ description: 'Never prune below this many verified backups.' }),
});

export const configSchema = z
  .strictObject({
    app: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, { error: 'expected a short lower-case name: letters, digits and "-", starting with a letter (at most 31 characters)' }).meta({ description: 'The app name. It names the Unix user, the folders, the systemd units and the nginx site.' }),
    host: sshTarget.meta({ description: 'How mono reaches the box for `mono setup`: user@host[:port]. The user is root or a sudo user.' }),
    user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'expected a Unix user name (lower case, at most 32 characters)' }).optional().meta({ description: 'The deploy user that owns and runs the app. Deploys log in as this user. Default: the app name.' }),
    root: absolutePath.optional().meta({ description: 'Where the app lives on the box. Default: /srv/<app>.' }),
    ssh: z
      .strictObject({
        identity: localPath.optional().meta({ description: 'Private key file to log in with. Default: the keys in ssh-agent.' }),
        known_hosts: localPath.optional().meta({ description: 'A project known_hosts file, read in addition to ~/.ssh/known_hosts. `mono trust` writes here when set.' }),
        authorized_keys: z.array(localPath).optional().meta({ description: 'Public key files installed for the deploy user. Default: <identity>.pub.' }),
        connect_timeout: duration.default('10s'),
        command_timeout: duration.default('10m'),
      })
      .default({ connect_timeout: '10s', command_timeout: '10m' }),
    procfile: localPath.default('Procfile').meta({ description: 'The Procfile that lists the process types, relative to mono.yml.' }),
    processes: z.record(z.string(), z.string().min(1)).optional().meta({ description: 'Process types, Procfile style (name: command). Overrides the Procfile when given.' }),
    health: z
      .strictObject({
        path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, { error: 'expected a URL path starting with /' }).default('/up'),
        timeout: duration.default('60s'),
      })
      .default({ path: '/up', timeout: '60s' }),
    handover: z
      .strictObject({
        drain_timeout: duration.default('30m').meta({ description: 'How long an old version may take to finish its requests and jobs. Nothing is killed before it ends.' }),
        drain_timeouts: z
          .record(z.string(), duration)
          .default({})
          .meta({ description: 'The drain budget of single process types, overriding drain_timeout (for example worker: 2h for jobs that run long).' }),
        verify_window: duration
          .default('5s')
          .meta({ description: 'After the switch, how long the new web instance is watched; if it crashes meanwhile, traffic goes back to the old one, which still runs. 0s turns it off.' }),
        listen: z
          .enum(['socket', 'port'])
          .default('socket')
          .meta({ description: 'How the web process listens: socket (a unix socket per release, MONO_LISTEN) or port (a free loopback TCP port per release, MONO_PORT, which systemd-socket-proxyd bridges to the same per-release socket for nginx).' }),
        strategy: z
          .enum(['nginx', 'socket', 'bind-retry'], { error: 'expected nginx, socket or bind-retry' })
          .default('nginx')
          .meta({
            description:
              'How traffic moves to a new version. nginx: nginx in front switches to the new release\'s socket. socket: no proxy; one listening socket on public_listen, held by systemd, is passed to every version (LISTEN_FDS, and stdin). bind-retry: no proxy; the seed thread\'s protocol (the new version touches MONO_SHUTDOWN_FILE and retries bind), best effort.',
          }),
        public_listen: listenAddress
          .optional()
          .meta({ description: 'With strategy socket or bind-retry: the port, or address:port, clients connect to (the app serves it itself, without nginx).' }),
        tenant_key: z
          .string()
          .regex(/^(host|header:[A-Za-z0-9-]{1,64}|cookie:[A-Za-z0-9_]{1,64})$/, { error: 'expected host, header:<Name> or cookie:<name>' })
          .optional()
          .meta({ description: 'Turns on per-tenant cutover: what names the tenant of a request (host, header:X-Tenant or cookie:tenant). Tenants busy on the old version stay there until their jobs finish.' }),
        tenant_pin_timeout: duration
          .default('30m')
          .meta({ description: 'A tenant pinned to the old version moves to the new one after this long even if its jobs still run there.' }),
      })
      .default({ drain_timeout: '30m', drain_timeouts: {}, verify_window: '5s', listen: 'socket', strategy: 'nginx', tenant_pin_timeout: '30m' }),
    nginx: z
      .strictObject({
        server_names: z.array(z.string()).min(1, { error: 'list at least one server name' }).default(['_']),
        listen: listenAddress.default(80).meta({ description: 'Port, or address:port, for plain HTTP.' }),
        tls: z
          .strictObject({
            certificate: absolutePath.optional(),
            key: absolutePath.optional(),
            listen: listenAddress.default(443),
          })
          .optional(),
        client_max_body_size: z.string().regex(/^\d+[kmg]?$/i, { error: 'expected a size such as 10m' }).default('10m'),
      })
      .default({ server_names: ['_'], listen: 80, client_max_body_size: '10m' }),
    release: z
      .strictObject({
        source: localPath.default('.').meta({ description: 'The build folder that becomes a release, relative to mono.yml.' }),
        ignore_file: localPath.optional().meta({ description: 'Paths to leave out, in .gitignore syntax. Default: .monoignore in the build folder, if present.' }),
        build: z.string().min(1).optional().meta({ description: 'A local command run in the project folder before packaging (for example "npm run build"). The deploy stops if it fails.' }),
        keep: z.int().min(1, { error: 'keep at least 1 release' }).default(5).meta({ description: 'How many releases to keep on the box (the current and any still running are always kept).' }),
        compress: z.boolean().default(true).meta({ description: 'gzip (level 1) the upload stream. Turn off on fast links.' }),
      })
      .default({ source: '.', keep: 5, compress: true }),
    env_file: localPath.optional().meta({ description: 'Local env file uploaded to shared/.env (0600). Never printed.' }),
    env_command: z.string().min(1).optional().meta({ description: 'A local command whose output is uploaded as shared/.env (0600), for example "pass show shop/env". Never printed.' }),
    shared: z.array(z.string()).default([]).meta({ description: 'Paths persisted across releases, linked from shared/.' }),
    databases: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'expected a PostgreSQL database name (lower case letters, digits, _)' }),
          user: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
          host: z.string().optional().meta({ description: 'Default: the local unix socket.' }),
          port: z.int().min(1).max(65535).default(5432),
        }),
      )
      .default([]),
    backups: z
      .strictObject({
        dir: absolutePath.optional().meta({ description: 'Default: /var/backups/<app>.' }),
        max_data_loss: duration.default('24h').meta({ description: 'The newest backup may not be older than this.' }),
        max_drop: z
          .int()
          .min(0)
          .max(100)
          .default(50)
          .meta({ description: 'Percent: a backup smaller than the previous one, or with fewer tables, by more than this fails the run (it is kept, and nothing is pruned until a run passes). Smaller drops are warnings.' }),
        encrypt: z.strictObject({ recipients: z.array(z.string().regex(/^age1[0-9a-z]{20,}$/, { error: 'expected an age public key (age1…)' })).min(1) }).optional(),
        offsite: z
          .strictObject({
            host: sshTarget.meta({ description: 'user@host[:port] of the offsite backup host.' }),
            path: absolutePath,
            known_hosts: localPath.optional(),
            identity: localPath.optional().meta({ description: 'The private key mono setup logs in to the offsite host with (default: ssh.identity).' }),
          })
          .optional(),
        retention: z.strictObject({ local: retention.optional(), offsite: retention.optional() }).optional(),
      })
      .optional(),
    restore: z
      .strictObject({
        jobs: z.int().min(1).max(32).default(2).meta({ description: 'pg_restore -j: parallel jobs of a restore drill or a restore.' }),
        target: z
          .enum(['cluster', 'scratch'])
          .default('cluster')
          .meta({ description: 'Where a drill restores: cluster (a throwaway cluster of its own, the default) or scratch (a randomly named scratch database on the live server, dropped afterwards; for boxes without the server programs or the room for a second cluster).' }),
        checks: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}$/, { error: 'expected a short name (letters, digits, space, _ . -)' }),
              db: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional().meta({ description: 'The database it runs in (default: every database backed up).' }),
              sql: z.string().min(1).meta({ description: 'One query returning one value, run in the restored copy.' }),
              expect: z.string().optional().meta({ description: 'The value it must return, as text.' }),
              max_age: duration.optional().meta({ description: 'The value is a timestamp that may be at most this much older than the backup (freshness).' }),
            }),
          )
          .default([])
          .meta({ description: 'Smoke checks every restore drill runs in the restored copy, each with an expected value or a freshness bound.' }),
      })
      .default({ jobs: 2, target: 'cluster', checks: [] }),
    schedules: z
      .strictObject(Object.fromEntries(JOB_NAMES.map((job) => [job, scheduledJob.optional()])) as Record<JobName, z.ZodOptional<typeof scheduledJob>>)
      .default({})
      .meta({ description: 'When mono cron runs each maintenance job on the box: a cron expression, "off", or {cron, timeout}. Jobs left out run on their default schedule (mono cron list shows them).' }),
    checks: z
      .strictObject({
        disk: z
          .strictObject({
            paths: z.array(absolutePath).optional().meta({ description: 'Folders whose filesystems are checked (default: the app root, the backups folder, /var/log and /).' }),
            max_used_percent: z.number().min(1).max(100).default(90).meta({ description: 'Red at or above this much of the space used.' }),
            max_inodes_percent: z.number().min(1).max(100).default(90).meta({ description: 'Red at or above this much of the inodes used.' }),
          })
          .default({ max_used_percent: 90, max_inodes_percent: 90 }),
        tls: z
          .strictObject({
            certificates: z.array(absolutePath).default([]).meta({ description: 'Certificate files on the box to watch, besides nginx.tls.certificate.' }),
            warn_days: z.int().min(1).default(14).meta({ description: 'Red when a certificate expires within this many days.' }),
          })
          .default({ certificates: [], warn_days: 14 }),
        lock: z
          .strictObject({ max_held: duration.default('2h').meta({ description: 'A deploy lock held longer than this is reported (a stale one, whose holder is gone, always is).' }) })
          .default({ max_held: '2h' }),
      })
      .default({ disk: { max_used_percent: 90, max_inodes_percent: 90 }, tls: { certificates: [], warn_days: 14 }, lock: { max_held: '2h' } })
      .meta({ description: 'Thresholds of the checks mono cron runs and mono status shows.' }),
    notifications: z
      .strictObject({
        webhook: secretUrl.optional(),
        ping: z.record(z.string(), secretUrl).optional().meta({ description: 'Healthchecks-style ping URLs by job name (backup, restore_test, …).' }),
      })
      .default({}),
  })
  .meta({ title: 'mono.yml', description: 'Configuration of mono, the one-box deploy, backup and maintenance toolkit.' });

export type RawConfig = z.output<typeof configSchema>;
export { processName };
