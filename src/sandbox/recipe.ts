// The recipe of the cached root filesystem (suite, packages, mirror) and its pure cache key.
import { createHash } from 'node:crypto';

/** Bump when the way the cached root is built changes, so that old caches are not reused. */
export const RECIPE_VERSION = 1;

export const SUITE = 'bookworm';

export const PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'sudo',
  'nginx-light',
  'postgresql',
  'nodejs',
  'zstd',
  'ca-certificates',
  'procps',
  'iproute2',
  'rsync',
  'curl',
  'less',
];

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

export interface Recipe {
  readonly suite: string;
  readonly packages: readonly string[];
  readonly version: number;
}

export const RECIPE: Recipe = { suite: SUITE, packages: PACKAGES, version: RECIPE_VERSION };

/** A short, stable key for a recipe: the same suite, version and set of packages (in any order) give the same key. */
export function cacheKey(recipe: Recipe): string {
  const packages = [...new Set(recipe.packages.map((p) => p.trim()).filter((p) => p.length > 0))].sort();
  const text = JSON.stringify({ suite: recipe.suite, packages, version: recipe.version });
  return `${recipe.suite}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

export function mirror(env: NodeJS.ProcessEnv = process.env): string {
  const value = env['MONO_SANDBOX_MIRROR']?.trim();
  return value === undefined || value === '' ? DEFAULT_MIRROR : value;
}
