// Runs a job with its alerts: the start ping, then the success or fail ping with the log tail, and the webhook for what needs a person.
import { hostname } from 'node:os';
import { isMonoError } from '../errors.js';
import { endPing, logTail, pingBody, pingUrl, webhookPayload, webhookWanted, type JobOutcome, type PingKind } from './message.js';
import { deliver, type Delivery, type DeliveryResult } from './send.js';
import type { NotifySettings } from './settings.js';

export type Send = (d: Delivery) => Promise<DeliveryResult>;

export interface AlertedJob<T> {
  readonly settings: NotifySettings;
  /** The job's name: its ping URL is settings.ping[job]; also the webhook's "job". */
  readonly job: string;
  /** Runs the job. */
  readonly run: () => Promise<T>;
  /** How a run that returned went (a result can still be a failure or carry warnings). */
  readonly judge: (result: T) => JobOutcome;
  /** The lines the job printed so far. */
  readonly lines: () => readonly string[];
  /** A notification that cannot be delivered: a warning, never the job's failure. */
  readonly warn: (message: string) => void;
  /** Registers work for an interrupted run (Ctrl-C, SIGTERM); returns the unregister function. */
  readonly onInterrupt?: (fn: () => Promise<void>) => () => void;
  readonly send?: Send;
  readonly now?: () => Date;
  /** Whether the webhook hears of this outcome (default: failures and warnings; mono cron also says when an alert ends, and repeats one at most daily). */
  readonly webhookWanted?: (outcome: JobOutcome) => boolean;
}

/** How a thrown error reads in an alert. */
export function failureOutcome(error: unknown): JobOutcome {
  if (isMonoError(error)) return { status: 'fail', message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  return { status: 'fail', message: error instanceof Error ? error.message : String(error) };
}

const PING_NAMES: Record<PingKind, string> = { start: 'start', success: 'success', fail: 'failure' };

export async function withAlerts<T>(j: AlertedJob<T>): Promise<T> {
  const send = j.send ?? deliver;
  const pingBase = j.settings.ping[j.job];
  const ping = async (kind: PingKind, body: string): Promise<void> => {
    if (pingBase === undefined) return;
    const what = `the ${j.job} ${PING_NAMES[kind]} ping`;
    const url = pingUrl(pingBase, kind);
    const failed = url === undefined ? 'its URL is not a valid http(s) URL' : await send({ url, body, contentType: 'text/plain; charset=utf-8' });
    if (failed !== undefined) j.warn(`could not deliver ${what}: ${failed}; the ${j.job} itself is not affected`);
  };
  const hook = async (outcome: JobOutcome, tail: string): Promise<void> => {
    const webhook = j.settings.webhook;
    if (webhook === undefined || !(j.webhookWanted ?? webhookWanted)(outcome)) return;
    const payload = webhookPayload({ app: j.settings.app, host: hostname(), job: j.job, outcome, tail, at: (j.now ?? (() => new Date()))() });
    const failed = pingUrl(webhook, 'success') === undefined ? 'its URL is not a valid http(s) URL' : await send({ url: webhook, body: JSON.stringify(payload), contentType: 'application/json' });
    if (failed !== undefined) j.warn(`could not deliver the ${j.job} alert to the webhook: ${failed}; the ${j.job} itself is not affected`);
  };
  let finished = false;
  const report = async (outcome: JobOutcome): Promise<void> => {
    if (finished) return;
    finished = true;
    const tail = logTail(j.lines());
    await Promise.all([ping(endPing(outcome), pingBody(tail, outcome)), hook(outcome, tail)]);
  };

  // The start ping goes out while the job starts; the end ping waits for it, so the service sees them in order.
  const started = ping('start', '');
  const unregister = j.onInterrupt?.(async () => {
    await started;
    await report({ status: 'fail', message: `the ${j.job} was interrupted`, hint: 'it was stopped (SIGINT or SIGTERM) before it finished; run it again' });
  });
  try {
    let result: T;
    try {
      result = await j.run();
    } catch (error) {
      await started;
      await report(failureOutcome(error));
      throw error;
    }
    await started;
    await report(j.judge(result));
    return result;
  } finally {
    unregister?.();
  }
}
