// The content-addressed store on the box: blob checks, cleaning of partial files, and one filesystem sync.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { errnoCode, errorMessage } from './fs-errors.js';

export const PARTIAL_MAX_AGE_MS = 60 * 60 * 1000;

/** True when `path` is a regular file of exactly `size` bytes. */
export function blobIsWhole(path: string, size: number): boolean {
  const st = statIfPresent(path);
  return st !== undefined && st.isFile() && st.size === size;
}

/** stat of `path`, or undefined when nothing is there (also when a fan-out folder is in fact a file). */
export function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Deletes `*.partial` files in `dir` last modified before `now - maxAgeMs`; returns how many went. */
export function removeOldPartials(dir: string, now: number, maxAgeMs = PARTIAL_MAX_AGE_MS, dryRun = false): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.partial')) continue;
    const path = `${dir}/${name}`;
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile() || now - st.mtimeMs <= maxAgeMs) continue;
    if (!dryRun) unlinkIfPresent(path);
    removed++;
  }
  return removed;
}

export function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/** The two-hex-digit fan-out folders of the store, created at most once per process. */
export class FanOut {
  readonly #store: string;
  readonly #known = new Set<string>();

  constructor(store: string) {
    this.#store = store;
    for (const entry of readdirSync(store, { withFileTypes: true })) {
      if (entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name)) this.#known.add(entry.name);
    }
  }

  ensure(sha256: string): void {
    const aa = sha256.slice(0, 2);
    if (this.#known.has(aa)) return;
    mkdirSync(`${this.#store}/${aa}`, { recursive: true, mode: 0o750 });
    this.#known.add(aa);
  }
}

/** One `sync -f` of the store's filesystem: cheaper than an fsync per blob. A failure is reported, not thrown. */
export function syncFilesystem(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', path], { timeout: 300_000 }, (error, _stdout, stderr) => {
      resolve(error === null ? undefined : `sync -f ${path} failed: ${stderr.trim() || errorMessage(error)}`);
    });
  });
}
