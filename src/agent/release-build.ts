// `mono agent release-build`: assembles releases/<id> from store blobs (hard links), links, shared paths and process scripts.
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import type { Context } from '../cli/context.js';
import { isMonoError, MonoError } from '../errors.js';
import { type BuildRequest, type BuildResult, DIR_MODE, EXEC_MODE, FILE_MODE } from '../release/protocol.js';
import { BlobSource } from './blob-source.js';
import { manifestBytes, parseBuildRequest } from './build-request.js';
import { errorMessage } from './fs-errors.js';
import { chmodDirectories, removeTree } from './fs-tree.js';
import { agentHandler } from './handler.js';
import { agentPaths, type AgentPaths, requireRoot } from './paths.js';
import { linkSharedPaths } from './release-shared.js';
import { verifyRelease } from './release-verify.js';
import { parseJson, readAll } from './stdin.js';
import { syncFilesystem } from './store.js';

const MAX_REQUEST_BYTES = 256 * 1024 * 1024;

/** The script systemd runs for a process type. `exec` replaces the shell, so the app gets the signals (KillMode=mixed). */
export function procScript(id: string, command: string): string {
  return `#!/bin/sh\n# written by mono for release ${id}\nexec ${command}\n`;
}

export async function buildRelease(root: string, request: BuildRequest, warn: (message: string) => void = () => undefined, source?: BlobSource): Promise<BuildResult> {
  const paths = agentPaths(root);
  const { id, manifest } = request;
  const blobs = source ?? new BlobSource(paths.store);
  const result = { id, files: manifest.files.length, bytes: manifestBytes(manifest) };
  const final = `${paths.releases}/${id}`;
  // A retry after a lost reply: the release is complete already (its files are links, whatever the store holds now).
  if (existsSync(final) && sameManifest(final, manifest)) {
    warn(`release ${id} already exists with the same manifest: kept it`);
    return { ...result, missing: [] };
  }
  const missing = blobs.missing(manifest.files);
  if (missing.length > 0) return { ...result, missing };
  if (statSync(paths.releases, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new MonoError('PREREQ_MISSING', `${paths.releases} does not exist`, { hint: 'run `mono setup` first' });
  }
  const partial = `${final}.partial`;
  const manifestJson = JSON.stringify(manifest) + '\n';
  removeTree(partial);
  try {
    populateTree(partial, manifest, blobs);
    finishTree(partial, request, paths, manifestJson);
    verifyRelease(partial, request, blobs, paths.shared);
    chmodDirectories(partial, DIR_MODE);
    if (existsSync(final)) {
      if (!sameManifest(final, manifest)) {
        throw new MonoError('CHECK_FAILED', `release ${id} already exists with a different manifest`, {
          hint: `a release id names one manifest; if ${final} is broken, remove it by hand (chmod -R u+w first) and deploy again`,
        });
      }
      removeTree(partial);
      warn(`release ${id} already exists with the same manifest: kept it`);
    } else {
      renameSync(partial, final);
    }
  } catch (error) {
    try {
      removeTree(partial);
    } catch (cleanup) {
      warn(`could not remove ${partial}: ${errorMessage(cleanup)}`);
    }
    if (isMonoError(error)) throw error;
    throw new MonoError('LOCAL_FAILED', `building release ${id} failed: ${errorMessage(error)}`, { cause: error, hint: 'nothing was activated; the partial release was removed' });
  }
  const problem = await syncFilesystem(final);
  if (problem !== undefined) warn(problem);
  return { ...result, missing: [] };
}

/** The manifest's folders, files (hard links to their blobs) and links. */
function populateTree(partial: string, manifest: BuildRequest['manifest'], blobs: BlobSource): void {
  mkdirSync(partial, { mode: 0o755 });
  for (const dir of manifest.dirs) mkdirSync(`${partial}/${dir}`, { mode: 0o755 });
  for (const file of manifest.files) linkSync(blobs.pathFor(file), `${partial}/${file.path}`);
  for (const link of manifest.links) symlinkSync(link.target, `${partial}/${link.path}`);
}

/** Shared paths, process scripts, release.json and manifest.json. */
function finishTree(partial: string, request: BuildRequest, paths: AgentPaths, manifestJson: string): void {
  linkSharedPaths(partial, paths.shared, request.shared);
  mkdirSync(`${partial}/.mono/procs`, { recursive: true, mode: 0o755 });
  for (const name of Object.keys(request.processes).sort()) {
    writeReadOnly(`${partial}/.mono/procs/${name}`, procScript(request.id, request.processes[name]!), EXEC_MODE);
  }
  writeReadOnly(`${partial}/.mono/release.json`, JSON.stringify(request.meta, null, 2) + '\n', FILE_MODE);
  writeReadOnly(`${partial}/.mono/manifest.json`, manifestJson, FILE_MODE);
}

function writeReadOnly(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode, flag: 'wx' });
  chmodSync(path, mode);
}

function sameManifest(release: string, manifest: BuildRequest['manifest']): boolean {
  try {
    return canonical(JSON.parse(readFileSync(`${release}/.mono/manifest.json`, 'utf8'))) === canonical(manifest);
  } catch {
    return false;
  }
}

/** JSON with object keys sorted, so that key order does not make two equal manifests differ. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const handler = agentHandler('release-build', async (ctx: Context, options: { root?: string }) => {
  const root = requireRoot(options.root);
  const request = parseBuildRequest(parseJson(await readAll(process.stdin, MAX_REQUEST_BYTES, 'the build request'), 'the build request'));
  const result = await buildRelease(root, request, (m) => ctx.log.warn(m));
  if (result.missing.length > 0) ctx.log.warn(`release ${result.id} not built: ${result.missing.length} blob(s) missing from the store`);
  ctx.log.data(JSON.stringify(result));
});
