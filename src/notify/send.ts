// Delivers one alert over HTTP(S) with Node's fetch: a timeout per try, a few retries, and a reason that never quotes the URL.

export interface Delivery {
  readonly url: string;
  readonly body: string;
  readonly contentType: string;
}

export interface DeliveryOptions {
  readonly timeoutMs: number;
  /** Tries after the first one. */
  readonly retries: number;
  /** Waits before each retry (the last value repeats). */
  readonly backoffMs: readonly number[];
}

export const DEFAULT_DELIVERY: DeliveryOptions = { timeoutMs: 10_000, retries: 2, backoffMs: [1000, 3000] };

/** undefined when delivered, otherwise why not, in words that never contain the URL (it is a secret). */
export type DeliveryResult = string | undefined;

/** Why a try failed, from the error's kind and code only: fetch's own messages can quote the URL. */
export function failureReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; cause?: { code?: unknown; name?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'ConnectTimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  if (typeof e.cause?.code === 'string') return e.cause.code === 'ECONNREFUSED' ? 'connection refused' : e.cause.code === 'ENOTFOUND' ? 'host not found' : e.cause.code;
  return 'network error';
}

/** Server errors and rate limits may pass; anything else (a 404 for an unknown check) will not get better by retrying. */
function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

async function tryOnce(d: Delivery, timeoutMs: number): Promise<{ reason: DeliveryResult; retry: boolean }> {
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await fetch(d.url, { method: 'POST', body: d.body, headers: { 'content-type': d.contentType }, signal, redirect: 'follow' });
    // Read the answer so that the connection is released.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { reason: undefined, retry: false };
    return { reason: `HTTP ${res.status}`, retry: retryable(res.status) };
  } catch (error) {
    return { reason: failureReason(error, timeoutMs), retry: true };
  }
}

export async function deliver(d: Delivery, options: DeliveryOptions = DEFAULT_DELIVERY): Promise<DeliveryResult> {
  let last: DeliveryResult = 'not tried';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, options.backoffMs[Math.min(attempt - 1, options.backoffMs.length - 1)] ?? 0));
    const { reason, retry } = await tryOnce(d, options.timeoutMs);
    if (reason === undefined) return undefined;
    last = attempt === 0 ? reason : `${reason} (after ${attempt + 1} tries)`;
    if (!retry) break;
  }
  return last;
}
