// Writes <root>/.mono/cron.json from a deploy (0600, atomically, only when it differs): the scheduler reloads it by itself.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cronSpecJson, cronSpecPath, parseCronSpec } from '../../cron/spec.js';
import { MonoError } from '../../errors.js';
import type { AgentPaths } from '../paths.js';

export function writeCronSpec(paths: AgentPaths, value: unknown): { changed: boolean } {
  const spec = parseCronSpec(JSON.stringify(value));
  if (spec.root !== paths.root) throw new MonoError('USAGE', `the schedule is for ${spec.root}, this agent serves ${paths.root}`);
  const file = cronSpecPath(paths.monoDir);
  const text = cronSpecJson(spec);
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) return { changed: false };
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return { changed: true };
}
