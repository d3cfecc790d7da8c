// Entry point: commander wiring, and the one place that turns errors into output and an exit status.
import { Command, CommanderError } from 'commander';
import { ExitCode, isMonoError, MonoError } from '../errors.js';
import type { Context } from './context.js';
import { currentContext } from './run.js';
import { registerCommands } from './commands/index.js';
import { monoVersion } from './version.js';

export function buildProgram(): Command {
  const program = new Command('mono')
    .description('Run a majestic monolith on one Linux box: setup, zero-downtime deploys, verified backups and restore drills over plain SSH.')
    .version(monoVersion(), '-V, --version', 'print the version')
    .option('-c, --config <path>', 'config file (default: ./mono.yml)')
    .option('-n, --dry-run', 'show what would change, change nothing')
    .option('--json', 'print NDJSON events on stdout')
    .option('-v, --verbose', 'show commands as they run, and stack traces')
    .option('-y, --yes', 'answer yes to confirmations')
    .showHelpAfterError('(run mono --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

function report(error: unknown, ctx: Context | undefined): number {
  const verbose = ctx?.options.verbose ?? process.argv.includes('--verbose');
  if (error instanceof CommanderError) {
    if (error.code === 'commander.version' || error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return ExitCode.ok;
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const log = ctx?.log;
  const mono: MonoError = isMonoError(error)
    ? error
    : new MonoError('INTERNAL', `internal error: ${error instanceof Error ? error.message : String(error)}`, { hint: 'this is a bug in mono; please report it with the output of --verbose', cause: error });
  ctx?.log.event('error', { code: mono.code, message: mono.message, hint: mono.hint, exitCode: mono.exitCode });
  if (log !== undefined) log.error(mono.message, mono.hint, mono.details);
  else process.stderr.write(`error: ${mono.message}\n${mono.hint === undefined ? '' : `hint: ${mono.hint}\n`}`);
  if (verbose || mono.code === 'INTERNAL') {
    const stack = mono.code === 'INTERNAL' && mono.cause instanceof Error ? mono.cause.stack : mono.stack;
    process.stderr.write(`${stack ?? ''}\n`);
    if (mono.cause instanceof Error && mono.code !== 'INTERNAL') process.stderr.write(`caused by: ${mono.cause.stack ?? mono.cause.message}\n`);
  }
  return mono.exitCode;
}

export async function main(argv: readonly string[]): Promise<number> {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\ninterrupted (${signal}): cleaning up…\n`);
    void (currentContext()?.cleanup() ?? Promise.resolve()).finally(() => process.exit(ExitCode.interrupted));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return report(error, currentContext());
  } finally {
    await currentContext()?.cleanup();
  }
}

/**
 * process.exit() drops whatever a pipe has not taken yet (the agent's replies travel through a pipe to sshd, and a
 * 20,000-blob reply is far larger than the 64 KiB pipe buffer), so wait until stdout and stderr are flushed first.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

const code = await main(process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
