// The switch itself, done in the runner's own process on the box (a process start per step would cost more than the whole
// switch): current.sock and current are replaced by rename(2), and a request through nginx confirms where traffic goes.
import { readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { releaseOfSocket } from './units.js';

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Points `link` at `target` in one rename: readers see the old target or the new one, never nothing. */
export function replaceSymlink(target: string, link: string): void {
  const tmp = `${link}.mono-tmp`;
  try {
    unlinkSync(tmp);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/** nginx's route (current.sock) first, then the `current` folder link. */
export function switchCurrentNow(runDir: string, root: string, release: string): void {
  replaceSymlink(`${runDir}/${release}.sock`, `${runDir}/current.sock`);
  replaceSymlink(`releases/${release}`, `${root}/current`);
}

/** The release current.sock points at now, if any. */
export function currentReleaseNow(runDir: string): string | undefined {
  try {
    return releaseOfSocket(readlinkSync(`${runDir}/current.sock`));
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** One request as a client would send it; resolves with the status and the release the app named (if it did). */
export function probeOnce(url: string, host: string): Promise<{ status: number; release: string | undefined }> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { headers: { host, 'x-mono-probe': '1', connection: 'close' }, timeout: 2000, rejectUnauthorized: false }, (res) => {
      res.resume();
      const named = res.headers['x-mono-release'];
      resolve({ status: res.statusCode ?? 0, release: typeof named === 'string' ? named : undefined });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, release: undefined }));
  });
}

/**
 * Asks nginx until an answer comes from an app (not nginx's own 502/503/504) and, when the app names its release
 * (X-Mono-Release, which mono/runtime sends when asked with X-Mono-Probe), names `release`. False after `ms`.
 */
export async function confirmRouteNow(url: string, host: string, release: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await probeOnce(url, host);
    if (r.status !== 0 && ![502, 503, 504].includes(r.status) && (r.release === undefined || r.release === release)) return true;
    if (Date.now() >= end) return false;
    await sleep(20);
  }
}
