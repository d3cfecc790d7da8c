// The package version, baked in at build time (falls back to package.json when run from source).
import { readFileSync } from 'node:fs';

declare const __MONO_VERSION__: string | undefined;

export function monoVersion(): string {
  if (typeof __MONO_VERSION__ === 'string') return __MONO_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
