// Gives each box its own cgroup subtree. Without systemd on the host, `nspawn --keep-unit` splits the caller's cgroup
// into "supervisor" and "payload", so boxes started from the same cgroup would share (and fight over) one payload tree.
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const PARENT = 'mono-sandbox';

/** Mount points of the hierarchies systemd uses: cgroup2 (unified) and the v1 name=systemd hierarchy, where present. */
export function systemdCgroupMounts(mountinfo = readMountinfo()): string[] {
  const mounts: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (mountPoint === undefined) continue;
    if (fstype === 'cgroup2' || (fstype === 'cgroup' && superOptions.split(',').includes('name=systemd'))) mounts.push(mountPoint);
  }
  return [...new Set(mounts)];
}

function readMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/** The box's own cgroup directory in each hierarchy (deterministic, so any process can clean them up). */
export function boxCgroupDirs(name: string, mounts = systemdCgroupMounts()): string[] {
  return mounts.map((mount) => join(mount, PARENT, name));
}

/** Creates the box's cgroups and returns their cgroup.procs files, for the nspawn wrapper to move itself into. */
export function prepareCgroups(name: string): string[] {
  return boxCgroupDirs(name).map((dir) => {
    mkdirSync(dir, { recursive: true });
    return join(dir, 'cgroup.procs');
  });
}

function removeCgroupTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return;
  }
  for (const entry of entries) removeCgroupTree(join(dir, entry));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes, or already gone
  }
}

/** Removes the box's cgroups once its processes are gone (best effort, never throws). */
export function removeCgroups(name: string): void {
  for (const dir of boxCgroupDirs(name)) removeCgroupTree(dir);
}

function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  try {
    pids.push(...readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) pids.push(...pidsIn(join(dir, e.name)));
  } catch {
    // gone
  }
  return pids;
}

/** Every process still in the box's cgroups (for the last-resort SIGKILL). */
export function cgroupPids(name: string): number[] {
  return [...new Set(boxCgroupDirs(name).flatMap(pidsIn))].filter((pid) => pid > 0);
}
