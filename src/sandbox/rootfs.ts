// The cached Debian root filesystem every box overlays: built once with debootstrap, atomically, under a lock.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MonoError, tail } from '../errors.js';
import { run, runOk } from './exec.js';
import { acquireLock } from './lock.js';
import { removeTree, unmountAll } from './mounts.js';
import { cachePaths } from './paths.js';
import { cacheKey, mirror, RECIPE, type Recipe } from './recipe.js';

export interface RootfsOptions {
  readonly onProgress?: (message: string) => void;
  readonly signal?: AbortSignal;
  readonly recipe?: Recipe;
}

/** argv of the debootstrap run that builds the cached root (exported so tests can assert it). */
export function debootstrapArgv(recipe: Recipe, target: string, mirrorUrl: string): string[] {
  return ['debootstrap', '--variant=minbase', `--include=${recipe.packages.join(',')}`, recipe.suite, target, mirrorUrl];
}

/** Turns debootstrap's hundreds of "I: …" lines into a few progress messages: each new step, and the milestones. */
export function phaseReporter(onProgress: (message: string) => void): (chunk: string) => void {
  let buffer = '';
  const seen = new Set<string>();
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      const m = /^([IWE]): (\S+)/.exec(line);
      if (m === null) continue;
      const verb = m[2] ?? '';
      const milestone = /packages\.\.\.$|base system|successfully/.test(line);
      if (m[1] !== 'I' || milestone || !seen.has(verb)) onProgress(`debootstrap: ${line.replace(/^I: /, '')}`);
      seen.add(verb);
    }
  };
}

/** Returns the path of the cached root for the recipe, building it first when it is not there. */
export async function ensureRootfs(options: RootfsOptions = {}): Promise<string> {
  const recipe = options.recipe ?? RECIPE;
  const key = cacheKey(recipe);
  const paths = cachePaths(key);
  if (existsSync(paths.root)) return paths.root;
  const progress = options.onProgress ?? (() => {});
  const signalOpt = options.signal === undefined ? {} : { signal: options.signal };

  mkdirSync(dirname(paths.lock), { recursive: true });
  const release = await acquireLock(paths.lock, {
    ...signalOpt,
    onWait: (owner) => progress(`waiting for another mono to finish building the sandbox cache${owner === undefined ? '' : ` (pid ${owner})`}…`),
  });
  try {
    if (existsSync(paths.root)) return paths.root;
    mkdirSync(paths.dir, { recursive: true });
    // Holding the lock, any partial build is left over from a process that died.
    for (const entry of readdirSync(paths.dir)) {
      if (entry.startsWith(basename(paths.partialPrefix))) await removeTree(join(paths.dir, entry));
    }
    const partial = `${paths.partialPrefix}${process.pid}`;
    const mirrorUrl = mirror();
    const started = Date.now();
    progress(`building the sandbox root filesystem (Debian ${recipe.suite}, once; about 2 minutes) in ${paths.root}`);
    const argv = debootstrapArgv(recipe, partial, mirrorUrl);
    let output = '';
    const report = phaseReporter(progress);
    const result = await run(argv, {
      timeoutMs: 30 * 60_000,
      ...signalOpt,
      onOutput: (chunk) => {
        output = (output + chunk).slice(-20_000);
        report(chunk);
      },
    }).catch(async (error: unknown) => {
      await removeTree(partial);
      throw error;
    });
    if (result.code !== 0 || result.timedOut) {
      const log = join(partial, 'debootstrap/debootstrap.log');
      const logTail = existsSync(log) ? tail((await run(['tail', '-n', '15', log])).stdout, 15) : [];
      await removeTree(partial);
      throw new MonoError('LOCAL_FAILED', `debootstrap failed${result.timedOut ? ' (timed out)' : ` with status ${result.code}`} while building the sandbox root filesystem`, {
        hint: `check the network and the mirror ${mirrorUrl} (set MONO_SANDBOX_MIRROR to use another)`,
        details: [...tail(output, 10), ...logTail],
      });
    }
    try {
      await unmountAll(partial);
      await runOk(['chroot', partial, 'apt-get', 'clean'], { timeoutMs: 120_000, ...signalOpt });
      // Every box generates its own host key.
      for (const entry of readdirSync(join(partial, 'etc/ssh'))) {
        if (entry.startsWith('ssh_host_')) rmSync(join(partial, 'etc/ssh', entry), { force: true });
      }
      renameSync(partial, paths.root);
    } catch (error) {
      await removeTree(partial);
      throw error;
    }
    writeFileSync(paths.recipeFile, JSON.stringify({ key, ...recipe, mirror: mirrorUrl, builtAt: new Date().toISOString(), buildSeconds: Math.round((Date.now() - started) / 1000) }, null, 2) + '\n');
    progress(`sandbox root filesystem ready in ${Math.round((Date.now() - started) / 1000)} s`);
    return paths.root;
  } finally {
    release();
  }
}
