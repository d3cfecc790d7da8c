// Runs local programs for the sandbox with execa: no shell, captured output, one result shape.
import { execa } from 'execa';
import { CommandFailedError, MonoError } from '../errors.js';
import { findTool } from './which.js';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly input?: string;
  /** Called with each chunk of output (stdout and stderr), for progress. */
  readonly onOutput?: (chunk: string) => void;
}

/** Runs argv and returns its result whatever the exit status; throws only when the program cannot start or is cancelled. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new MonoError('INTERNAL', 'empty command');
  options.signal?.throwIfAborted();
  const child = execa(findTool(file) ?? file, args, {
    reject: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
  });
  if (options.onOutput !== undefined) {
    const forward = options.onOutput;
    child.stdout?.on('data', (chunk: Buffer) => forward(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => forward(chunk.toString()));
  }
  const result = await child;
  if (result.isCanceled) options.signal?.throwIfAborted();
  if (result.failed && result.exitCode === undefined && !result.timedOut && !result.isCanceled) {
    const missing = (result as { code?: string }).code === 'ENOENT';
    throw new MonoError(missing ? 'PREREQ_MISSING' : 'LOCAL_FAILED', missing ? `${file} is not installed on this machine` : `${file} could not run: ${result.shortMessage}`, {
      hint: missing ? 'apt-get install debootstrap systemd-container openssh-client' : 'run again with --verbose for details',
    });
  }
  return { code: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), timedOut: result.timedOut };
}

/** Runs argv and throws CommandFailedError (LOCAL_FAILED) unless it exits 0. */
export async function runOk(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(argv, options);
  if (result.timedOut) {
    throw new MonoError('LOCAL_FAILED', `${argv[0] ?? '?'} did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)} s`);
  }
  if (result.code !== 0) throw new CommandFailedError('local', argv, result.code, result.stdout, result.stderr);
  return result;
}

/** Resolves after ms, or rejects early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
