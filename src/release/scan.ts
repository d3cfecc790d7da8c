// Walks the build folder into a sorted list of dirs, files and links, applying .monoignore and refusing what a release cannot carry.
import { isUtf8 } from 'node:buffer';
import { lstatSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { MonoError } from '../errors.js';

export interface ScannedFile {
  /** POSIX path relative to the release root. */
  readonly path: string;
  readonly size: number;
  /** Any x bit set in the mode. */
  readonly executable: boolean;
  readonly absolutePath: string;
  readonly mtimeMs: number;
  readonly ino: number;
}

export interface ScannedLink {
  readonly path: string;
  readonly target: string;
}

export interface ScannedRelease {
  /** Absolute path of the build folder. */
  readonly sourceDir: string;
  /** The ignore file that was applied, if any. */
  readonly ignoreFile?: string;
  /** Every directory, parents before children, the root excluded. All three lists are sorted by path in byte order. */
  readonly dirs: readonly string[];
  readonly files: readonly ScannedFile[];
  readonly links: readonly ScannedLink[];
}

export interface ScanOptions {
  /** An ignore file (gitignore syntax), absolute or relative to the current directory; it must exist. Default: <sourceDir>/.monoignore when present. */
  readonly ignoreFile?: string;
  /** More gitignore-syntax rules, applied after the file's. */
  readonly extraIgnores?: readonly string[];
}

/**
 * Never part of a release, whatever the ignore file says: git data (a folder, or the file a submodule or worktree has) and
 * `.mono`, where the box writes release.json and the process scripts (as a file it would collide with that folder).
 */
export const ALWAYS_IGNORED: readonly string[] = ['.git', '.mono'];

const DEFAULT_IGNORE_FILE = '.monoignore';
/** The kernel gives up after 40 symlinks in one lookup (ELOOP); so does the escape check. */
const MAX_LINK_HOPS = 40;

interface Offenders {
  readonly links: string[];
  readonly names: string[];
  readonly special: string[];
}

export async function scanRelease(sourceDir: string, options: ScanOptions = {}): Promise<ScannedRelease> {
  const root = resolve(sourceDir);
  await assertBuildFolder(root);
  const { matcher, ignoreFile } = await loadIgnores(root, options);

  const dirs: string[] = [];
  const files: ScannedFile[] = [];
  const links: ScannedLink[] = [];
  const offenders: Offenders = { links: [], names: [], special: [] };

  // Breadth-first over directories. Directories are read asynchronously (the event loop turns between them); the entries are
  // lstat'ed synchronously: on a 2-core VM (Node 20) 20,000 files took 0.13-0.16 s this way against 0.40-0.48 s with
  // fs.promises.lstat, whose thread-pool round trip costs more than the system call.
  const queue: string[] = [''];
  for (let i = 0; i < queue.length; i++) {
    const rel = queue[i] ?? '';
    for (const entry of await readDir(root, rel)) {
      const raw = entry.name;
      const name = raw.toString('utf8');
      const path = rel === '' ? name : `${rel}/${name}`;
      const isDir = entry.isDirectory();
      if (matcher(isDir ? `${path}/` : path)) continue;
      const problem = nameProblem(raw, name);
      if (problem !== undefined) {
        offenders.names.push(`${JSON.stringify(path)}: ${problem}`);
        continue;
      }
      const absolutePath = join(root, path);
      if (isDir) {
        dirs.push(path);
        queue.push(path);
      } else if (entry.isFile()) {
        const st = lstatEntry(absolutePath);
        if (st.isFile()) files.push({ path, size: st.size, executable: (st.mode & 0o111) !== 0, absolutePath, mtimeMs: st.mtimeMs, ino: st.ino });
        else offenders.special.push(`${path}: changed type while mono was reading the build folder`);
      } else if (entry.isSymbolicLink()) {
        const target = readLinkTarget(absolutePath);
        if (target === undefined) offenders.names.push(`${path}: the link target is not valid UTF-8`);
        else links.push({ path, target });
      } else {
        offenders.special.push(`${path}: ${specialKind(entry)}`);
      }
    }
  }

  dirs.sort(compareBytes);
  files.sort((a, b) => compareBytes(a.path, b.path));
  links.sort((a, b) => compareBytes(a.path, b.path));

  const targets = new Map(links.map((l) => [l.path, l.target]));
  for (const link of links) {
    if (linkEscapes(link.path, link.target, targets)) offenders.links.push(`${link.path} -> ${link.target}`);
  }
  refuseOffenders(offenders, ignoreFile ?? join(root, DEFAULT_IGNORE_FILE));

  return { sourceDir: root, ...(ignoreFile === undefined ? {} : { ignoreFile }), dirs, files, links };
}

/**
 * True when following the link (kernel-style: each ".." applies after the links before it are followed) can leave the release.
 * Absolute targets always escape. `links` maps every link of the release to its target, so a chain through other links is followed too:
 * `a/b/up -> ../..` resolves to the root, and `a/b/x -> up/..` then leaves it although `a/b/up/..` normalises to `a/b`.
 * The box applies the same rule to the manifest's links.
 */
export function linkEscapes(path: string, target: string, links: ReadonlyMap<string, string>): boolean {
  if (target.startsWith('/')) return true;
  const current = path.split('/').slice(0, -1);
  let pending = target.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const [part, ...rest] = pending;
    pending = rest;
    if (part === undefined || part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return true;
      current.pop();
      continue;
    }
    const candidate = [...current, part].join('/');
    const next = links.get(candidate);
    if (next === undefined) {
      current.push(part);
      continue;
    }
    // The lookup fails with ELOOP on the box, so nothing outside is ever reached.
    if (++hops > MAX_LINK_HOPS) return false;
    if (next.startsWith('/')) return true;
    pending = [...next.split('/'), ...pending];
  }
  return false;
}

