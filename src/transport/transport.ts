// The transport contract: run a Cmd somewhere (this machine, the box over SSH, or a dry-run recorder).
import type { Cmd } from '../commands/cmd.js';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Overrides the transport's command timeout for this command (ms). */
  readonly timeoutMs?: number;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
}

export interface Transport {
  /** Who and where, for messages: "root@127.0.0.1:2222" or "local". */
  readonly where: string;
  /** True for the --dry-run recorder: results of changing commands are made up, so steps skip their assertions. */
  readonly dryRun?: boolean;
  /** Runs the command; resolves when its status is in okCodes, otherwise throws CommandFailedError. */
  run(cmd: Cmd, options?: RunOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export function isOk(cmd: Cmd, code: number): boolean {
  return (cmd.okCodes ?? [0]).includes(code);
}
