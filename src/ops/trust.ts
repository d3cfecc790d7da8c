// `mono trust HOST`: show the host key fingerprint and pin it in known_hosts, after an explicit yes.
import { appendFileSync, chmodSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { confirm } from '../cli/ask.js';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { fetchHostKey } from '../ssh/fetch-host-key.js';
import { loadKnownHosts } from '../ssh/host-keys.js';
import { fingerprint, keyTypeOf, knownHostsLine, verifyHostKey } from '../ssh/known-hosts.js';
import { knownHostsName, requireTarget, type SshTarget } from '../ssh/target.js';
import { configOrUndefined } from './config-optional.js';

/** The file name part OpenSSH uses for a key type: /etc/ssh/ssh_host_<part>_key.pub. */
function hostKeyFileType(type: string): string {
  if (type === 'ssh-ed25519') return 'ed25519';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  if (type === 'ssh-rsa') return 'rsa';
  return '*';
}

export async function trustCommand(ctx: Context, given: string | undefined, options: { fingerprint?: string; file?: string }): Promise<number> {
  const config = await configOrUndefined(ctx, given === undefined);
  const target: SshTarget = given === undefined ? (config?.target ?? requireTarget('')) : requireTarget(given, 'root');
  const file = options.file ?? config?.ssh.projectKnownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  const files = [...new Set([file, ...(config?.ssh.knownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts')])])];
  const name = knownHostsName(target);
  const blob = await fetchHostKey(target, config?.ssh.connectTimeoutMs ?? 10_000);
  const fp = fingerprint(blob);
  const type = keyTypeOf(blob);
  ctx.log.info(`${name} presents a ${type} host key`);
  ctx.log.info(`  fingerprint: ${ctx.log.colors.bold(fp)}`);
  ctx.log.event('trust.key', { host: name, type, fingerprint: fp });
  if (options.fingerprint !== undefined && options.fingerprint !== fp) {
    throw new MonoError('HOST_KEY_CHANGED', `${name} presents ${fp}, not the expected ${options.fingerprint}; nothing was pinned`, { hint: 'someone may be intercepting the connection, or the fingerprint was copied wrong' });
  }
  const verdict = verifyHostKey(loadKnownHosts(files), name, blob);
  if (verdict.kind === 'trusted') {
    ctx.log.info(`already trusted (${verdict.entry.file}:${verdict.entry.line})`);
    return 0;
  }
  if (verdict.kind === 'changed' || verdict.kind === 'revoked') {
    throw new MonoError(verdict.kind === 'changed' ? 'HOST_KEY_CHANGED' : 'HOST_KEY_REVOKED', `${name} already has a different pinned key; refusing to add another`, {
      hint: 'if the server really was reinstalled, verify the new fingerprint out of band, delete the old line, then run mono trust again',
      details: verdict.kind === 'changed' ? verdict.expected.map((e) => `pinned: ${e.file}:${e.line}`) : [`revoked: ${verdict.entry.file}:${verdict.entry.line}`],
    });
  }
  if (options.fingerprint === undefined && !ctx.options.yes) {
    if (process.stdin.isTTY !== true) {
      throw new MonoError('USAGE', 'refusing to trust a host key without confirmation', { hint: `compare the fingerprint with the server's (ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileType(type)}_key.pub), then pass --fingerprint ${fp}` });
    }
    if (!(await confirm(`Compare it with the server's own fingerprint. Pin it in ${file}? [y/N] `))) {
      throw new MonoError('HOST_KEY_UNKNOWN', `not pinned: the host key of ${name} stays untrusted`, { hint: 'run mono trust again once you have compared the fingerprint' });
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fresh = !existsSync(file);
  appendFileSync(file, knownHostsLine(name, blob) + '\n', { mode: 0o600 });
  if (fresh) chmodSync(file, 0o600);
  ctx.log.info(`pinned ${name} in ${file}`);
  ctx.log.event('trust.pinned', { host: name, fingerprint: fp, file });
  return 0;
}
