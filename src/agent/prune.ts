// `mono agent prune`: removes old releases (never the current one, the newest N, or one with live units), then unused blobs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import type { PruneResult, ReleaseInfo } from '../release/protocol.js';
import { errorMessage } from './fs-errors.js';
import { removeTree } from './fs-tree.js';
import { parseApp, parseCount } from './options.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { listReleases } from './releases.js';
import { releaseIfOurs, takeLock } from './lock.js';
import { isRecord } from './stdin.js';
import { PARTIAL_MAX_AGE_MS } from './store.js';
import { collectGarbage } from './store-gc.js';
import type { UnitLister } from './units.js';

export interface PruneOptions {
  readonly keep: number;
  readonly app: string;
  readonly dryRun: boolean;
  readonly units?: UnitLister;
  readonly now?: number;
  readonly warn?: (message: string) => void;
}

export async function prune(root: string, options: PruneOptions): Promise<PruneResult> {
  const paths = agentPaths(root);
  const now = options.now ?? Date.now();
  const releases = await listReleases(root, { app: options.app, ...(options.units === undefined ? {} : { units: options.units }) });
  const kept = releases.filter((r, i) => i < options.keep || r.current || r.units.length > 0);
  const removed = releases.filter((r) => !kept.includes(r));
  // Read every kept manifest before deleting anything: an unreadable one would make its blobs look unused.
  const referenced = new Map<string, boolean>();
  for (const release of kept) {
    for (const [sha, executable] of manifestHashes(`${paths.releases}/${release.id}`, release)) referenced.set(sha, executable || referenced.get(sha) === true);
  }
  if (!options.dryRun) {
    for (const release of removed) {
      removeTree(`${paths.releases}/${release.id}`);
      // Its instances' control folders (MONO_CONTROL_DIR) go with it.
      removeTree(`${paths.monoDir}/instances/${release.id}`);
    }
    removeStalePartialReleases(paths.releases, now, options.warn);
  }
  const gc = collectGarbage(paths.store, referenced, { dryRun: options.dryRun, now });
  return {
    removedReleases: removed.map((r) => r.id),
    keptReleases: kept.map((r) => r.id),
    removedBlobs: gc.removedBlobs,
    freedBytes: gc.freedBytes,
    dryRun: options.dryRun,
  };
}

/** [sha256, executable] of every file the release's manifest lists. */
function manifestHashes(dir: string, release: ReleaseInfo): [string, boolean][] {
  const file = `${dir}/.mono/manifest.json`;
  let files: unknown;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    files = isRecord(manifest) ? manifest['files'] : undefined;
  } catch (error) {
    throw refuse(release.id, file, errorMessage(error));
  }
  if (!Array.isArray(files)) throw refuse(release.id, file, 'it has no "files" list');
  return files.map((f: unknown): [string, boolean] => {
    const sha = isRecord(f) ? f['sha256'] : undefined;
    if (typeof sha !== 'string') throw refuse(release.id, file, 'a file entry has no sha256');
    return [sha, isRecord(f) && f['executable'] === true];
  });
}

function refuse(id: string, file: string, why: string): MonoError {
  return new MonoError('CHECK_FAILED', `prune refused: the manifest of kept release ${id} cannot be read (${why}); nothing was deleted`, {
    hint: `without ${file} every blob of that release would look unused; restore the file, or remove the release by hand`,
  });
}

/** releases/<id>.partial left by a crashed build (only when an hour old: a build takes seconds). */
function removeStalePartialReleases(releasesDir: string, now: number, warn?: (message: string) => void): void {
  for (const name of readdirSync(releasesDir)) {
    if (!name.endsWith('.partial')) continue;
    const st = statSync(`${releasesDir}/${name}`, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory() || now - st.mtimeMs <= PARTIAL_MAX_AGE_MS) continue;
    removeTree(`${releasesDir}/${name}`);
    warn?.(`removed ${name}, left by an interrupted build`);
  }
}

export const handler = agentHandler('prune', async (ctx: Context, options: { root?: string; keep?: string; app?: string; dryRun?: boolean; takeLock?: boolean }) => {
  const root = requireRoot(options.root);
  const app = parseApp(options.app);
  if (app === undefined) throw new MonoError('USAGE', 'prune needs --app <name> (to keep releases whose units still run)');
  const run = async (): Promise<void> => {
    const result = await prune(root, {
      keep: parseCount(options.keep, '--keep'),
      app,
      // `-n/--dry-run` is also a global option: commander may hand it to either.
      dryRun: options.dryRun === true || ctx.options.dryRun,
      warn: (m) => ctx.log.warn(m),
    });
    const gone = result.removedReleases;
    ctx.log.info(`${result.dryRun ? 'would remove' : 'removed'} ${gone.length} release${gone.length === 1 ? '' : 's'}${gone.length === 0 ? '' : ` (${gone.join(', ')})`} and ${result.removedBlobs} unused blobs; kept ${result.keptReleases.length}`);
    ctx.log.data(JSON.stringify(result));
  };
  if (options.takeLock !== true) return run();
  // From mono cron: a prune while a deploy uploads could delete blobs it just sent, so it holds the deploy lock, or waits for its next run.
  const paths = agentPaths(root);
  const taken = await takeLock(paths, { by: 'mono cron', from: hostname(), operation: 'prune' }, { pid: process.pid });
  if (!taken.locked) throw new MonoError('LOCKED', `the deploy lock is held (${taken.holder.operation} by ${taken.holder.by} since ${taken.holder.since}); the prune waits for its next run`);
  try {
    await run();
  } finally {
    releaseIfOurs(paths, taken.info.token);
  }
});
