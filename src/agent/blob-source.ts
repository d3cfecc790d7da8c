// Store blobs as the source of release files: which are missing, the path to hard-link (making .x variants on demand), their inodes.
import { chmodSync, copyFileSync, renameSync, statSync, type Stats } from 'node:fs';
import { blobPath, EXEC_MODE, type ManifestFile } from '../release/protocol.js';
import { statIfPresent, unlinkIfPresent } from './store.js';

export class BlobSource {
  readonly #store: string;
  readonly #ready = new Set<string>();
  readonly #stats = new Map<string, Stats>();

  constructor(store: string) {
    this.#store = store;
  }

  /** Hashes the files need that the store does not hold whole, each once, in manifest order. */
  missing(files: readonly ManifestFile[]): string[] {
    const missing: string[] = [];
    const checked = new Set<string>();
    for (const file of files) {
      const key = `${file.sha256}${file.executable ? '.x' : ''}`;
      if (checked.has(key)) continue;
      checked.add(key);
      const plain = this.#isWhole(blobPath(this.#store, file.sha256, false), file.size);
      const whole = plain || (file.executable && this.#isWhole(blobPath(this.#store, file.sha256, true), file.size));
      if (!whole && !missing.includes(file.sha256)) missing.push(file.sha256);
    }
    return missing;
  }

  /** The blob to hard-link for `file`. An executable needs the 0555 `.x` variant: copied from the plain blob when absent or wrong. */
  pathFor(file: ManifestFile): string {
    const path = blobPath(this.#store, file.sha256, file.executable);
    if (!file.executable || this.#ready.has(path)) return path;
    if (!this.#isWhole(path, file.size)) {
      const partial = `${path}.partial`;
      unlinkIfPresent(partial);
      copyFileSync(blobPath(this.#store, file.sha256, false), partial);
      chmodSync(partial, EXEC_MODE);
      renameSync(partial, path);
      this.#stats.delete(path);
    }
    this.#ready.add(path);
    return path;
  }

  /** Whether the plain blob is stored whole; a regular file of the wrong size (truncated) is deleted: it must never be linked. */
  present(sha256: string, size: number): boolean {
    const path = blobPath(this.#store, sha256, false);
    if (this.#isWhole(path, size)) return true;
    const st = this.#stats.get(path);
    if (st?.isFile() === true) {
      unlinkIfPresent(path);
      this.#stats.delete(path);
    }
    return false;
  }

  /** The distinct contents among `blobs` that the store does not hold whole, in order (see present()). */
  absent(blobs: Iterable<{ readonly sha256: string; readonly size: number }>): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const { sha256, size } of blobs) {
      if (seen.has(sha256)) continue;
      seen.add(sha256);
      if (!this.present(sha256, size)) out.push(sha256);
    }
    return out;
  }

  /** A regular file of exactly `size` bytes (its stat is kept: the check after the build needs it again). */
  #isWhole(path: string, size: number): boolean {
    let st = this.#stats.get(path);
    if (st === undefined) {
      st = statIfPresent(path);
      if (st === undefined) return false;
      this.#stats.set(path, st);
    }
    return st.isFile() && st.size === size;
  }

  /** stat of the blob behind `file` (cached): the release file must be this very inode. */
  stat(file: ManifestFile): Stats {
    const path = blobPath(this.#store, file.sha256, file.executable);
    let st = this.#stats.get(path);
    if (st === undefined) {
      st = statSync(path);
      this.#stats.set(path, st);
    }
    return st;
  }
}
