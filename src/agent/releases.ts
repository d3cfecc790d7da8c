// `mono agent releases`: the releases on the box, newest first, with their metadata, the current one and their live units.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Context } from '../cli/context.js';
import { RELEASE_ID, type ReleaseInfo, type ReleaseMeta } from '../release/protocol.js';
import { errnoCode } from './fs-errors.js';
import { parseApp } from './options.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { isRecord } from './stdin.js';
import { systemdUnits, type UnitLister, type UnitRow } from './units.js';

export interface ListOptions {
  /** Without an app name, units are not looked up (empty lists). */
  readonly app?: string;
  readonly units?: UnitLister;
}

export async function listReleases(root: string, options: ListOptions = {}): Promise<ReleaseInfo[]> {
  const paths = agentPaths(root);
  const ids = releaseIds(paths.releases);
  const current = currentId(root, paths.current, paths.releases);
  const rows: readonly UnitRow[] = options.app === undefined ? [] : await (options.units ?? systemdUnits)(options.app);
  return ids.map((id) => {
    const meta = readMeta(`${paths.releases}/${id}`);
    return {
      id,
      ...(meta === undefined ? {} : { meta }),
      current: id === current,
      units: rows.filter((r) => r.release === id).map((r) => ({ unit: r.unit, state: r.state })),
      bytes: typeof meta?.bytes === 'number' ? meta.bytes : 0,
      processes: processScripts(`${paths.releases}/${id}`),
    };
  });
}

/** The process types a release can run: its .mono/procs/<type> scripts. */
function processScripts(release: string): string[] {
  try {
    return readdirSync(`${release}/.mono/procs`).filter((name) => /^[a-z][a-z0-9_-]{0,30}$/.test(name)).sort();
  } catch {
    return [];
  }
}

/** Release folders (not *.partial, not stray names), newest first: ids start with a UTC timestamp. */
export function releaseIds(releasesDir: string): string[] {
  let entries;
  try {
    entries = readdirSync(releasesDir, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isDirectory() && RELEASE_ID.test(e.name))
    .map((e) => e.name)
    .sort()
    .reverse();
}

/** The id `current` points at, whether the link is relative or absolute; undefined without a link. */
export function currentId(root: string, currentLink: string, releasesDir: string): string | undefined {
  let target: string;
  try {
    target = readlinkSync(currentLink);
  } catch {
    return undefined;
  }
  const abs = resolve(root, target);
  return abs.startsWith(`${releasesDir}/`) && !abs.slice(releasesDir.length + 1).includes('/') ? abs.slice(releasesDir.length + 1) : undefined;
}

function readMeta(release: string): ReleaseMeta | undefined {
  try {
    const value = JSON.parse(readFileSync(`${release}/.mono/release.json`, 'utf8')) as unknown;
    return isRecord(value) ? (value as unknown as ReleaseMeta) : undefined;
  } catch {
    return undefined;
  }
}

export const handler = agentHandler('releases', async (ctx: Context, options: { root?: string; app?: string }) => {
  const root = requireRoot(options.root);
  const app = parseApp(options.app);
  let releases: ReleaseInfo[];
  try {
    releases = await listReleases(root, app === undefined ? {} : { app });
  } catch (error) {
    // Listing is read-only: show the releases even when systemd cannot be asked.
    ctx.log.warn(error instanceof Error ? error.message : String(error));
    releases = await listReleases(root);
  }
  ctx.log.data(JSON.stringify({ releases }));
});
