// Reads what mono needs to know about the box in one round trip, and refuses boxes it cannot manage.
import { facts as factsCmd } from '../../commands/system.js';
import { MonoError } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';

export interface BoxFacts {
  readonly os: string;
  readonly osLike: string;
  readonly osVersion: string;
  readonly osName: string;
  readonly uid: number;
  readonly sudo: 'root' | 'yes' | 'no';
  readonly node: string;
  readonly pgServers: readonly string[];
  readonly init: string;
}

export function parseFacts(text: string): BoxFacts {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const get = (k: string): string => map.get(k) ?? '';
  const sudo = get('sudo');
  return {
    os: get('os'),
    osLike: get('os_like'),
    osVersion: get('os_version'),
    osName: get('os_name'),
    uid: Number(get('uid')),
    sudo: sudo === 'root' || sudo === 'yes' ? sudo : 'no',
    node: get('node'),
    pgServers: get('pg_servers').split(/\s+/).filter((v) => /^\d+$/.test(v)),
    init: get('systemd'),
  };
}

export function assertManageable(f: BoxFacts, where: string): void {
  const debianLike = f.os === 'debian' || f.os === 'ubuntu' || f.osLike.split(' ').includes('debian');
  if (!debianLike) {
    throw new MonoError('UNSUPPORTED_OS', `${where} runs ${f.osName || f.os || 'an unknown OS'}; mono setup supports Debian and Ubuntu`, { hint: 'use a Debian 12+ or Ubuntu 24.04+ server, or provision by hand following ansible-free-docs/provisioning.md' });
  }
  if (f.init !== 'systemd') {
    throw new MonoError('UNSUPPORTED_OS', `${where} does not run systemd as PID 1 (found "${f.init}")`, { hint: 'mono runs the app as systemd units; use a box (or VM) booted with systemd' });
  }
  if (f.sudo === 'no') {
    throw new MonoError('PREREQ_MISSING', `the login user on ${where} is not root and cannot run sudo without a password`, { hint: 'log in as root (host: root@…) or give the user passwordless sudo for the time of setup' });
  }
}

export async function readFacts(t: Transport): Promise<BoxFacts> {
  const facts = parseFacts((await t.run(factsCmd())).stdout);
  assertManageable(facts, t.where);
  return facts;
}

/** The major version of `node --version` output ("v18.19.0" → 18), or 0. */
export function nodeMajor(version: string): number {
  const m = /^v(\d+)\./.exec(version.trim());
  return m?.[1] === undefined ? 0 : Number(m[1]);
}
