// `mono notify test`: one notification to every configured target, sent from the box (as real alerts are), so that the
// operator sees each one arrive before the first real failure. Each target is named, never by its URL.
import { hostname } from 'node:os';
import { pingUrl, webhookPayload } from './message.js';
import { deliver, type Delivery, type DeliveryResult } from './send.js';
import type { NotifySettings } from './settings.js';

export interface TestResult {
  readonly target: string;
  /** Why it was not delivered; undefined when it was. */
  readonly failed?: string;
}

export async function sendTests(settings: NotifySettings, send: (d: Delivery) => Promise<DeliveryResult> = deliver, now = new Date()): Promise<TestResult[]> {
  const body = `mono notify test from ${hostname()} (${settings.app}) at ${now.toISOString()}: this is a test, nothing failed`;
  const sends: Promise<TestResult>[] = Object.entries(settings.ping).map(async ([job, base]) => {
    const url = pingUrl(base, 'success');
    const failed = url === undefined ? 'its URL is not a valid http(s) URL' : await send({ url, body, contentType: 'text/plain; charset=utf-8' });
    return { target: `the ${job} ping`, ...(failed === undefined ? {} : { failed }) };
  });
  if (settings.webhook !== undefined) {
    const webhook = settings.webhook;
    const payload = webhookPayload({ app: settings.app, host: hostname(), job: 'notify-test', outcome: { status: 'ok', message: 'a test notification from mono notify test: nothing failed' }, tail: body, at: now });
    sends.push(
      (async (): Promise<TestResult> => {
        const failed = pingUrl(webhook, 'success') === undefined ? 'its URL is not a valid http(s) URL' : await send({ url: webhook, body: JSON.stringify(payload), contentType: 'application/json' });
        return { target: 'the webhook', ...(failed === undefined ? {} : { failed }) };
      })(),
    );
  }
  return Promise.all(sends);
}
