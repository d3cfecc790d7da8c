// What mono cron on the box runs: <root>/.mono/cron.json (0600), written by mono setup and mono deploy from mono.yml.
// Each job is a list of agent verbs (argv after `mono agent`, never a shell line), run one after the other.
import { MonoError } from '../errors.js';
import { isJobName, type JobName } from './names.js';

export interface CronStep {
  /** The argv after `mono agent`, e.g. ["backup", "--root", "/srv/shop", …]. */
  readonly args: readonly string[];
  /** Written to the step's stdin (a drill's request). */
  readonly stdin?: string;
}

export interface CronJobSpec {
  readonly name: JobName;
  readonly cron: string;
  readonly timeoutMs: number;
  /** The job sends its own pings and webhook (backup, restore_test); the scheduler only records it. */
  readonly selfAlerting: boolean;
  readonly steps: readonly CronStep[];
}

export interface CronSpec {
  readonly version: 1;
  readonly app: string;
  readonly root: string;
  readonly jobs: readonly CronJobSpec[];
}

export function cronSpecPath(monoDir: string): string {
  return `${monoDir}/cron.json`;
}

export function cronSpecJson(spec: CronSpec): string {
  return JSON.stringify(spec, null, 2) + '\n';
}

/** A spec read back from its file, every field checked: the scheduler runs what it says. */
export function parseCronSpec(text: string): CronSpec {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (error) {
    throw new MonoError('USAGE', `cron.json is not JSON: ${(error as Error).message}`, { hint: 'run mono setup to write it again' });
  }
  const bad = (why: string): MonoError => new MonoError('USAGE', `cron.json: ${why}`, { hint: 'run mono setup to write it again' });
  if (typeof v !== 'object' || v === null) throw bad('expected an object');
  const o = v as Record<string, unknown>;
  if (o['version'] !== 1) throw bad(`unknown version ${JSON.stringify(o['version'])}`);
  if (typeof o['app'] !== 'string' || typeof o['root'] !== 'string' || !Array.isArray(o['jobs'])) throw bad('needs app, root and jobs');
  const seen = new Set<string>();
  const jobs = o['jobs'].map((j: unknown, i): CronJobSpec => {
    const job = (typeof j === 'object' && j !== null ? j : {}) as Record<string, unknown>;
    const name = job['name'];
    if (typeof name !== 'string' || !isJobName(name)) throw bad(`jobs[${i}] has an unknown name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw bad(`${name} is listed twice`);
    seen.add(name);
    const timeoutMs = job['timeoutMs'];
    if (typeof job['cron'] !== 'string' || typeof timeoutMs !== 'number' || !(timeoutMs > 0) || typeof job['selfAlerting'] !== 'boolean' || !Array.isArray(job['steps'])) throw bad(`${name} needs cron, timeoutMs, selfAlerting and steps`);
    const steps = job['steps'].map((s: unknown): CronStep => {
      const step = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      const args = step['args'];
      if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === 'string')) throw bad(`${name} has a step without args`);
      if (step['stdin'] !== undefined && typeof step['stdin'] !== 'string') throw bad(`${name} has a step whose stdin is not text`);
      return { args, ...(typeof step['stdin'] === 'string' ? { stdin: step['stdin'] } : {}) };
    });
    return { name, cron: job['cron'], timeoutMs, selfAlerting: job['selfAlerting'], steps };
  });
  return { version: 1, app: o['app'], root: o['root'], jobs };
}
