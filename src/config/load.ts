// Loads mono.yml in three phases: schema → normalize → cross-field rules, reporting every problem at once.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MonoError } from '../errors.js';
import { crossFieldProblems } from './rules.js';
import { normalize } from './normalize.js';
import { closest, configInvalid, problem, type Problem } from './problems.js';
import { configSchema, type RawConfig } from './schema.js';
import type { Config } from './types.js';

export const DEFAULT_CONFIG_FILE = 'mono.yml';

export function resolveConfigPath(given: string | undefined, cwd = process.cwd()): string {
  return resolve(cwd, given ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  if (!existsSync(path)) {
    throw new MonoError('CONFIG_NOT_FOUND', `no config file at ${path}`, { hint: 'run `mono init` to write a starter mono.yml, or pass --config PATH' });
  }
  return parseConfig(readFileSync(path, 'utf8'), path, env);
}

/** Phase 0: YAML syntax. Phase 1: schema. Phase 2: normalize. Phase 3: cross-field rules. */
export function parseConfig(text: string, path: string, env: NodeJS.ProcessEnv = process.env): Config {
  const file = isAbsolute(path) ? path : resolve(path);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw configInvalid(
      file,
      doc.errors.slice(0, 1).map((e) => problem(`line ${e.linePos?.[0]?.line ?? '?'}`, `YAML syntax: ${(e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '')}`, 'check the indentation and quoting on that line')),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw configInvalid(file, [problem('', 'expected a mapping of keys (app:, host:, …)', 'run `mono init` for a commented example')]);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw configInvalid(file, parsed.error.issues.flatMap((issue) => schemaProblems(issue, data)));
  const raw: RawConfig = parsed.data;
  const context = { file, dir: dirname(file), home: homedir(), env };
  const { config, problems } = normalize(raw, context);
  const all = [...problems, ...(config === undefined ? [] : crossFieldProblems(config, raw))];
  if (all.length > 0 || config === undefined) throw configInvalid(file, all);
  return config;
}

const HINTS: Record<string, string> = {
  app: 'for example: app: shop',
  host: 'write it as user@host or user@host:port, for example root@203.0.113.7:22',
  'backups.offsite.host': 'write it as user@host or user@host:port, for example backup@198.51.100.4',
  'nginx.listen': 'for example: 80, or 127.0.0.1:8080',
  'nginx.tls.listen': 'for example: 443',
  'nginx.server_names': 'for example: server_names: [shop.example.com, www.shop.example.com]',
};

function pathOf(issuePath: readonly PropertyKey[]): string {
  return issuePath.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replaceAll('.[', '[');
}

function schemaProblems(issue: z.core.$ZodIssue, data: unknown): Problem[] {
  const path = pathOf(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      const full = path === '' ? key : `${path}.${key}`;
      return problem(full, 'unknown key', suggestion === undefined ? `allowed here: ${known.join(', ')}` : `did you mean ${suggestion}?`);
    });
  }
  if (issue.code === 'invalid_type' && valueAt(data, issue.path) === undefined) {
    return [problem(path, 'is required', HINTS[path])];
  }
  if (issue.code === 'invalid_type') {
    return [problem(path, `expected ${issue.expected}, got ${describe(valueAt(data, issue.path))}`, HINTS[path])];
  }
  if (issue.code === 'invalid_union') {
    return [problem(path, `${issue.message === 'Invalid input' ? 'has the wrong form' : issue.message}, got ${describe(valueAt(data, issue.path))}`, HINTS[path])];
  }
  return [problem(path, issue.message, HINTS[path])];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  valueType?: { _zod: { def: Def } };
}

/** The keys the schema allows at a path (for "did you mean"). */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let def = (configSchema as unknown as { _zod: { def: Def } })._zod.def;
  const unwrap = (d: Def): Def => (d.innerType !== undefined && (d.type === 'optional' || d.type === 'default' || d.type === 'nullable') ? unwrap(d.innerType._zod.def) : d);
  for (const key of path) {
    def = unwrap(def);
    if (def.type === 'object' && def.shape !== undefined && typeof key === 'string' && def.shape[key] !== undefined) def = def.shape[key]._zod.def;
    else if (def.type === 'array' && def.element !== undefined) def = def.element._zod.def;
    else if (def.type === 'record' && def.valueType !== undefined) def = def.valueType._zod.def;
    else return [];
  }
  def = unwrap(def);
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}