/** Orders strings as their UTF-8 bytes would (code point order), not as UTF-16 code units. */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after U+E000..U+FFFF in UTF-8.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

async function assertBuildFolder(root: string): Promise<void> {
  const hint = 'set release.source in mono.yml, or run the build first';
  let st: Stats;
  try {
    st = await stat(root);
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) throw new MonoError('USAGE', `the build folder ${root} does not exist`, { hint, cause: error });
    throw new MonoError('USAGE', `cannot read the build folder ${root}: ${errorText(error)}`, { hint: 'check its permissions', cause: error });
  }
  if (!st.isDirectory()) throw new MonoError('USAGE', `the build folder ${root} does not exist (it is not a folder)`, { hint });
}

async function loadIgnores(root: string, options: ScanOptions): Promise<{ matcher: (path: string) => boolean; ignoreFile?: string }> {
  const always: Ignore = ignore().add([...ALWAYS_IGNORED]);
  const rules: Ignore = ignore();
  let ignoreFile: string | undefined;
  if (options.ignoreFile !== undefined) {
    ignoreFile = resolve(options.ignoreFile);
    rules.add(await readIgnoreFile(ignoreFile, true));
  } else {
    const fallback = join(root, DEFAULT_IGNORE_FILE);
    const text = await readIgnoreFile(fallback, false);
    if (text !== undefined) {
      ignoreFile = fallback;
      rules.add(text);
    }
  }
  if (options.extraIgnores !== undefined) rules.add([...options.extraIgnores]);
  // The always-ignored rules are checked apart, so that a "!.mono/" in the ignore file cannot bring them back.
  const matcher = (path: string): boolean => always.ignores(path) || rules.ignores(path);
  return ignoreFile === undefined ? { matcher } : { matcher, ignoreFile };
}

async function readIgnoreFile(path: string, required: true): Promise<string>;
async function readIgnoreFile(path: string, required: false): Promise<string | undefined>;
async function readIgnoreFile(path: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (!required && isCode(error, 'ENOENT')) return undefined;
    if (isCode(error, 'ENOENT')) {
      throw new MonoError('USAGE', `the ignore file ${path} does not exist`, { hint: 'create it (gitignore syntax), or fix release.ignore_file in mono.yml', cause: error });
    }
    throw new MonoError('USAGE', `cannot read the ignore file ${path}: ${errorText(error)}`, { hint: 'check that it is a readable file', cause: error });
  }
}

async function readDir(root: string, rel: string): Promise<Dirent<Buffer>[]> {
  try {
    return await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    throw unreadable(rel === '' ? '.' : rel, error);
  }
}

function lstatEntry(absolutePath: string): Stats {
  try {
    return lstatSync(absolutePath);
  } catch (error) {
    throw unreadable(absolutePath, error);
  }
}

/** The link's target, or undefined when it is not valid UTF-8. */
function readLinkTarget(absolutePath: string): string | undefined {
  let raw: Buffer;
  try {
    raw = readlinkSync(absolutePath, { encoding: 'buffer' });
  } catch (error) {
    throw unreadable(absolutePath, error);
  }
  return isUtf8(raw) ? raw.toString('utf8') : undefined;
}

function unreadable(path: string, error: unknown): MonoError {
  return new MonoError('USAGE', `cannot read ${path} in the build folder: ${errorText(error)}`, {
    hint: 'fix its permissions, or add it to .monoignore',
    cause: error,
  });
}

function nameProblem(raw: Buffer, name: string): string | undefined {
  if (!isUtf8(raw)) return 'the name is not valid UTF-8';
  if (name.includes('\n')) return 'the name contains a newline';
  if (name.includes('\0')) return 'the name contains a NUL byte';
  return undefined;
}

function specialKind(entry: Dirent<Buffer>): string {
  if (entry.isSocket()) return 'a socket';
  if (entry.isFIFO()) return 'a named pipe (fifo)';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isBlockDevice()) return 'a block device';
  return 'not a regular file, folder or link';
}

function refuseOffenders(offenders: Offenders, ignoreFile: string): void {
  const parts: string[] = [];
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  if (offenders.links.length > 0) parts.push(`${count(offenders.links.length, 'link that points', 'links that point')} outside it`);
  if (offenders.names.length > 0) parts.push(`${count(offenders.names.length, 'name', 'names')} mono cannot carry (a newline, a NUL or not UTF-8)`);
  if (offenders.special.length > 0) parts.push(`${count(offenders.special.length, 'special file', 'special files')} (socket, fifo or device)`);
  if (parts.length === 0) return;
  const what = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1) ?? ''}`;
  throw new MonoError('USAGE', `the release has ${what}`, {
    details: [...offenders.links, ...offenders.names.sort(compareBytes), ...offenders.special.sort(compareBytes)],
    hint: `fix them in the build (links must be relative and stay inside the build folder), or add them to ${ignoreFile}`,
  });
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message : String(error);
}
