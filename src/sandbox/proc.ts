// Reads /proc to find and watch the systemd-nspawn processes that run boxes (synchronous, so exit handlers can use it).
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

interface Stat {
  readonly state: string;
  readonly ppid: number;
}

function stat(pid: number): Stat | undefined {
  const text = readProc(pid, 'stat');
  if (text === undefined) return undefined;
  // "pid (comm) S ppid ...": comm may contain spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', ppid: Number(rest[1] ?? '0') };
}

/** A process that exists and has not exited (zombies count as gone). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

export function cmdline(pid: number): string[] {
  const text = readProc(pid, 'cmdline');
  if (text === undefined || text === '') return [];
  return text.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** Is pid a live systemd-nspawn running the given root directory? */
export function isNspawnFor(pid: number, rootDir: string): boolean {
  if (!isAlive(pid)) return false;
  const argv = cmdline(pid);
  if (argv[0] === undefined || basename(argv[0]) !== 'systemd-nspawn') return false;
  return argv.some((arg, i) => (arg === rootDir && argv[i - 1] === '-D') || arg === `--directory=${rootDir}`);
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Every live systemd-nspawn whose -D is rootDir (normally zero or one). */
export function findNspawnPids(rootDir: string): number[] {
  return allPids().filter((pid) => isNspawnFor(pid, rootDir));
}

/** Direct children of pid (the container's init is a child of systemd-nspawn). */
export function childrenOf(pid: number): number[] {
  return allPids().filter((p) => stat(p)?.ppid === pid);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
