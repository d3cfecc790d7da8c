// Runs commands on this machine with execa (no shell: argv goes straight to the program).
import { execa } from 'execa';
import { sudoArgv, type Cmd } from '../commands/cmd.js';
import { CommandFailedError, MonoError } from '../errors.js';
import { isOk, type ExecResult, type RunOptions, type Transport } from './transport.js';

export interface LocalTransportOptions {
  readonly commandTimeoutMs?: number;
  readonly cwd?: string;
}

export class LocalTransport implements Transport {
  readonly where = 'local';
  readonly #options: LocalTransportOptions;

  constructor(options: LocalTransportOptions = {}) {
    this.#options = options;
  }

  async run(cmd: Cmd, options: RunOptions = {}): Promise<ExecResult> {
    const argv = cmd.privileged === true && process.getuid?.() !== 0 ? sudoArgv(cmd.argv) : [...cmd.argv];
    const [file, ...args] = argv;
    if (file === undefined) throw new MonoError('INTERNAL', 'empty command');
    const timeout = options.timeoutMs ?? this.#options.commandTimeoutMs;
    const child = execa(file, args, {
      reject: false,
      stripFinalNewline: false,
      ...(cmd.stdin === undefined ? { stdin: 'ignore' as const } : { input: cmd.stdin }),
      ...(timeout === undefined ? {} : { timeout }),
      ...(this.#options.cwd === undefined ? {} : { cwd: this.#options.cwd }),
    });
    if (options.onStdout !== undefined) child.stdout?.on('data', options.onStdout);
    if (options.onStderr !== undefined) child.stderr?.on('data', options.onStderr);
    const result = await child;
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    if (result.timedOut) {
      throw new MonoError('LOCAL_FAILED', `${file} did not finish within ${Math.round((timeout ?? 0) / 1000)} s`, { hint: 'raise the timeout or find out why the command hangs' });
    }
    if (result.failed && result.exitCode === undefined) {
      const missing = (result as { code?: string }).code === 'ENOENT';
      throw new MonoError('LOCAL_FAILED', missing ? `${file} is not installed on this machine` : `${file} could not run: ${result.shortMessage}`, {
        hint: missing ? `install ${file} (for example with apt-get) and try again` : 'run again with --verbose for details',
      });
    }
    const code = result.exitCode ?? 1;
    if (!isOk(cmd, code)) throw new CommandFailedError('local', argv, code, stdout, stderr);
    return { code, stdout, stderr };
  }

  async close(): Promise<void> {}
}
