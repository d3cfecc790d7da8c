// --dry-run: read-only probes still run on the real transport, every changing command is recorded instead.
import type { Cmd } from '../commands/cmd.js';
import { toShellLine } from './quote.js';
import type { ExecResult, RunOptions, Transport } from './transport.js';

export class DryRunTransport implements Transport {
  readonly where: string;
  readonly dryRun = true;
  readonly recorded: Cmd[] = [];
  readonly #inner: Transport | undefined;

  /** With no inner transport (the box is not reachable, or a unit test), probes are recorded too. */
  constructor(inner: Transport | undefined, where = inner?.where ?? 'dry-run') {
    this.#inner = inner;
    this.where = where;
  }

  /** Once a change is recorded, the box no longer matches what later probes would read, so they are recorded too. */
  #diverged = false;

  async run(cmd: Cmd, options?: RunOptions): Promise<ExecResult> {
    if (cmd.mutates === false && this.#inner !== undefined && !this.#diverged) return this.#inner.run(cmd, options);
    if (cmd.mutates !== false) this.#diverged = true;
    this.recorded.push(cmd);
    return { code: 0, stdout: '', stderr: '' };
  }

  /** The recorded commands as the shell lines they would have been. */
  lines(): string[] {
    return this.recorded.map((c) => (c.privileged === true ? '# as root: ' : '') + toShellLine(c.argv) + (c.stdin === undefined ? '' : '  < (content on stdin)'));
  }

  async close(): Promise<void> {
    await this.#inner?.close();
  }
}
