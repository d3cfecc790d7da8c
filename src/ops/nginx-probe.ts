// How the box itself reaches this app through nginx (the handover's confirmation, the health job): the HTTPS listener
// when the site has TLS, on nginx's listen address, or on loopback when nginx listens on every address.
import type { Config, ListenAddress } from '../config/types.js';

export interface NginxProbe {
  readonly scheme: 'http' | 'https';
  /** An address to connect to; IPv6 in brackets. */
  readonly address: string;
  readonly port: number;
  /** The Host header (and TLS server name): the first plain name in nginx.server_names, else localhost. */
  readonly host: string;
}

function loopbackAddress(l: ListenAddress): string {
  const a = l.address;
  if (a === undefined || a === '0.0.0.0' || a === '*') return '127.0.0.1';
  if (a === '::' || a === '[::]') return '[::1]';
  return a.includes(':') && !a.startsWith('[') ? `[${a}]` : a;
}

export function nginxProbe(config: Config): NginxProbe {
  const tls = config.nginx.tls;
  const listen = tls?.listen ?? config.nginx.listen;
  const host = config.nginx.serverNames.find((n) => n !== '_' && !n.includes('*') && !n.startsWith('~')) ?? 'localhost';
  return { scheme: tls === undefined ? 'http' : 'https', address: loopbackAddress(listen), port: listen.port, host };
}

export function nginxProbeUrl(p: NginxProbe, path: string): string {
  return `${p.scheme}://${p.address}:${p.port}${path}`;
}
