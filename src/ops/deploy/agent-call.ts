// Calls a `mono agent` verb on the box and parses its one-line JSON reply.
import { MonoError } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { AGENT_BIN } from '../setup/layout.js';

export function agentArgv(verb: readonly string[], root: string, extra: readonly string[] = []): string[] {
  return [AGENT_BIN, 'agent', ...verb, '--root', root, ...extra];
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
    mutates: !['releases', 'store-missing', 'audit'].includes(verb[0] ?? '') && !(verb[0] === 'lock' && verb[1] === 'status'),
  });
  return parseReply<T>(out.stdout, `"${verb.join(' ')}"`);
}
