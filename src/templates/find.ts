// Finds a template: the project's templates/ folder overrides the one shipped with mono.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MonoError } from '../errors.js';

/** The templates/ folder shipped in the mono package (found upwards from this file, in source and in dist/). */
export function builtinTemplatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'templates', 'systemd')) && existsSync(join(dir, 'package.json'))) return join(dir, 'templates');
    const parent = dirname(dir);
    if (parent === dir) throw new MonoError('INTERNAL', 'cannot find the templates/ folder shipped with mono', { hint: 'reinstall mono' });
    dir = parent;
  }
}

export interface TemplateSource {
  readonly text: string;
  readonly origin: string;
}

export function readTemplate(relative: string, projectDir: string): TemplateSource {
  const override = join(projectDir, 'templates', relative);
  if (existsSync(override)) return { text: readFileSync(override, 'utf8'), origin: override };
  const builtin = join(builtinTemplatesDir(), relative);
  return { text: readFileSync(builtin, 'utf8'), origin: builtin };
}
