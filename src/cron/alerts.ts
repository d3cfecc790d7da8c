// The alerts mono cron keeps open on the box (<root>/.mono/cron/alerts.json): a job's alert opens when it fails or warns,
// and closes when it runs cleanly again. The webhook hears when one opens, changes status, closes, and once a day while open.
import type { JobOutcome } from '../notify/message.js';

export interface ActiveAlert {
  readonly status: 'warning' | 'fail';
  readonly message: string;
  readonly hint?: string;
  readonly since: string;
  /** When the webhook last heard of it (absent: never, e.g. a job that alerts by itself). */
  readonly notifiedAt?: string;
}

export type Alerts = Readonly<Record<string, ActiveAlert>>;

export const REPEAT_MS = 24 * 3600_000;

/** Whether the webhook should hear of this outcome, given the job's open alert. */
export function alertWanted(active: ActiveAlert | undefined, outcome: JobOutcome, now: Date): boolean {
  if (outcome.status === 'ok') return active !== undefined;
  if (active === undefined || active.status !== outcome.status || active.notifiedAt === undefined) return true;
  return now.getTime() - Date.parse(active.notifiedAt) >= REPEAT_MS;
}

/** The job's alert after this outcome; `notified`: the webhook was sent for it. */
export function nextAlert(active: ActiveAlert | undefined, outcome: JobOutcome, now: Date, notified: boolean): ActiveAlert | undefined {
  if (outcome.status === 'ok') return undefined;
  const at = now.toISOString();
  const since = active !== undefined && active.status === outcome.status ? active.since : at;
  const notifiedAt = notified ? at : active?.status === outcome.status ? active.notifiedAt : undefined;
  return { status: outcome.status, message: outcome.message, ...(outcome.hint === undefined ? {} : { hint: outcome.hint }), since, ...(notifiedAt === undefined ? {} : { notifiedAt }) };
}

/** The message a closing alert sends. */
export function resolvedOutcome(job: string, active: ActiveAlert, outcome: JobOutcome): JobOutcome {
  return { status: 'ok', message: `${job} is back to normal (it was ${active.status === 'fail' ? 'failing' : 'warning'} since ${active.since}): ${outcome.message}` };
}
