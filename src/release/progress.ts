// Progress of a long transfer: one redrawn stderr line on a TTY, a summary otherwise, throttled NDJSON events with --json.
import type { Logger } from '../log/logger.js';

export interface ProgressTotals {
  readonly bytes: number;
  readonly files: number;
}

export interface ProgressOptions {
  /** Where the live line is drawn; process.stderr unless a test captures it (the Logger does not expose its stream). */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** The clock, for tests. */
  readonly now?: () => number;
}

const TTY_INTERVAL_MS = 100;
const JSON_INTERVAL_MS = 500;
/** The rate shown is measured over this window, so that it follows changes in speed. */
const RATE_WINDOW_MS = 5000;
/** Even without add() calls (a stalled upload), the line is redrawn this often so rate and ETA stay honest. */
const STALL_REDRAW_MS = 1000;

/**
 * Progress of one phase (e.g. "uploading"). Call add() as work is done, then done() for the summary, or abort() when the
 * operation fails (it clears the live line; the error says the rest).
 */
export class Progress {
  readonly #log: Logger;
  readonly #phase: string;
  readonly #totals: ProgressTotals;
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #now: () => number;
  readonly #mode: 'tty' | 'json' | 'quiet';
  readonly #started: number;
  readonly #samples: { t: number; bytes: number }[] = [];
  #bytes = 0;
  #files = 0;
  #lastEmit = -Infinity;
  #drawn = false;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;

  constructor(log: Logger, phase: string, totals: ProgressTotals, options: ProgressOptions = {}) {
    this.#log = log;
    this.#phase = phase;
    this.#totals = totals;
    this.#stream = options.stream ?? process.stderr;
    this.#now = options.now ?? (() => performance.now());
    this.#mode = log.json ? 'json' : this.#stream.isTTY === true ? 'tty' : 'quiet';
    this.#started = this.#now();
    this.#samples.push({ t: this.#started, bytes: 0 });
    if (this.#mode === 'tty') {
      this.#timer = setInterval(() => this.#tick(), STALL_REDRAW_MS);
      this.#timer.unref();
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  get files(): number {
    return this.#files;
  }

  add(bytes: number, files = 0): void {
    if (this.#finished) return;
    this.#bytes += bytes;
    this.#files += files;
    this.#tick();
  }

  /** Ends the display with a summary line (stderr) or a last progress event (--json). */
  done(): { bytes: number; ms: number } {
    const ms = this.#now() - this.#started;
    if (this.#finished) return { bytes: this.#bytes, ms };
    this.#stop();
    const rate = ms > 0 ? (this.#bytes * 1000) / ms : 0;
    if (this.#mode === 'json') {
      this.#log.event('progress', { ...this.#fields(rate), done: true, ms: Math.round(ms) });
    } else {
      const n = this.#filesDone();
      const files = n > 0 ? `, ${count(n)} file${n === 1 ? '' : 's'}` : '';
      this.#log.info(`${this.#phase}  ${formatBytes(this.#bytes)}${files} in ${formatDuration(ms)}  (${formatBytes(rate)}/s)`);
    }
    return { bytes: this.#bytes, ms };
  }

  /** Removes the live line without a summary (the operation failed or was interrupted; the error explains). */
  abort(): void {
    if (!this.#finished) this.#stop();
  }

  /** The live line as it would be drawn now (exposed for tests). */
  line(): string {
    const now = this.#now();
    const rate = this.#rate(now);
    const { bytes: totalBytes, files: totalFiles } = this.#totals;
    const pct = totalBytes > 0 ? Math.min(100, Math.floor((this.#bytes * 100) / totalBytes)) : 100;
    const left = Math.max(0, totalBytes - this.#bytes);
    const eta = left === 0 ? '0s' : rate > 0 ? formatEta((left * 1000) / rate) : '?';
    // Callers that count only bytes (add(n) without files) get no file count rather than a stuck 0.
    const files = totalFiles > 0 && this.#files > 0 ? `  (${count(this.#files)} / ${count(totalFiles)} files)` : '';
    return `${this.#phase}  ${formatBytes(this.#bytes)} / ${formatBytes(totalBytes)}  ${pct}%  ${formatBytes(rate)}/s  ETA ${eta}${files}`;
  }

  #tick(): void {
    if (this.#mode === 'quiet') return;
    const now = this.#now();
    const interval = this.#mode === 'json' ? JSON_INTERVAL_MS : TTY_INTERVAL_MS;
    if (now - this.#lastEmit < interval) return;
    this.#lastEmit = now;
    this.#sample(now);
    if (this.#mode === 'json') {
      this.#log.event('progress', this.#fields(this.#rate(now)));
      return;
    }
    const columns = this.#stream.columns ?? 80;
    const text = this.line();
    // Never wider than the terminal: a wrapped line cannot be redrawn with \r.
    this.#stream.write(`\r${text.length >= columns ? text.slice(0, Math.max(0, columns - 1)) : text}\x1b[K`);
    this.#drawn = true;
  }

  #fields(rate: number): Record<string, unknown> {
    return { phase: this.#phase, bytes: this.#bytes, totalBytes: this.#totals.bytes, files: this.#filesDone(), totalFiles: this.#totals.files, rate: Math.round(rate) };
  }

  /** Files counted so far; when the caller counts only bytes, all files once all bytes are through, else none. */
  #filesDone(): number {
    if (this.#files > 0) return this.#files;
    return this.#bytes >= this.#totals.bytes ? this.#totals.files : 0;
  }

  #sample(now: number): void {
    this.#samples.push({ t: now, bytes: this.#bytes });
    while (this.#samples.length > 2 && (this.#samples[1]?.t ?? now) < now - RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second over the recent window (over the whole run while it is shorter than a second). */
  #rate(now: number): number {
    const first = this.#samples[0];
    const from = first !== undefined && now - first.t >= 1000 ? first : { t: this.#started, bytes: 0 };
    const ms = now - from.t;
    return ms > 0 ? ((this.#bytes - from.bytes) * 1000) / ms : 0;
  }

  #stop(): void {
    this.#finished = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}

/** Decimal units, one decimal above a kilobyte: 45.2 MB. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TB'}`;
}

/** How long something took: 0.4s, 5.4s, 45s, 1m05s, 2h03m. */
export function formatDuration(ms: number): string {
  return ms < 10_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : clock(Math.round(ms / 1000));
}

/** Time left, in whole seconds rounded up: 3s, 1m05s, 2h03m. */
export function formatEta(ms: number): string {
  return clock(Math.ceil(Math.max(0, ms) / 1000));
}

function clock(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
