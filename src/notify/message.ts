// What alerts say, as pure functions: healthchecks-style ping URLs, the log tail they carry, and the webhook's JSON.

export type PingKind = 'start' | 'success' | 'fail';
export type AlertStatus = 'ok' | 'warning' | 'fail';

/** How a job ended, as its alerts report it. */
export interface JobOutcome {
  readonly status: AlertStatus;
  readonly message: string;
  readonly hint?: string;
}

/** The webhook's body (JSON). */
export interface WebhookPayload {
  readonly app: string;
  readonly host: string;
  readonly job: string;
  readonly status: AlertStatus;
  readonly message: string;
  readonly hint?: string;
  readonly logTail: string;
  readonly at: string;
}

export const TAIL_LINES = 100;
export const TAIL_BYTES = 10 * 1024;

/**
 * healthchecks.io's convention: `<url>/start` when a job starts, `<url>` when it succeeds, `<url>/fail` when it fails.
 * The suffix goes on the path, so a query string (`?create=1`) stays where it was. Returns undefined for a URL that does not parse.
 */
export function pingUrl(base: string, kind: PingKind): string | undefined {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (kind !== 'success') url.pathname = `${url.pathname.replace(/\/+$/, '')}/${kind}`;
  return url.toString();
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The last lines a job printed, without colour codes: at most `maxLines` lines and `maxBytes` bytes (UTF-8), newest kept. */
export function logTail(lines: readonly string[], maxLines = TAIL_LINES, maxBytes = TAIL_BYTES): string {
  const clean = lines.flatMap((l) => l.replace(ANSI, '').replace(/\n$/, '').split('\n'));
  const kept: string[] = [];
  let bytes = 0;
  for (let i = clean.length - 1; i >= 0 && kept.length < maxLines; i--) {
    const line = clean[i]!;
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > maxBytes) {
      // One line longer than the whole budget: keep its end, as much as fits.
      if (kept.length === 0) kept.unshift(Buffer.from(line, 'utf8').subarray(-(maxBytes - 1)).toString('utf8').replace(/^\uFFFD+/, ''));
      break;
    }
    kept.unshift(line);
    bytes += size;
  }
  return kept.length === 0 ? '' : kept.join('\n') + '\n';
}

/** The body of a success or fail ping: the log tail (warnings are in it already), then the error and its hint for a failure. */
export function pingBody(tail: string, outcome: JobOutcome): string {
  if (outcome.status !== 'fail') return tail;
  return logTail([...(tail === '' ? [] : [tail]), `error: ${outcome.message}`, ...(outcome.hint === undefined ? [] : [`hint: ${outcome.hint}`])]);
}

/** Which ping ends a run: a warning still means the job did its work. */
export function endPing(outcome: JobOutcome): PingKind {
  return outcome.status === 'fail' ? 'fail' : 'success';
}

/** The webhook is for what needs a person: failures and warnings, not every good run. */
export function webhookWanted(outcome: JobOutcome): boolean {
  return outcome.status !== 'ok';
}

export function webhookPayload(fields: { app: string; host: string; job: string; outcome: JobOutcome; tail: string; at: Date }): WebhookPayload {
  const { outcome } = fields;
  return {
    app: fields.app,
    host: fields.host,
    job: fields.job,
    status: outcome.status,
    message: outcome.message,
    ...(outcome.hint === undefined ? {} : { hint: outcome.hint }),
    logTail: fields.tail,
    at: fields.at.toISOString(),
  };
}
