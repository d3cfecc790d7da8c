// Checks a freshly built release tree against its manifest before it is sealed: same inodes as the store, links as listed.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { EXEC_MODE, FILE_MODE, type BuildRequest } from '../release/protocol.js';
import type { BlobSource } from './blob-source.js';
import { errnoCode, errorMessage } from './fs-errors.js';
import { isWithin } from './validate.js';

const MAX_SHOWN = 20;

/** Besides the per-entry checks, the tree may hold nothing the manifest, the shared paths or .mono/ do not account for. */
export function verifyRelease(release: string, request: BuildRequest, blobs: BlobSource, sharedRoot: string): void {
  const problems: string[] = [];
  const shadowed = (path: string): boolean => request.shared.some((s) => isWithin(path, s));
  problems.push(...unlisted(release, request));
  for (const file of request.manifest.files) {
    if (shadowed(file.path)) continue;
    const st = lstatSync(`${release}/${file.path}`, { throwIfNoEntry: false });
    const blob = blobs.stat(file);
    const mode = file.executable ? EXEC_MODE : FILE_MODE;
    if (st === undefined || !st.isFile()) problems.push(`${file.path}: not a regular file`);
    else if (st.ino !== blob.ino || st.dev !== blob.dev) problems.push(`${file.path}: not a hard link to its store blob`);
    else if (st.size !== file.size) problems.push(`${file.path}: ${st.size} bytes, the manifest says ${file.size}`);
    else if ((st.mode & 0o7777) !== mode) problems.push(`${file.path}: mode ${(st.mode & 0o7777).toString(8)}, expected ${mode.toString(8)}`);
  }
  const realRelease = realpathSync.native(release);
  const realShared = realpathSync.native(sharedRoot);
  for (const link of request.manifest.links) {
    if (shadowed(link.path)) continue;
    const path = `${release}/${link.path}`;
    const target = readTarget(path);
    if (target !== link.target) {
      problems.push(`${link.path}: points at ${JSON.stringify(target)}, the manifest says ${JSON.stringify(link.target)}`);
      continue;
    }
    // Chains of links (a/b -> .., c -> a/b/..) can resolve further out than each target alone: check where it really lands.
    const real = realTarget(path);
    if (real.error !== undefined) problems.push(`${link.path}: ${real.error}`);
    else if (real.path !== undefined && !isWithin(real.path, realRelease) && !isWithin(real.path, realShared)) problems.push(`${link.path}: resolves outside the release (to ${real.path})`);
  }
  for (const path of request.shared) {
    const target = readTarget(`${release}/${path}`);
    if (target !== `${sharedRoot}/${path}`) problems.push(`${path}: the shared link points at ${JSON.stringify(target)}`);
  }
  if (problems.length > 0) {
    throw new MonoError('CHECK_FAILED', `release ${request.id} failed its check after building (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was activated`, {
      details: problems.slice(0, MAX_SHOWN),
    });
  }
}

/** Entries of the tree that neither the manifest, the shared paths (and their parent folders) nor .mono/ account for. */
function unlisted(release: string, request: BuildRequest): string[] {
  const { manifest } = request;
  const listed = new Set<string>([...manifest.dirs, ...manifest.files.map((f) => f.path), ...manifest.links.map((l) => l.path), '.mono']);
  for (const path of request.shared) {
    const segments = path.split('/');
    for (let i = 1; i <= segments.length; i++) listed.add(segments.slice(0, i).join('/'));
  }
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(rel === '' ? release : `${release}/${rel}`, { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (!listed.has(path)) out.push(`${path}: not in the manifest`);
      else if (entry.isDirectory() && path !== '.mono') walk(path);
    }
  };
  walk('');
  return out;
}

function readTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function realTarget(path: string): { path?: string; error?: string } {
  try {
    return { path: realpathSync.native(path) };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return {}; // dangling: points nowhere, so nowhere outside
    return { error: errorMessage(error) };
  }
}
