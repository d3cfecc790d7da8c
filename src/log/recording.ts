// A logger that passes everything on to another one unchanged and keeps the recent lines, for an alert's log tail.
import { Logger, type EventFields } from './logger.js';

export class RecordingLogger extends Logger {
  readonly #inner: Logger;
  readonly #limit: number;
  readonly #lines: string[] = [];
  readonly #warnings: string[] = [];
  #lastData: string | undefined;

  /** Keeps at most `limit` lines (the newest). */
  constructor(inner: Logger, limit = 500) {
    super({ json: inner.json, verbose: inner.verbose });
    this.#inner = inner;
    this.#limit = limit;
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
  }

  /** The info and warning lines printed so far (as the user saw them, warnings prefixed), oldest first. */
  lines(): readonly string[] {
    return this.#lines;
  }

  /** The warnings printed so far, without the prefix. */
  warnings(): readonly string[] {
    return this.#warnings;
  }

  /** The last data text printed (the agent's reply line). */
  lastData(): string | undefined {
    return this.#lastData;
  }

  override get colors(): Logger['colors'] {
    return this.#inner.colors;
  }

  override event(type: string, fields: EventFields = {}): void {
    this.#inner.event(type, fields);
  }

  override info(message: string): void {
    this.#inner.info(message);
    if (!this.json) this.#keep(message);
  }

  override debug(message: string): void {
    this.#inner.debug(message);
  }

  override warn(message: string): void {
    this.#inner.warn(message);
    this.#keep(`warning: ${message}`);
    if (this.#warnings.length < 50) this.#warnings.push(message);
  }

  override data(text: string): void {
    this.#inner.data(text);
    this.#lastData = text;
  }

  override error(message: string, hint?: string, details: readonly string[] = []): void {
    this.#inner.error(message, hint, details);
    this.#keep(`error: ${message}`);
  }
}
