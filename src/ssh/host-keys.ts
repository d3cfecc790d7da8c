// Strict host-key policy: load known_hosts files, refuse unknown or changed keys with an actionable message.
import { existsSync, readFileSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { fingerprint, keyTypeOf, parseKnownHosts, pinnedKeyTypes, verifyHostKey, type KnownHostEntry } from './known-hosts.js';

export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  return files.filter((f) => existsSync(f)).flatMap((f) => parseKnownHosts(readFileSync(f, 'utf8'), f));
}

const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_ORDER = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'];

/** Host-key algorithms to offer: the pinned key types first (as OpenSSH does), then the usual order. */
export function hostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const pinned = pinnedKeyTypes(entries, name).flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? []);
  return [...new Set([...pinned, ...DEFAULT_ORDER])];
}

/** Undefined when the key is trusted; otherwise the error to raise. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer, files: readonly string[], display: string): MonoError | undefined {
  const verdict = verifyHostKey(entries, name, blob);
  const fp = fingerprint(blob);
  switch (verdict.kind) {
    case 'trusted':
      return undefined;
    case 'unknown':
      return new MonoError('HOST_KEY_UNKNOWN', `the host key of ${name} is unknown (${keyTypeOf(blob)} ${fp}); refusing to connect`, {
        hint: `check the fingerprint on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and pin it with: mono trust ${display}`,
        details: [`looked in: ${files.join(', ') || '(no known_hosts file)'}`],
      });
    case 'changed':
      return new MonoError('HOST_KEY_CHANGED', `the host key of ${name} has CHANGED (now ${keyTypeOf(blob)} ${fp}); refusing to connect`, {
        hint: 'someone may be intercepting the connection, or the server was reinstalled. Verify the new fingerprint out of band, then remove the old line and run mono trust',
        details: verdict.expected.map((e) => `pinned: ${e.file}:${e.line} ${e.keyType}`),
      });
    case 'revoked':
      return new MonoError('HOST_KEY_REVOKED', `the host key of ${name} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing to connect`, {
        hint: 'the server must get a new host key before mono will connect to it',
      });
  }
}
