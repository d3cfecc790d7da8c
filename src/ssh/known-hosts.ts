// Reads OpenSSH known_hosts files (plain and hashed names, wildcards, markers) and decides whether a host key is trusted.
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  readonly file: string;
  readonly line: number;
  readonly marker: '' | '@revoked' | '@cert-authority';
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBase64: string;
}

export type HostKeyVerdict =
  | { readonly kind: 'trusted'; readonly entry: KnownHostEntry }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'changed'; readonly expected: readonly KnownHostEntry[] }
  | { readonly kind: 'revoked'; readonly entry: KnownHostEntry };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = '';
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [patterns, keyType, keyBase64] = fields;
    if (patterns === undefined || keyType === undefined || keyBase64 === undefined) return;
    entries.push({ file, line: index + 1, marker, patterns, keyType, keyBase64 });
  });
  return entries;
}

/** The key type named inside an SSH wire-format public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** OpenSSH-style fingerprint: SHA256:<unpadded base64>. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function wildcardToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  // |1|salt|hash → ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1' || parts[2] === undefined || parts[3] === undefined) return false;
  const salt = Buffer.from(parts[2], 'base64');
  return createHmac('sha1', salt).update(name).digest('base64') === parts[3];
}

/** Does a comma-separated known_hosts pattern list name this host? A matching negation wins. */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const item of patterns.split(',')) {
    const negated = item.startsWith('!');
    const pattern = negated ? item.slice(1) : item;
    if (wildcardToRegExp(pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyVerdict {
  const keyBase64 = blob.toString('base64');
  const forHost = entries.filter((e) => e.marker !== '@cert-authority' && patternsMatch(e.patterns, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.keyBase64 === keyBase64);
  if (revoked !== undefined) return { kind: 'revoked', entry: revoked };
  const same = forHost.find((e) => e.marker === '' && e.keyBase64 === keyBase64);
  if (same !== undefined) return { kind: 'trusted', entry: same };
  const pinned = forHost.filter((e) => e.marker === '');
  return pinned.length === 0 ? { kind: 'unknown' } : { kind: 'changed', expected: pinned };
}

/** Key types pinned for a host, in file order: offered first so the server presents a key we know. */
export function pinnedKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = entries.filter((e) => e.marker === '' && patternsMatch(e.patterns, name)).map((e) => e.keyType);
  return [...new Set(types)];
}

export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
