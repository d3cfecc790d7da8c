// A local cache of file hashes (like git's index): a redeploy re-reads only files whose size, mtime or inode changed.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** What a cache entry is checked against: the file's size, mtime and inode as the scan saw them. */
export interface CacheKey {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

const VERSION = 1;
/**
 * Files modified this close to (or after) the moment the cache was loaded are not saved: on a filesystem with coarse
 * timestamps a later write in the same tick would keep size and mtime, and the stale hash would be trusted (git's "racy" entries).
 */
const RACY_MS = 2000;

/** [size, mtimeMs, ino, sha256] */
type Entry = readonly [number, number, number, string];

interface CacheFile {
  readonly version: typeof VERSION;
  readonly sourceDir: string;
  readonly entries: Record<string, Entry>;
}

export class HashCache {
  readonly file: string;
  readonly sourceDir: string;
  /** Lookups answered from the cache, and lookups that missed (this session). */
  hits = 0;
  misses = 0;
  readonly #loadedAt: number;
  readonly #old: Map<string, Entry>;
  /** Entries to save: the hits and the new hashes of this session. Anything not looked up again is dropped. */
  readonly #keep = new Map<string, Entry>();

  private constructor(sourceDir: string, file: string, old: Map<string, Entry>, loadedAt: number) {
    this.sourceDir = sourceDir;
    this.file = file;
    this.#old = old;
    this.#loadedAt = loadedAt;
  }

  /** Loads the cache of a build folder; an unreadable, corrupt or unknown-version cache file counts as empty. */
  static async load(sourceDir: string, env: NodeJS.ProcessEnv = process.env): Promise<HashCache> {
    const loadedAt = Date.now();
    const abs = resolve(sourceDir);
    const file = hashCachePath(abs, env);
    let old = new Map<string, Entry>();
    try {
      old = parseCache(JSON.parse(await readFile(file, 'utf8')) as unknown, abs);
    } catch {
      // No cache yet, or one we cannot use: hash everything.
    }
    return new HashCache(abs, file, old, loadedAt);
  }

  /** The cached sha256 of a file, when its size, mtime and inode are those recorded with the hash. */
  get(file: CacheKey): string | undefined {
    const entry = this.#keep.get(file.path) ?? this.#old.get(file.path);
    if (entry !== undefined && entry[0] === file.size && entry[1] === file.mtimeMs && entry[2] === file.ino) {
      this.hits++;
      this.#keep.set(file.path, entry);
      return entry[3];
    }
    this.misses++;
    return undefined;
  }

  set(file: CacheKey, sha256: string): void {
    this.#keep.set(file.path, [file.size, file.mtimeMs, file.ino, sha256]);
  }

  /**
   * Writes the cache atomically (temp file + rename, mode 0600). Never throws: a cache that cannot be written only costs time.
   * Skipped when every entry was a hit and none went away (a redeploy of an unchanged tree): the file on disk is already right.
   */
  async save(): Promise<boolean> {
    if (this.misses === 0 && this.#keep.size === this.#old.size && this.#old.size > 0) return true;
    const racyFrom = this.#loadedAt - RACY_MS;
    // fromEntries defines own properties, so a file named __proto__ is an entry like any other.
    const entries = Object.fromEntries([...this.#keep].filter(([, entry]) => entry[1] < racyFrom));
    const body: CacheFile = { version: VERSION, sourceDir: this.sourceDir, entries };
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(temp, JSON.stringify(body), { mode: 0o600, flag: 'wx' });
      await rename(temp, this.file);
      return true;
    } catch {
      await rm(temp, { force: true }).catch(() => undefined);
      return false;
    }
  }
}

/** ~/.cache/mono/hashes/<sha256 of the absolute build folder>.json ($XDG_CACHE_HOME when set to an absolute path). */
export function hashCachePath(sourceDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  const key = createHash('sha256').update(resolve(sourceDir)).digest('hex');
  return join(base, 'mono', 'hashes', `${key}.json`);
}

function parseCache(value: unknown, sourceDir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  if (typeof value !== 'object' || value === null) return out;
  const file = value as Partial<Record<keyof CacheFile, unknown>>;
  if (file.version !== VERSION || file.sourceDir !== sourceDir || typeof file.entries !== 'object' || file.entries === null) return out;
  for (const [path, entry] of Object.entries(file.entries as Record<string, unknown>)) {
    if (
      Array.isArray(entry) &&
      entry.length === 4 &&
      typeof entry[0] === 'number' &&
      typeof entry[1] === 'number' &&
      typeof entry[2] === 'number' &&
      typeof entry[3] === 'string' &&
      /^[0-9a-f]{64}$/.test(entry[3])
    ) {
      out.set(path, [entry[0], entry[1], entry[2], entry[3]]);
    }
  }
  return out;
}
