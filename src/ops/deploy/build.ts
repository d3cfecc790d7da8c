// Runs the optional local build command before packaging; if it fails, nothing reaches the box.
import { execa } from 'execa';
import { MonoError, tail } from '../../errors.js';
import type { Logger } from '../../log/logger.js';

export async function runBuild(command: string, cwd: string, log: Logger): Promise<void> {
  log.info(`building: ${command}`);
  const child = execa('sh', ['-c', command], { cwd, reject: false, stdin: 'ignore', all: true });
  if (!log.json) child.all?.on('data', (chunk: Buffer) => process.stderr.write(log.colors.dim(chunk.toString())));
  const r = await child;
  if (r.exitCode !== 0) {
    throw new MonoError('LOCAL_FAILED', `the build command failed with status ${String(r.exitCode ?? r.signal)}: ${command}`, {
      hint: 'fix the build (its output is above); nothing was sent to the box',
      details: tail(String(r.all ?? ''), 8),
    });
  }
}
