// Output: human progress on stderr (coloured on a TTY), data on stdout, NDJSON events on stdout with --json.
import pc from 'picocolors';

export interface LoggerOptions {
  json: boolean;
  verbose: boolean;
  /** Where human text goes; stderr unless a test captures it. */
  err?: NodeJS.WritableStream & { isTTY?: boolean };
  out?: NodeJS.WritableStream;
}

export type EventFields = Record<string, unknown>;

export class Logger {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly #err: NodeJS.WritableStream;
  readonly #out: NodeJS.WritableStream;
  readonly #c: ReturnType<typeof pc.createColors>;

  constructor(options: LoggerOptions) {
    this.json = options.json;
    this.verbose = options.verbose;
    const err = options.err ?? process.stderr;
    this.#err = err;
    this.#out = options.out ?? process.stdout;
    const tty = (err as { isTTY?: boolean }).isTTY === true && process.env['NO_COLOR'] === undefined;
    this.#c = pc.createColors(tty || process.env['FORCE_COLOR'] !== undefined);
  }

  get colors(): ReturnType<typeof pc.createColors> {
    return this.#c;
  }

  /** A structured event: one NDJSON line with --json, otherwise nothing (callers print their own human line). */
  event(type: string, fields: EventFields = {}): void {
    if (this.json) this.#out.write(JSON.stringify({ type, time: new Date().toISOString(), ...fields }) + '\n');
  }

  /** Human progress text (stderr). Quiet with --json so stdout stays machine-readable and stderr stays short. */
  info(message: string): void {
    if (!this.json) this.#err.write(message + '\n');
  }

  /** Extra detail, shown with --verbose only. */
  debug(message: string): void {
    if (this.verbose) this.#err.write(this.#c.dim(message) + '\n');
  }

  warn(message: string): void {
    this.#err.write(`${this.#c.yellow('warning:')} ${message}\n`);
  }

  /** Data for the user (stdout), printed with and without --json. */
  data(text: string): void {
    this.#out.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** An error line plus its hint and details (stderr). */
  error(message: string, hint?: string, details: readonly string[] = []): void {
    this.#err.write(`${this.#c.red(this.#c.bold('error:'))} ${message}\n`);
    for (const line of details) this.#err.write(`  ${this.#c.dim(line)}\n`);
    if (hint !== undefined) this.#err.write(`${this.#c.cyan('hint:')} ${hint}\n`);
  }
}
