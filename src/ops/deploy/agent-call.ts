// Calls a `mono agent` verb on the box and parses its one-line JSON reply.
import { CommandFailedError, MonoError, type ErrorCode } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { AGENT_BIN } from '../setup/layout.js';

export function agentArgv(verb: readonly string[], root: string, extra: readonly string[] = []): string[] {
  return [AGENT_BIN, 'agent', ...verb, '--root', root, ...extra];
}

/** Chunks of a stream as whole lines: push() each chunk, flush() the last line once the stream has ended. */
export function lineSplitter(onLine: (line: string) => void): { push: (chunk: Buffer) => void; flush: () => void } {
  let carry = '';
  return {
    push(chunk) {
      const lines = (carry + chunk.toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      lines.forEach(onLine);
    },
    flush() {
      onLine(carry);
      carry = '';
    },
  };
}

/** The progress an agent verb prints on stderr ("  …" lines and warnings), shown as it comes: an onStderr handler. */
export function agentProgress(info: (line: string) => void): (chunk: Buffer) => void {
  return lineSplitter((line) => {
    if (line.startsWith('  ') || line.startsWith('warning: ')) info(line);
  }).push;
}

export function parseReply<T>(stdout: string, what: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new MonoError('REMOTE_FAILED', `the agent on the box gave no readable answer to ${what}`, {
      hint: 'run `mono setup` so the agent on the box matches this mono version',
      details: [line.slice(0, 300)],
    });
  }
}

export async function agentCall<T>(t: Transport, verb: readonly string[], root: string, options: { input?: string; extra?: readonly string[]; okCodes?: readonly number[] } = {}): Promise<T> {
  const out = await t.run({
    argv: agentArgv(verb, root, options.extra),
    ...(options.input === undefined ? {} : { stdin: options.input }),
    okCodes: options.okCodes ?? [0],
    mutates: !['releases', 'store-missing', 'audit', 'status'].includes(verb[0] ?? '') && !(verb[0] === 'lock' && verb[1] === 'status') && !(verb[0] === 'cron' && verb[1] === 'list'),
  });
  return parseReply<T>(out.stdout, `"${verb.join(' ')}"`);
}

/**
 * An agent verb that failed on the box printed its own "error: …" and "hint: …" lines and exited with its error's exit code:
 * the same error here, instead of "mono exited with status 5".
 */
export function agentFailure(error: CommandFailedError): MonoError {
  const lines = error.stderr.split('\n');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  if (at === -1) return error;
  const message = lines[at]!.slice('error: '.length);
  const hint = lines.slice(at + 1).find((l) => l.startsWith('hint: '))?.slice('hint: '.length);
  const details = lines.slice(at + 1).filter((l) => l.startsWith('  ')).map((l) => l.trim());
  const code: ErrorCode = error.status === 7 ? 'LOCKED' : error.status === 6 ? 'PREREQ_MISSING' : error.status === 2 ? 'USAGE' : error.status === 3 ? 'SSH_DISCONNECTED' : 'REMOTE_FAILED';
  return new MonoError(code, message, { ...(hint === undefined ? {} : { hint }), details, cause: error });
}
