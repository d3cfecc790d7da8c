// Where the agent finds things under an app root (DESIGN.md §3), and the check that --root is usable.
import { isAbsolute, normalize } from 'node:path';
import { MonoError } from '../errors.js';

export interface AgentPaths {
  readonly root: string;
  readonly releases: string;
  readonly shared: string;
  readonly current: string;
  readonly monoDir: string;
  readonly store: string;
  readonly lockDir: string;
  readonly lockInfo: string;
  readonly auditLog: string;
}

export function agentPaths(root: string): AgentPaths {
  const monoDir = `${root}/.mono`;
  return {
    root,
    releases: `${root}/releases`,
    shared: `${root}/shared`,
    current: `${root}/current`,
    monoDir,
    store: `${monoDir}/store`,
    lockDir: `${monoDir}/lock`,
    lockInfo: `${monoDir}/lock/info.json`,
    auditLog: `${monoDir}/audit.log`,
  };
}

/** --root must be an absolute path; returned normalised without a trailing slash. */
export function requireRoot(root: string | undefined): string {
  if (root === undefined || root.length === 0) throw new MonoError('USAGE', 'mono agent needs --root <absolute path>');
  if (!isAbsolute(root) || root.includes('\0')) throw new MonoError('USAGE', `--root must be an absolute path, got ${JSON.stringify(root)}`);
  const clean = normalize(root);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}
