// Files shipped inside the mono package: the agent that `mono setup` installs on the box (dist/agent, code-split).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MonoError } from '../errors.js';
import { builtinTemplatesDir } from '../templates/find.js';

export const AGENT_SUMS = 'SHA256SUMS';

export interface AgentBundle {
  /** The first 16 hex digits of SHA256SUMS' hash: names the installed copy (/usr/local/lib/mono/agent-<id>). */
  readonly id: string;
  /** SHA256SUMS first, then every file it lists, paths relative to dist/agent. */
  readonly files: readonly { readonly path: string; readonly content: Buffer }[];
}

export function agentBundleDir(): string {
  return join(dirname(builtinTemplatesDir()), 'dist', 'agent');
}

const REBUILD = 'build it with `npm run build` (npm ci does this too)';

/** Reads dist/agent and checks every file against SHA256SUMS, so that a half-built agent never reaches a box. */
export function readAgentBundle(dir = agentBundleDir()): AgentBundle {
  const sumsPath = join(dir, AGENT_SUMS);
  if (!existsSync(sumsPath)) throw new MonoError('INTERNAL', `the agent bundle ${sumsPath} is missing`, { hint: REBUILD });
  const sums = readFileSync(sumsPath);
  const files = [{ path: AGENT_SUMS, content: sums }];
  for (const line of sums.toString('utf8').split('\n').filter((l) => l !== '')) {
    const match = /^([0-9a-f]{64}) {2}([A-Za-z0-9._/-]+)$/.exec(line);
    if (match === null || match[2]!.split('/').includes('..')) throw new MonoError('INTERNAL', `${sumsPath} has a line that is not "<sha256>  <path>": ${line.slice(0, 120)}`, { hint: REBUILD });
    const path = join(dir, match[2]!);
    const content = existsSync(path) ? readFileSync(path) : undefined;
    if (content === undefined || createHash('sha256').update(content).digest('hex') !== match[1]) {
      throw new MonoError('INTERNAL', `the agent bundle file ${path} is ${content === undefined ? 'missing' : 'not the one SHA256SUMS lists'}`, { hint: REBUILD });
    }
    files.push({ path: match[2]!, content });
  }
  if (!files.some((f) => f.path === 'mono.mjs')) throw new MonoError('INTERNAL', `${sumsPath} does not list mono.mjs`, { hint: REBUILD });
  return { id: createHash('sha256').update(sums).digest('hex').slice(0, 16), files };
}
