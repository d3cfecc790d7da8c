// Rules for names and paths the agent accepts from the CLI: release-relative paths, link targets, hashes, process names.
import { posix } from 'node:path';

export const SHA256 = /^[0-9a-f]{64}$/;
export const PROCESS_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
const MAX_PATH = 4096;

/** Why `path` is not a clean release-relative path (relative, no "." or ".." or empty segment, no NUL), or undefined. */
export function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'must be a non-empty string';
  if (path.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/')) return 'must be relative, not absolute';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment ("//" or a trailing "/")';
    if (segment === '..') return 'contains ".."';
    if (segment === '.') return 'contains "."';
  }
  return undefined;
}

/** Why a symlink at `linkPath` may not point at `target` (absolute, or resolving outside the release), or undefined. */
export function linkTargetProblem(linkPath: string, target: unknown): string | undefined {
  if (typeof target !== 'string' || target.length === 0) return 'must be a non-empty string';
  if (target.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if (target.includes('\0')) return 'contains a NUL byte';
  if (target.startsWith('/')) return 'must be relative, not absolute';
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../')) return `resolves outside the release (to ${resolved})`;
  return undefined;
}

/** The first segment of a path: the release's own `.mono/` is reserved for mono. */
export function isReserved(path: string): boolean {
  return path === '.mono' || path.startsWith('.mono/');
}

/** True when `path` is `base` or lies below it. */
export function isWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}
