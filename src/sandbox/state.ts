// A box's state.json: what `up` recorded (pid, ports, paths), read back by down, status, ssh and tests.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { BoxKind } from './configure.js';
import { boxPaths, checkBoxName, homeBase, type BoxPaths } from './paths.js';
import { isNspawnFor } from './proc.js';

/** What callers need to reach a running box. */
export interface BoxInfo {
  readonly name: string;
  readonly kind: BoxKind;
  /** pid of the box's systemd-nspawn on this machine. */
  readonly pid: number;
  readonly sshPort: number;
  /** A free 127.0.0.1 port reserved for the app's nginx (nothing listens on it until a config uses it). */
  readonly httpPort: number;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  readonly dir: string;
  /** The merged root filesystem, as seen from this machine. */
  readonly rootDir: string;
}

export interface BoxState {
  readonly name: string;
  readonly kind: BoxKind;
  readonly machine: string;
  readonly pid: number;
  readonly sshPort: number;
  readonly httpPort: number;
  readonly paths: BoxPaths;
  readonly cacheRoot: string;
  readonly createdAt: string;
}

export function writeState(state: BoxState): void {
  // Synchronous on purpose: `up` records the pid in the same tick it spawns nspawn, so no cleanup can miss it.
  const tmp = `${state.paths.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, state.paths.stateFile);
}

function isState(value: unknown): value is BoxState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['name'] === 'string' && (v['kind'] === 'app' || v['kind'] === 'offsite') && typeof v['pid'] === 'number' && typeof v['sshPort'] === 'number' && typeof v['httpPort'] === 'number' && typeof v['paths'] === 'object';
}

/** The recorded state of a box, or undefined when it has none (never created, half-created, or unreadable). */
export function readState(name: string): BoxState | undefined {
  return readStateFile(boxPaths(checkBoxName(name)).stateFile);
}

export function readStateFile(file: string): BoxState | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function toInfo(state: BoxState): BoxInfo {
  return {
    name: state.name,
    kind: state.kind,
    pid: state.pid,
    sshPort: state.sshPort,
    httpPort: state.httpPort,
    keyFile: state.paths.keyFile,
    knownHostsFile: state.paths.knownHostsFile,
    dir: state.paths.dir,
    rootDir: state.paths.root,
  };
}

/** A box that has been started (it may have stopped since: see sandboxStatus). */
export function readBox(name: string): BoxInfo | undefined {
  const state = readState(name);
  return state === undefined || state.pid <= 0 ? undefined : toInfo(state);
}

/** Names of every box directory under the sandbox home, whether or not it is running. */
export function listBoxNames(): string[] {
  const base = homeBase();
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((entry) => {
      try {
        checkBoxName(entry);
        return statSync(`${base}/${entry}`).isDirectory();
      } catch {
        return false;
      }
    })
    .sort();
}

/** Ports recorded by other boxes, so a new box does not pick them. */
export function claimedPorts(): Set<number> {
  const ports = new Set<number>();
  for (const name of listBoxNames()) {
    const state = readState(name);
    if (state !== undefined) {
      ports.add(state.sshPort);
      ports.add(state.httpPort);
    }
  }
  return ports;
}

/** Is the box's systemd-nspawn still running? */
export function isBoxRunning(box: Pick<BoxInfo, 'pid' | 'rootDir'>): boolean {
  return isNspawnFor(box.pid, box.rootDir);
}
