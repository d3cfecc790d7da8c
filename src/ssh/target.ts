// Parses and prints SSH targets of the form user@host[:port] (IPv6 hosts in brackets: user@[::1]:22).
import { MonoError } from '../errors.js';

export interface SshTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** Returns a target, or a message saying what is wrong (used both by config validation and CLI arguments). */
export function parseTarget(text: string, defaultUser?: string): SshTarget | string {
  let rest = text.trim();
  let user = defaultUser;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  if (user === undefined || user === '') return 'expected user@host[:port], the user is missing';
  if (!USER.test(user)) return `"${user}" is not a valid Unix user name`;
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return 'an IPv6 address in brackets is missing its closing "]"';
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `unexpected "${after}" after the host`;
    portText = after === '' ? undefined : after.slice(1);
    if (!IPV6.test(host)) return `"${host}" is not an IPv6 address`;
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
    if (!HOSTNAME.test(host)) return `"${host}" is not a valid host name or IPv4 address`;
  }
  let port = 22;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `"${portText}" is not a port between 1 and 65535`;
    port = Number(portText);
  }
  return { user, host, port };
}

export function requireTarget(text: string, defaultUser?: string): SshTarget {
  const parsed = parseTarget(text, defaultUser);
  if (typeof parsed === 'string') throw new MonoError('USAGE', `bad SSH target "${text}": ${parsed}`, { hint: 'write it as user@host or user@host:port, for example root@203.0.113.7:22' });
  return parsed;
}

/** The host name as known_hosts writes it: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(target: Pick<SshTarget, 'host' | 'port'>): string {
  return target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
}

export function formatTarget(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === 22 ? `${target.user}@${host}` : `${target.user}@${host}:${target.port}`;
}
