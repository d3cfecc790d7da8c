// The one place where argv becomes a shell string. Every value that reaches a remote shell passes through here.
import { MonoError } from '../errors.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell so that it arrives as exactly one literal word. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new MonoError('USAGE', 'an argument contains a NUL byte, which no remote command can receive', {
      hint: 'remove the NUL character from the config value or argument',
    });
  }
  if (arg.length > 0 && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Turn argv into one command line for `sh -c` on the remote side. */
export function toShellLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new MonoError('INTERNAL', 'empty command');
  return argv.map(quoteArg).join(' ');
}
