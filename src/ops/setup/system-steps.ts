// Setup steps that are not plain files: apt packages, the deploy user, folders, the env file, the agent check.
import { ensureDir, ensureFile, parsePathsState, pathsState } from '../../commands/files.js';
import { addSystemUser, aptInstall, aptUpdate, disablePassword, getUser, nodeVersion, packageStatus, passwordField, tmpfilesCreate } from '../../commands/system.js';
import { MonoError } from '../../errors.js';
import { needs, ok, type CheckResult, type Step } from '../../plan/step.js';
import type { Transport } from '../../transport/transport.js';
import { nodeMajor, type BoxFacts } from './facts.js';
import { sameMode } from './managed-file.js';

/** A package requirement: satisfied when any of the alternatives is installed; the first is installed otherwise. */
export type PackageNeed = readonly [string, ...string[]];

export function packageNeeds(facts: BoxFacts, extra: { age: boolean }): PackageNeed[] {
  const pg = facts.pgServers.length > 0 ? facts.pgServers.map((v): PackageNeed => [`postgresql-client-${v}`]) : [['postgresql-client'] as PackageNeed];
  return [['nginx', 'nginx-light', 'nginx-core', 'nginx-full', 'nginx-extras'], ['nodejs'], ['sudo'], ['zstd'], ['ca-certificates'], ['curl'], ...pg, ...(extra.age ? [['age'] as PackageNeed] : [])];
}

export function missingPackages(dpkgOutput: string, needs_: readonly PackageNeed[]): string[] {
  const installed = new Set(
    dpkgOutput
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return needs_.filter((alternatives) => !alternatives.some((p) => installed.has(p))).map((alternatives) => alternatives[0]);
}

export function packagesStep(wanted: readonly PackageNeed[]): Step {
  const all = wanted.flat();
  const missing = async (t: Transport): Promise<string[]> => missingPackages((await t.run(packageStatus(all))).stdout, wanted);
  return {
    id: 'packages',
    describe: `packages: ${wanted.map((w) => w[0]).join(', ')}`,
    async check(t) {
      const m = await missing(t);
      return m.length === 0 ? ok : needs(`missing ${m.join(', ')}`);
    },
    async apply(t) {
      const m = await missing(t);
      await t.run(aptUpdate(), { timeoutMs: 10 * 60_000 });
      await t.run(aptInstall(m), { timeoutMs: 20 * 60_000 });
    },
  };
}

export function userStep(user: string, home: string): Step {
  const state = async (t: Transport): Promise<CheckResult> => {
    const passwd = (await t.run(getUser(user))).stdout.trim();
    if (passwd === '') return needs(`user ${user} does not exist`);
    const [, , , , , dir, shell] = passwd.split(':');
    if (dir !== home) return needs(`home is ${dir ?? '?'}, want ${home}`);
    if (shell !== '/bin/bash') return needs(`shell is ${shell ?? '?'}, want /bin/bash`);
    const shadow = (await t.run(passwordField(user))).stdout.split(':')[1] ?? '';
    if (shadow !== '*') return needs('account is locked or has a password');
    return ok;
  };
  return {
    id: 'user',
    describe: `deploy user ${user} (home ${home}, SSH keys only)`,
    check: state,
    async apply(t) {
      if ((await t.run(getUser(user))).stdout.trim() === '') await t.run(addSystemUser(user, home));
      await t.run({ ...disablePassword(user), argv: ['usermod', '--home', home, '--shell', '/bin/bash', '--password', '*', user] });
    },
  };
}

export interface DirSpec {
  readonly path: string;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
}

export function foldersStep(dirs: readonly DirSpec[], id = 'folders', describe = 'folders and their owners'): Step {
  const wrong = async (t: Transport): Promise<{ dir: DirSpec; why: string }[]> => {
    const seen = parsePathsState((await t.run(pathsState(dirs.map((d) => d.path)))).stdout);
    return dirs.flatMap((dir) => {
      const s = seen.get(dir.path);
      if (s === undefined || s === 'missing') return [{ dir, why: `${dir.path} missing` }];
      const [mode = '', owner, group, ...type] = s.split(' ');
      if (type.join(' ') !== 'directory') return [{ dir, why: `${dir.path} is not a directory` }];
      if (!sameMode(mode, dir.mode) || owner !== dir.owner || group !== dir.group) return [{ dir, why: `${dir.path} is ${mode} ${owner}:${group}` }];
      return [];
    });
  };
  return {
    id,
    describe,
    async check(t) {
      const w = await wrong(t);
      return w.length === 0 ? ok : needs(w.map((x) => x.why).join('; '));
    },
    async apply(t) {
      for (const { dir } of await wrong(t)) await t.run(ensureDir(dir.path, dir.mode, dir.owner, dir.group));
    },
  };
}

/** A private file of the app user: it exists, 0600, owned by user:user (its content is never read here). */
export async function privateFileState(t: Transport, path: string, user: string): Promise<CheckResult> {
  const line = parsePathsState((await t.run(pathsState([path]))).stdout).get(path) ?? 'missing';
  if (line === 'missing') return needs('missing');
  const [mode = '', owner, group] = line.split(' ');
  return sameMode(mode, '0600') && owner === user && group === user ? ok : needs(`is ${mode} ${owner}:${group}`);
}

/** The env file must exist with mode 0600; its content belongs to deploys and is never read or printed here. */
export function envFileStep(path: string, user: string): Step {
  return {
    id: 'env-file',
    describe: `env file ${path} (0600, content untouched)`,
    check: (t) => privateFileState(t, path, user),
    async apply(t) {
      await t.run(ensureFile(path, '0600', user, user));
    },
  };
}

export function runtimeDirStep(tmpfilesPath: string, dirs: readonly DirSpec[]): Step {
  const folders = foldersStep(dirs, 'runtime-dir', `runtime folders ${dirs.map((d) => d.path).join(', ')} (recreated at boot by systemd-tmpfiles)`);
  return { ...folders, apply: async (t) => void (await t.run(tmpfilesCreate(tmpfilesPath))) };
}

/**
 * The agent needs Node.js >= 18 on the box. The bundle itself is run (node mono.mjs --version) whenever it is
 * installed or replaced; on a no-op run a `node --version` is enough and saves a slow start of the bundle.
 */
export function nodeRuntimeStep(agentBin: string): Step {
  return {
    id: 'node-runtime',
    describe: `Node.js >= 18 on the box runs the agent (${agentBin})`,
    async check(t) {
      const out = await t.run(nodeVersion());
      const major = nodeMajor(out.stdout);
      return out.code === 0 && major >= 18 ? ok : needs(out.code === 0 ? `node is ${out.stdout.trim()}` : 'node is missing');
    },
    async apply(t) {
      if (t.dryRun === true) return;
      const node = (await t.run(nodeVersion())).stdout.trim();
      throw new MonoError('PREREQ_MISSING', `the box has node ${node || '(none)'}; the mono agent needs Node.js >= 18`, {
        hint: 'use Debian 12+ or Ubuntu 24.04+, or install a newer nodejs package, then run mono setup again',
      });
    },
  };
}
