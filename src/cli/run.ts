// Turns a commander action into a handler call with a Context built from the global options.
import type { Command } from 'commander';
import { Context, type GlobalOptions } from './context.js';

export type Handler = (ctx: Context) => Promise<number | void>;

let current: Context | undefined;

export function currentContext(): Context | undefined {
  return current;
}

export function globalOptions(command: Command): GlobalOptions {
  const o = command.optsWithGlobals<{ config?: string; dryRun?: boolean; json?: boolean; verbose?: boolean; yes?: boolean }>();
  return {
    ...(o.config === undefined ? {} : { config: o.config }),
    dryRun: o.dryRun === true,
    json: o.json === true,
    verbose: o.verbose === true,
    yes: o.yes === true,
  };
}

export async function runWith(command: Command, handler: Handler): Promise<void> {
  current = new Context(globalOptions(command));
  const code = await handler(current);
  if (typeof code === 'number') process.exitCode = code;
}

/** Lazily loads a command module so that `mono --version` and `--help` stay fast. */
export function lazy<A extends unknown[]>(load: () => Promise<(ctx: Context, ...args: A) => Promise<number | void>>) {
  return async function (this: Command, ...args: unknown[]): Promise<void> {
    // commander passes (...positional, options, command)
    const command = args.at(-1) as Command;
    const fn = await load();
    await runWith(command, (ctx) => fn(ctx, ...(args.slice(0, -1) as A)));
  };
}
