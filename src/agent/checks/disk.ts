// The disk check: space and inodes of the filesystems holding given paths (statfs, computed as df does), and its judge.
import { statfsSync, statSync } from 'node:fs';
import { errnoCode, errorMessage } from '../fs-errors.js';
import { withHint, type CheckResult } from './result.js';

export interface DiskStats {
  readonly path: string;
  readonly totalBytes: number;
  readonly availBytes: number;
  readonly usedPercent: number;
  readonly inodesTotal: number;
  readonly inodesFree: number;
  readonly inodesUsedPercent: number;
}

/** A path that could not be examined (missing, no permission). */
export interface DiskProblem {
  readonly path: string;
  readonly error: string;
}

export type DiskUsage = DiskStats | DiskProblem;

export interface DiskThresholds {
  readonly maxUsedPercent: number;
  readonly maxInodesPercent: number;
}

export const DISK_HINT = 'free space: mono releases prune, mono backups prune, journalctl --vacuum-size; or raise checks.disk.max_used_percent';
export const INODES_HINT = 'free inodes: mono releases prune, mono backups prune, remove piles of small files (caches, sessions); or raise checks.disk.max_inodes_percent';
export const PATH_HINT = 'give the disk check paths that exist on the box (checks.disk.paths)';

/** One entry per filesystem: a path on a filesystem already listed is left out (the first path names it). */
export function diskUsage(paths: readonly string[]): DiskUsage[] {
  const seen = new Set<string>();
  const usages: DiskUsage[] = [];
  for (const path of paths) {
    let dev: number;
    let fs: ReturnType<typeof statfsSync>;
    try {
      dev = statSync(path).dev;
      fs = statfsSync(path);
    } catch (error) {
      usages.push({ path, error: errnoCode(error) === 'ENOENT' ? 'does not exist' : `cannot be examined: ${errorMessage(error)}` });
      continue;
    }
    // Not the free counts: they may change between two calls on the same filesystem.
    const key = [dev, fs.type, fs.bsize, fs.blocks, fs.files].join(':');
    if (seen.has(key)) continue;
    seen.add(key);
    const used = fs.blocks - fs.bfree;
    usages.push({
      path,
      totalBytes: fs.blocks * fs.bsize,
      availBytes: fs.bavail * fs.bsize,
      usedPercent: percent(used, used + fs.bavail),
      inodesTotal: fs.files,
      inodesFree: fs.ffree,
      inodesUsedPercent: percent(fs.files - fs.ffree, fs.files),
    });
  }
  return usages;
}

/** Fails when a path is missing or its filesystem is at or above a threshold. */
export function judgeDisk(usages: readonly DiskUsage[], t: DiskThresholds): CheckResult {
  const details = { maxUsedPercent: t.maxUsedPercent, maxInodesPercent: t.maxInodesPercent, filesystems: usages };
  const problems: string[] = [];
  let hint: string | undefined;
  for (const u of usages) {
    if ('error' in u) {
      problems.push(`${u.path} ${u.error}`);
      hint ??= PATH_HINT;
      continue;
    }
    if (u.usedPercent >= t.maxUsedPercent) {
      problems.push(`${u.path} is ${u.usedPercent}% full (threshold ${t.maxUsedPercent}%)`);
      hint = DISK_HINT;
    }
    if (u.inodesUsedPercent >= t.maxInodesPercent) {
      problems.push(`${u.path} has ${u.inodesUsedPercent}% of its inodes in use (threshold ${t.maxInodesPercent}%)`);
      if (hint !== DISK_HINT) hint = INODES_HINT;
    }
  }
  if (problems.length > 0) return { check: 'disk', status: 'fail', message: problems.join('; '), ...withHint(hint), details };
  const each = usages.map((u) => ('error' in u ? u.path : `${u.path} ${u.usedPercent}% full, ${u.inodesUsedPercent}% of inodes used`));
  return { check: 'disk', status: 'ok', message: `${each.join('; ')} (thresholds ${t.maxUsedPercent}% full, ${t.maxInodesPercent}% of inodes)`, details };
}

/** part/whole in percent, one decimal; 0 for an empty whole (a filesystem without inode counts). */
function percent(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.round((part / whole) * 1000) / 10;
}
