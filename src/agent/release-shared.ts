// Shared paths of a release: what the release has there is replaced by an absolute symlink into <root>/shared/.
import { chmodSync, copyFileSync, lstatSync, mkdirSync, renameSync, rmSync, type Stats, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { MonoError } from '../errors.js';

/** Links each shared path into the (still writable) release tree. */
export function linkSharedPaths(release: string, sharedRoot: string, shared: readonly string[]): void {
  for (const path of shared) linkOne(release, sharedRoot, path);
}

function linkOne(release: string, sharedRoot: string, path: string): void {
  const segments = path.split('/');
  // Never create or remove through a symlink or a file: that could reach outside the release.
  for (let i = 1; i < segments.length; i++) {
    const ancestor = segments.slice(0, i).join('/');
    const st = lstatSync(`${release}/${ancestor}`, { throwIfNoEntry: false });
    if (st === undefined) break;
    if (!st.isDirectory()) {
      throw new MonoError('CHECK_FAILED', `shared path ${path}: ${ancestor} in the release is ${kind(st)}, not a folder`, { hint: 'make that path a folder in the app, or share a different path' });
    }
  }
  const inRelease = `${release}/${path}`;
  const inShared = `${sharedRoot}/${path}`;
  const here = lstatSync(inRelease, { throwIfNoEntry: false });
  if (lstatSync(inShared, { throwIfNoEntry: false }) === undefined) {
    if (here?.isFile() === true) seedFile(inRelease, inShared, here);
    else mkdirSync(inShared, { recursive: true, mode: 0o755 });
  }
  if (here !== undefined) rmSync(inRelease, { recursive: true, force: true });
  mkdirSync(dirname(inRelease), { recursive: true, mode: 0o755 });
  symlinkSync(inShared, inRelease);
}

/** The release's file becomes the first version of the shared one (writable by its owner), put in place atomically. */
function seedFile(from: string, to: string, st: Stats): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  const partial = `${to}.${randomBytes(4).toString('hex')}.partial`;
  copyFileSync(from, partial);
  chmodSync(partial, (st.mode & 0o111) !== 0 ? 0o750 : 0o640);
  renameSync(partial, to);
}

function kind(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFile()) return 'a file';
  return 'not a folder';
}
