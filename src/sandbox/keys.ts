// SSH keys for a box: a fresh client key for root, a fresh host key, and the one-line known_hosts that pins it.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { runOk } from './exec.js';

/** Writes an ed25519 key pair (private 0600, public beside it as .pub). The file must not exist yet. */
export async function generateKey(file: string, comment: string, signal?: AbortSignal): Promise<string> {
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeoutMs: 30_000, ...(signal === undefined ? {} : { signal }) });
  chmodSync(file, 0o600);
  return readPublicKey(`${file}.pub`);
}

/** "ssh-ed25519 AAAA…" without the comment. */
export function readPublicKey(pubFile: string): string {
  const [type, key] = readFileSync(pubFile, 'utf8').trim().split(/\s+/);
  if (type === undefined || key === undefined) throw new MonoError('LOCAL_FAILED', `${pubFile} is not an SSH public key`);
  return `${type} ${key}`;
}

export function knownHostsLine(port: number, publicKey: string): string {
  return `[127.0.0.1]:${port} ${publicKey}\n`;
}

export function writeKnownHosts(file: string, port: number, publicKey: string): void {
  writeFileSync(file, knownHostsLine(port, publicKey), { mode: 0o600 });
}
