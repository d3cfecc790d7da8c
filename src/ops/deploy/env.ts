// Uploads the app's env file (from a local file or a secrets command) to shared/.env, 0600, without ever printing it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { probe, shellScript } from '../../commands/cmd.js';
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { Secret } from '../../log/secret.js';
import type { Transport } from '../../transport/transport.js';

export async function readEnvSource(config: Config): Promise<Secret | undefined> {
  if (config.envFile !== undefined) {
    try {
      return new Secret(readFileSync(config.envFile, 'utf8'));
    } catch (error) {
      throw new MonoError('USAGE', `cannot read env_file ${config.envFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { hint: 'fix env_file in mono.yml; nothing was sent to the box' });
    }
  }
  if (config.envCommand !== undefined) {
    // The command's output is the secret: it is never echoed, and its stderr is shown only as a last line.
    const r = await execa('sh', ['-c', config.envCommand], { cwd: config.dir, reject: false, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      throw new MonoError('LOCAL_FAILED', `env_command exited with status ${String(r.exitCode)}`, { hint: 'run it by hand to see why; nothing was sent to the box', details: String(r.stderr).split('\n').filter(Boolean).slice(-1) });
    }
    return new Secret(String(r.stdout).endsWith('\n') ? String(r.stdout) : `${String(r.stdout)}\n`);
  }
  return undefined;
}

/** True when the box's env file changed. */
export async function uploadEnv(t: Transport, path: string, env: Secret): Promise<boolean> {
  const wanted = createHash('sha256').update(env.reveal()).digest('hex');
  const current = await t.run(probe(['sha256sum', '--', path], { okCodes: [0, 1] }));
  if (current.stdout.split(' ')[0] === wanted) return false;
  await t.run(shellScript('set -e; umask 077; cat > "$1.mono-tmp"; chmod 600 "$1.mono-tmp"; mv -fT "$1.mono-tmp" "$1"', [path], { stdin: env.reveal(), mutates: true }));
  return true;
}
