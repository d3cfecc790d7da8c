// Whole-tree operations on read-only release trees: list directories, make them read-only, make them removable, remove.
import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { errnoCode } from './fs-errors.js';

/** Every directory under `dir` (itself included), parents before children; symlinks are not followed. */
export function directoriesOf(dir: string): string[] {
  const out: string[] = [dir];
  for (let i = 0; i < out.length; i++) {
    const current = out[i]!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.isDirectory()) out.push(`${current}/${entry.name}`);
    }
  }
  return out;
}

/** chmod every directory of the tree, deepest first (so a read-only parent never blocks its children). */
export function chmodDirectories(dir: string, mode: number): void {
  const dirs = directoriesOf(dir);
  for (let i = dirs.length - 1; i >= 0; i--) chmodSync(dirs[i]!, mode);
}

/** Removes a tree whose directories may be read-only (0555). Absent is fine. */
export function removeTree(dir: string): void {
  let isDir: boolean;
  try {
    isDir = lstatSync(dir).isDirectory();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  if (isDir) makeWritable(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Parents first, so that each directory can be listed and then emptied. */
function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) makeWritable(`${dir}/${entry.name}`);
  }
}
