// `mono setup` with backups.offsite: the box gets a key of its own for the offsite host, and the offsite host accepts that
// key for one forced command only (templates/offsite/receive.sh): add, read, hash and list backups, never delete or
// overwrite. The offsite side is set up with the operator's own login, which is also what prunes there later.
import type { Context } from '../../cli/context.js';
import { probe, shellScript } from '../../commands/cmd.js';
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { loadKnownHosts } from '../../ssh/host-keys.js';
import { patternsMatch } from '../../ssh/known-hosts.js';
import { knownHostsName } from '../../ssh/target.js';
import { readTemplate } from '../../templates/find.js';
import { render } from '../../templates/render.js';
import { SshTransport } from '../../transport/ssh.js';
import type { Transport } from '../../transport/transport.js';

/** Where the box keeps its offsite key and the offsite host's pinned key. */
export function offsiteFiles(config: Pick<Config, 'root'>): { key: string; knownHosts: string } {
  return { key: `${config.root}/.ssh/offsite_ed25519`, knownHosts: `${config.root}/.ssh/known_hosts_offsite` };
}

/** The operator's pinned key lines for the offsite host, as the box's own known_hosts file. */
export function offsiteKnownHosts(config: Config): string {
  const offsite = config.backups.offsite!;
  const name = knownHostsName(offsite.target);
  const lines = loadKnownHosts(offsite.knownHostsFiles)
    .filter((e) => e.marker === '' && patternsMatch(e.patterns, name))
    .map((e) => `${name} ${e.keyType} ${e.keyBase64}`);
  if (lines.length === 0) throw new MonoError('HOST_KEY_UNKNOWN', `no pinned host key for the offsite host ${name}`, { hint: `pin it first: mono trust ${offsite.target.user}@${offsite.target.host}:${offsite.target.port}` });
  return [...new Set(lines)].join('\n') + '\n';
}

export async function connectOffsite(ctx: Context, config: Config): Promise<SshTransport> {
  const offsite = config.backups.offsite!;
  const identity = offsite.identity ?? config.ssh.identity;
  const t = await SshTransport.connect({
    target: offsite.target,
    ...(identity === undefined ? {} : { identityFile: identity }),
    knownHostsFiles: offsite.knownHostsFiles,
    connectTimeoutMs: config.ssh.connectTimeoutMs,
    commandTimeoutMs: config.ssh.commandTimeoutMs,
    onCommand: (line) => ctx.log.debug(line),
  });
  ctx.onCleanup(() => t.close());
  return t;
}

type Outcome = 'unchanged' | 'changed';

/** Replaces a file with `content` (mode, owner) when it differs; reports which. */
async function ensureContent(t: Transport, path: string, content: string, mode: string, owner?: string): Promise<Outcome> {
  const now = await t.run(probe(['sh', '-c', 'cat -- "$1" 2>/dev/null; true', 'mono', path], { privileged: owner !== undefined }));
  if (now.stdout === content) return 'unchanged';
  await t.run(
    shellScript('set -e; umask 077; cat > "$1.mono-tmp"; chmod "$2" "$1.mono-tmp"; if [ -n "$3" ]; then chown "$3:$3" "$1.mono-tmp"; fi; mv -f "$1.mono-tmp" "$1"', [path, mode, owner ?? ''], {
      stdin: content,
      privileged: owner !== undefined,
      mutates: true,
    }),
  );
  return 'changed';
}

export async function setupOffsite(ctx: Context, config: Config, box: Transport): Promise<void> {
  const offsite = config.backups.offsite;
  if (offsite === undefined) return;
  const files = offsiteFiles(config);
  const where = `${offsite.target.user}@${offsite.target.host}:${offsite.target.port}`;
  if (ctx.options.dryRun) {
    ctx.log.info(`  would give the box a backup key (${files.key}) and let it only add backups on ${where}:${offsite.path}`);
    return;
  }
  const say = (what: string, outcome: Outcome): void => {
    ctx.log.info(`  ${outcome === 'changed' ? ctx.log.colors.yellow('changed  ') : ctx.log.colors.dim('unchanged')} ${what}`);
    ctx.log.event('step', { id: what, status: outcome });
  };
  // 1. The box's own key, made on the box (the private half never leaves it).
  const made = await box.run(
    shellScript('set -e; if [ -f "$1" ]; then echo unchanged; else install -d -m 0700 -o "$2" -g "$2" "$(dirname "$1")"; runuser -u "$2" -- ssh-keygen -q -t ed25519 -N "" -C "mono-$3-box" -f "$1"; echo changed; fi', [files.key, config.user, config.app], {
      privileged: true,
      mutates: true,
    }),
  );
  say(`offsite key ${files.key}`, made.stdout.trim() === 'changed' ? 'changed' : 'unchanged');
  const publicKey = (await box.run(probe(['cat', '--', `${files.key}.pub`], { privileged: true }))).stdout.trim();
  // 2. The offsite host's key, pinned for the box from the operator's verified known_hosts.
  say(`offsite host key pinned in ${files.knownHosts}`, await ensureContent(box, files.knownHosts, offsiteKnownHosts(config), '0644', config.user));
  // 3. On the offsite host: the receiver, the folder, and the key restricted to the receiver.
  const t = await connectOffsite(ctx, config);
  const home = (await t.run(probe(['sh', '-c', 'printf %s "$HOME"']))).stdout.trim();
  if (!home.startsWith('/')) throw new MonoError('REMOTE_FAILED', `cannot find the home folder of ${offsite.target.user} on ${where}`, { hint: 'log in there by hand and check the account' });
  const receiver = `${home}/.mono-offsite/receive-${config.app}`;
  await t.run(shellScript('set -e; umask 077; mkdir -p "$1" "$2" "$3/.ssh"', [`${home}/.mono-offsite`, offsite.path, home], { mutates: true }));
  const script = readTemplate('offsite/receive.sh', config.dir);
  say(`offsite receiver ${receiver}`, await ensureContent(t, receiver, render(script.text, { app: config.app }, script.origin), '0755'));
  const line = `restrict,command="${receiver} ${offsite.path} ${config.app}" ${publicKey}`;
  const present = await t.run(probe(['grep', '-qxF', '--', line, `${home}/.ssh/authorized_keys`], { okCodes: [0, 1, 2] }));
  if (present.code === 0) say(`box key allowed on ${where} for the receiver only`, 'unchanged');
  else {
    // A key of this box with other options (an older receiver path) goes, so the box never has two ways in.
    await t.run(shellScript('set -e; umask 077; f="$1"; touch "$f"; grep -vF -- "$2" "$f" > "$f.mono-tmp" || true; printf "%s\\n" "$3" >> "$f.mono-tmp"; chmod 600 "$f.mono-tmp"; mv -f "$f.mono-tmp" "$f"', [`${home}/.ssh/authorized_keys`, publicKey.split(' ').slice(0, 2).join(' '), line], { mutates: true }));
    say(`box key allowed on ${where} for the receiver only`, 'changed');
  }
}
