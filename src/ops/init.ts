// `mono init`: writes a commented starter mono.yml and a Procfile example (never overwrites without --force).
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { parseTarget } from '../ssh/target.js';

export function starterConfig(app: string, host: string): string {
  return `# yaml-language-server: $schema=./node_modules/mono/src/config/mono.schema.json
# mono.yml: everything mono needs to know about your app and its box.
# Durations are seconds or strings like 30s, 10m, 2h, 7d. \`mono config\` checks this file.

app: ${app}                      # names the Unix user, /srv/<app>, the systemd units and the nginx site
host: ${host}            # how \`mono setup\` logs in: root, or a user with passwordless sudo
# user: ${app}                   # the deploy user that owns and runs the app (default: app name)
# root: /srv/${app}              # where releases, shared files and state live on the box

ssh:
  # identity: ~/.ssh/id_ed25519 # default: keys from ssh-agent
  # known_hosts: known_hosts    # a project file besides ~/.ssh/known_hosts; \`mono trust\` pins keys here
  # authorized_keys: [~/.ssh/id_ed25519.pub]  # keys that may deploy (default: <identity>.pub)
  connect_timeout: 10s
  command_timeout: 10m

# Process types come from the Procfile next to this file (web, worker, release …).
# web listens on the unix socket in $MONO_LISTEN and answers GET /up with 200 when ready.
procfile: Procfile

health:
  path: /up
  timeout: 60s

handover:
  drain_timeout: 30m             # old versions may finish requests and jobs for this long; nothing is killed earlier

nginx:
  server_names: [_]              # e.g. [shop.example.com, www.shop.example.com]; _ answers any name
  listen: 80
  # tls:
  #   certificate: /etc/letsencrypt/live/shop.example.com/fullchain.pem
  #   key: /etc/letsencrypt/live/shop.example.com/privkey.pem

# env_file: .env.production      # uploaded to shared/.env with mode 0600, never printed
# shared: [storage, log]         # kept across releases

# databases:
#   - name: ${app.replaceAll('-', '_')}

# backups:
#   max_data_loss: 24h
#   offsite:
#     host: backup@backup.example.com
#     path: /srv/backups/${app}

# schedules:
#   backup: "0 3 * * *"
#   restore_test: "30 4 * * 0"

# notifications:
#   webhook: $MONO_WEBHOOK_URL   # "$NAME" reads the value from the environment
`;
}

export const STARTER_PROCFILE = `# One line per process type: name: command. mono runs each as a systemd unit per release.
# web gets its unix socket path in $MONO_LISTEN; release runs once per deploy before the switch.
web: node server.js
# worker: node worker.js
# release: node migrate.js
`;

export async function initCommand(ctx: Context, options: { app?: string; host?: string; force?: boolean }): Promise<number> {
  const configPath = ctx.configPath;
  const dir = dirname(configPath);
  const procfile = join(dir, 'Procfile');
  const app = options.app ?? (basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '').slice(0, 31) || 'app');
  const host = options.host ?? 'root@203.0.113.10';
  if (typeof parseTarget(host) === 'string') throw new MonoError('USAGE', `--host "${host}" is not user@host[:port]`, { hint: 'for example: --host root@203.0.113.10:22' });
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(app)) throw new MonoError('USAGE', `"${app}" is not a valid app name`, { hint: 'pass --app with lower-case letters, digits and "-"' });
  const written: string[] = [];
  for (const [path, content] of [
    [configPath, starterConfig(app, host)],
    [procfile, STARTER_PROCFILE],
  ] as const) {
    if (existsSync(path) && options.force !== true) {
      ctx.log.info(`kept ${path} (exists; --force overwrites)`);
      continue;
    }
    if (!ctx.options.dryRun) writeFileSync(path, content, { mode: 0o644 });
    written.push(path);
    ctx.log.info(`${ctx.options.dryRun ? 'would write' : 'wrote'} ${path}`);
  }
  ctx.log.event('init.done', { written });
  if (written.includes(configPath)) ctx.log.info('next: edit mono.yml, run `mono trust` to pin the host key, then `mono setup`');
  return 0;
}
