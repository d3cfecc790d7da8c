// Per-tenant cutover on the box. nginx routes a request to /run/<app>/tenants/<key>.sock when <key>.route exists, and to
// current.sock otherwise (see templates/nginx; nginx's -e/-f tests cannot see a socket, so the marker is a plain file). A busy
// tenant is pinned by pointing its symlink at the old release's socket before the switch, then creating its marker; it moves
// by pointing the symlink at current.sock again. Symlinks are replaced by rename(2) and, like markers, never removed while the
// box runs (/run is emptied at boot), so no request ever finds one missing halfway.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { errnoCode } from '../fs-errors.js';
import { pidAlive } from '../pid.js';
import { isRecord } from '../stdin.js';

/** What nginx accepts as a tenant key (templates/nginx/site.conf): no "/", so a key can never leave the tenants folder. */
export const TENANT_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const CURRENT = '../current.sock';

/** Tenants with running jobs in any of the release's instances (busy.json in each control folder), ignoring dead processes. */
export function busyTenants(instancesDir: string, release: string, processes: readonly string[], alive: (pid: number) => boolean = pidAlive): Set<string> {
  const busy = new Set<string>();
  for (const process of processes) {
    let report: unknown;
    try {
      report = JSON.parse(readFileSync(`${instancesDir}/${release}/${process}/busy.json`, 'utf8')) as unknown;
    } catch {
      continue; // no report (an app without per-tenant reporting), or being replaced right now: the next poll reads it
    }
    if (!isRecord(report) || !isRecord(report['tenants'])) continue;
    if (typeof report['pid'] === 'number' && !alive(report['pid'])) continue;
    for (const [tenant, jobs] of Object.entries(report['tenants'])) if (typeof jobs === 'number' && jobs > 0) busy.add(tenant);
  }
  return busy;
}

/** Where a tenant's symlink points now: a release id, "current", or undefined (none). */
export function routeOf(dir: string, tenant: string): string | undefined {
  try {
    const target = readlinkSync(`${dir}/${tenant}.sock`);
    if (target === CURRENT) return 'current';
    return /^\.\.\/(.+)\.sock$/.exec(target)?.[1];
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EINVAL') return undefined;
    throw error;
  }
}

function point(dir: string, tenant: string, target: string): void {
  const tmp = `${dir}/.${tenant}.sock.${process.pid}.tmp`;
  try {
    unlinkSync(tmp); // left by a runner killed right here
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  symlinkSync(target, tmp);
  renameSync(tmp, `${dir}/${tenant}.sock`);
}

/** Routes `tenant` to `release` (its socket /run/<app>/<release>.sock): the symlink first, then the marker nginx tests. */
export function pin(dir: string, tenant: string, release: string): void {
  // Made by tmpfiles at boot; a box set up by an older mono gets it here (the setgid /run/<app> gives it nginx's group).
  mkdirSync(dir, { recursive: true, mode: 0o2750 });
  point(dir, tenant, `../${release}.sock`);
  closeSync(openSync(`${dir}/${tenant}.route`, 'a', 0o640));
}

/** Every tenant with a route, and where it points ("current" once it moved). */
export function routes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return out;
    throw error;
  }
  for (const name of names) {
    if (!name.endsWith('.sock') || name.startsWith('.')) continue;
    const tenant = name.slice(0, -'.sock'.length);
    const route = routeOf(dir, tenant);
    if (route !== undefined) out.set(tenant, route);
  }
  return out;
}

/** Routes `tenant` with everybody else again (current.sock). */
export function unpin(dir: string, tenant: string): void {
  point(dir, tenant, CURRENT);
}
