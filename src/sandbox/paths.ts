// Where sandbox files live: the cached root (MONO_SANDBOX_CACHE) and per-box state (MONO_SANDBOX_HOME).
import { join } from 'node:path';
import { MonoError } from '../errors.js';

export const DEFAULT_CACHE_DIR = '/var/cache/mono/sandbox';
export const DEFAULT_HOME_DIR = '/var/lib/mono/sandbox';

function fromEnv(name: string, fallback: string): string {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

export function cacheBase(): string {
  return fromEnv('MONO_SANDBOX_CACHE', DEFAULT_CACHE_DIR);
}

export function homeBase(): string {
  return fromEnv('MONO_SANDBOX_HOME', DEFAULT_HOME_DIR);
}

export interface CachePaths {
  readonly dir: string;
  readonly root: string;
  /** Where debootstrap builds, renamed to root when complete. */
  readonly partialPrefix: string;
  readonly lock: string;
  readonly recipeFile: string;
}

export function cachePaths(key: string, base = cacheBase()): CachePaths {
  const dir = join(base, key);
  return { dir, root: join(dir, 'root'), partialPrefix: join(dir, 'root.partial.'), lock: `${dir}.lock`, recipeFile: join(dir, 'recipe.json') };
}

export interface BoxPaths {
  readonly dir: string;
  readonly upper: string;
  readonly work: string;
  readonly root: string;
  readonly stateFile: string;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  readonly consoleLog: string;
}

export function boxPaths(name: string, base = homeBase()): BoxPaths {
  const dir = join(base, name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    stateFile: join(dir, 'state.json'),
    keyFile: join(dir, 'id_ed25519'),
    knownHostsFile: join(dir, 'known_hosts'),
    consoleLog: join(dir, 'console.log'),
  };
}

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Box names become directory names and container host names: lower-case letters, digits and dashes. */
export function checkBoxName(name: string): string {
  if (!NAME.test(name) || name.endsWith('-')) {
    throw new MonoError('USAGE', `invalid sandbox name "${name}"`, {
      hint: 'use 1-40 lower-case letters, digits and dashes, starting with a letter or digit (for example "app")',
    });
  }
  return name;
}
