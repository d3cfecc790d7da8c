// A command is data: argv plus how to run it. Builders return these; only transports execute them.

export interface Cmd {
  readonly argv: readonly string[];
  /** Bytes fed to the command's standard input (this is how file contents and secrets travel, never in argv). */
  readonly stdin?: string | Buffer;
  /** Needs root on the box; a transport logged in as another user prefixes `sudo -n --`. */
  readonly privileged?: boolean;
  /** Exit statuses that count as success (default [0]). */
  readonly okCodes?: readonly number[];
  /** Does the command change anything? Read-only commands still run under --dry-run. */
  readonly mutates?: boolean;
}

export function cmd(argv: readonly string[], options: Omit<Cmd, 'argv'> = {}): Cmd {
  return { argv, ...options };
}

/** A read-only probe: runs even under --dry-run. */
export function probe(argv: readonly string[], options: Omit<Cmd, 'argv' | 'mutates'> = {}): Cmd {
  return { argv, ...options, mutates: false };
}

/** A command that changes the box: recorded, not run, under --dry-run. */
export function change(argv: readonly string[], options: Omit<Cmd, 'argv' | 'mutates'> = {}): Cmd {
  return { argv, ...options, mutates: true };
}

/**
 * A fixed shell snippet whose variable parts arrive as positional parameters ("$1", "$2", ...).
 * The snippet is a constant written in this code base; values never get spliced into it.
 */
export function shellScript(script: string, args: readonly string[], options: Omit<Cmd, 'argv'> = {}): Cmd {
  return { argv: ['sh', '-c', script, 'mono', ...args], ...options };
}

export function sudoArgv(argv: readonly string[]): string[] {
  return ['sudo', '-n', '--', ...argv];
}
