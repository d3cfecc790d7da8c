// How the box itself reaches this app the way clients do (the handover's confirmation, the health job): through nginx (its
// HTTPS listener when the site has TLS), or on handover.public_listen when no proxy is in front; on loopback when that
// listens on every address.
import type { Config, ListenAddress } from '../config/types.js';

export interface FrontProbe {
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

export function frontProbe(config: Config): FrontProbe {
  const direct = config.handover.strategy === 'nginx' ? undefined : config.handover.publicListen;
  if (direct !== undefined) return { scheme: 'http', address: loopbackAddress(direct), port: direct.port, host: 'localhost' };
  const tls = config.nginx.tls;
  const listen = tls?.listen ?? config.nginx.listen;
  const host = config.nginx.serverNames.find((n) => n !== '_' && !n.includes('*') && !n.startsWith('~')) ?? 'localhost';
  return { scheme: tls === undefined ? 'http' : 'https', address: loopbackAddress(listen), port: listen.port, host };
}

export function frontProbeUrl(p: FrontProbe, path: string): string {
  return `${p.scheme}://${p.address}:${p.port}${path}`;
}
