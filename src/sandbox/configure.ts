// Writes a box's own settings into its overlay before boot: sshd port and host key, root's key, nginx/PostgreSQL tweaks.
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type BoxKind = 'app' | 'offsite';

export interface BoxSettings {
  readonly kind: BoxKind;
  readonly machine: string;
  readonly sshPort: number;
  /** "ssh-ed25519 AAAA…" of the client key that may log in as root. */
  readonly authorizedKey: string;
}

export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/mono-sandbox.conf';
export const POSTGRES_DROP_IN = '/etc/postgresql/15/main/conf.d/mono-sandbox.conf';
/** Units an offsite box does not run (it only receives backups over SSH). */
export const OFFSITE_MASKED_UNITS: readonly string[] = ['nginx.service', 'postgresql.service', 'postgresql@15-main.service'];

export function sshdDropIn(sshPort: number): string {
  return [
    '# Written by mono sandbox: this box listens on its own loopback port and uses only its own host key.',
    `Port ${sshPort}`,
    'ListenAddress 127.0.0.1',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PasswordAuthentication no',
    'PermitRootLogin prohibit-password',
    '',
  ].join('\n');
}

export const POSTGRES_CONF = [
  '# Written by mono sandbox: boxes share the host network, so PostgreSQL listens on its unix socket only.',
  "listen_addresses = ''",
  '',
].join('\n');

function write(root: string, path: string, content: string, mode = 0o644): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
}

/** Applies the settings to the merged root of a box that has not booted yet. */
export function configureBox(root: string, settings: BoxSettings): void {
  write(root, SSHD_DROP_IN, sshdDropIn(settings.sshPort));

  const sshDir = join(root, 'root/.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  chmodSync(sshDir, 0o700);
  write(root, 'root/.ssh/authorized_keys', `${settings.authorizedKey} mono-sandbox\n`, 0o600);

  // Each box is its own machine: its own machine id and host name.
  const machineId = randomBytes(16).toString('hex');
  write(root, 'etc/machine-id', `${machineId}\n`, 0o444);
  if (existsSync(join(root, 'var/lib/dbus'))) write(root, 'var/lib/dbus/machine-id', `${machineId}\n`);
  write(root, 'etc/hostname', `${settings.machine}\n`);
  appendFileSync(join(root, 'etc/hosts'), `127.0.1.1\t${settings.machine}\n`);

  // Port 80 would clash between boxes that share the host network; mono's own site config brings the listen port.
  rmSync(join(root, 'etc/nginx/sites-enabled/default'), { force: true });

  if (settings.kind === 'app') {
    write(root, POSTGRES_DROP_IN, POSTGRES_CONF);
  } else {
    for (const unit of OFFSITE_MASKED_UNITS) {
      const link = join(root, 'etc/systemd/system', unit);
      rmSync(link, { force: true });
      symlinkSync('/dev/null', link);
    }
  }
}
