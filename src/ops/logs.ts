// `mono logs [PROCESS] [-f] [--since T] [--release R] [--lines N]`: the app's units in journald on the box, read through
// the privileged helper (its `journal` verb checks every argument) and printed as they come. With -f it follows until
// Ctrl-C, which closes the SSH connection; journalctl on the box then ends with it.
import type { Context } from '../cli/context.js';
import { serviceProcesses } from '../config/types.js';
import { MonoError } from '../errors.js';
import { priv } from '../handover/units.js';
import { RELEASE_ID } from '../release/protocol.js';
import { connect } from './connect.js';
import { layoutOf } from './setup/layout.js';

export interface LogsOptions {
  readonly follow?: boolean;
  readonly since?: string;
  readonly release?: string;
  readonly lines?: string;
}

const SINCE = /^(-\d+[smhd]|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?|today|yesterday)$/;

/** The helper's arguments for a logs request, checked here so that a mistake is a clear error before anything runs. */
export function journalArgs(processes: readonly string[], process: string | undefined, options: LogsOptions): string[] {
  if (process !== undefined && !processes.includes(process)) {
    throw new MonoError('USAGE', `${process} is not a process type of this app (${processes.join(', ')})`, { hint: 'leave it out for every process' });
  }
  if (options.release !== undefined && !RELEASE_ID.test(options.release)) throw new MonoError('USAGE', `--release must be a release id (mono releases lists them), got ${options.release}`);
  if (options.since !== undefined && !SINCE.test(options.since)) {
    throw new MonoError('USAGE', `--since ${options.since} is not a time mono understands`, { hint: 'use -30m, -2h, -1d, 2026-12-01, 2026-12-01T09:00:00, today or yesterday' });
  }
  const lines = options.lines ?? (options.since === undefined ? '100' : '1000000');
  if (!/^\d{1,7}$/.test(lines)) throw new MonoError('USAGE', `--lines must be a whole number, got ${lines}`);
  return ['journal', process ?? 'all', options.release ?? 'all', lines, options.since ?? '-', options.follow === true ? 'follow' : 'once'];
}

export async function logsCommand(ctx: Context, process: string | undefined, options: LogsOptions): Promise<number> {
  const config = await ctx.config();
  const args = journalArgs(serviceProcesses(config), process, options);
  const t = await connect(ctx, config, 'deploy');
  await t.run(priv(layoutOf(config).privHelper, ...args), {
    // Following has no end of its own: Ctrl-C ends it (the longest timer Node has, about 23 days, stands for none).
    timeoutMs: options.follow === true ? 2_000_000_000 : config.ssh.commandTimeoutMs,
    onStdout: (chunk) => void globalThis.process.stdout.write(chunk),
  });
  return 0;
}
