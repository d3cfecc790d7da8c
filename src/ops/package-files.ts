// Files shipped inside the mono package: the agent bundle that `mono setup` uploads to the box.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MonoError } from '../errors.js';
import { builtinTemplatesDir } from '../templates/find.js';

export function agentBundlePath(): string {
  return join(dirname(builtinTemplatesDir()), 'dist', 'agent', 'mono.mjs');
}

export function readAgentBundle(): Buffer {
  const path = agentBundlePath();
  if (!existsSync(path)) throw new MonoError('INTERNAL', `the agent bundle ${path} is missing`, { hint: 'build it with `npm run build` (npm ci does this too)' });
  return readFileSync(path);
}
