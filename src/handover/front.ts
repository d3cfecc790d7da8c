// Handovers without a proxy (handover.strategy socket and bind-retry): the new version is checked where clients connect,
// on the public address, since it has no address of its own. Each answer names the release that gave it (X-Mono-Release),
// so a probe can tell the new version from the old one accepting on the same socket.
import { setTimeout as sleep } from 'node:timers/promises';
import { probe } from '../commands/cmd.js';
import type { Transport } from '../transport/transport.js';
import { parseProperties } from './drain-wait.js';
import { probeOnce } from './route.js';

export type FrontCheck = 'healthy' | 'timeout' | 'crashed';

/** New connections per round: with two versions accepting on one socket, each gets some of them. */
const PROBES_PER_ROUND = 12;

/** A 2xx answer to GET <url> named by `release`, within `ms`; 'crashed' as soon as its unit failed or systemd restarted it. */
export async function awaitOnFront(t: Transport, url: string, host: string, release: string, unit: string, ms: number): Promise<FrontCheck> {
  const end = Date.now() + ms;
  for (;;) {
    for (let i = 0; i < PROBES_PER_ROUND; i++) {
      const r = await probeOnce(url, host);
      if (r.status >= 200 && r.status < 300 && r.release === release) return 'healthy';
      if (r.status === 0) break; // nothing accepts yet: no use asking again at once
    }
    const props = parseProperties((await t.run(probe(['systemctl', 'show', '-p', 'ActiveState,NRestarts', '--', unit]))).stdout);
    if (props.get('ActiveState') === 'failed' || (props.get('NRestarts') ?? '0') !== '0') return 'crashed';
    if (Date.now() >= end) return 'timeout';
    await sleep(200);
  }
}

/** The release answering on the public address (one probe each, a few tries), if any answers. */
export async function answeringRelease(url: string, host: string, tries = 5): Promise<string | undefined> {
  for (let i = 0; i < tries; i++) {
    const r = await probeOnce(url, host);
    if (r.status !== 0) return r.release ?? 'unknown';
    await sleep(100);
  }
  return undefined;
}
