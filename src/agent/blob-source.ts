// Store blobs as the source of release files: which are missing, the path to hard-link (making .x variants on demand), their inodes.
import { chmodSync, copyFileSync, renameSync, statSync, type Stats } from 'node:fs';
import { blobPath, EXEC_MODE, type ManifestFile } from '../release/protocol.js';
import { blobIsWhole, unlinkIfPresent } from './store.js';

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
      const plain = blobIsWhole(blobPath(this.#store, file.sha256, false), file.size);
      const whole = plain || (file.executable && blobIsWhole(blobPath(this.#store, file.sha256, true), file.size));
      if (!whole && !missing.includes(file.sha256)) missing.push(file.sha256);
    }
    return missing;
  }

  /** The blob to hard-link for `file`. An executable needs the 0555 `.x` variant: copied from the plain blob when absent or wrong. */
  pathFor(file: ManifestFile): string {
    const path = blobPath(this.#store, file.sha256, file.executable);
    if (!file.executable || this.#ready.has(path)) return path;
    if (!blobIsWhole(path, file.size)) {
      const partial = `${path}.partial`;
      unlinkIfPresent(partial);
      copyFileSync(blobPath(this.#store, file.sha256, false), partial);
      chmodSync(partial, EXEC_MODE);
      renameSync(partial, path);
    }
    this.#ready.add(path);
    return path;
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
