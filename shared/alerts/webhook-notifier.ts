/**
 * Sends alerts to a webhook (Slack or Teams, webhook-payload.ts) once per incident: the incident is claimed in
 * the incident store before sending and marked sent after, and delivery is retried with exponential backoff on
 * 5xx, 429 and network errors. The URL carries its own credential, so no message, log line or error this module
 * writes contains it: failures are described by HTTP status or error code only.
 */
import { errorMessage } from '../errors';
import { type Alert, incidentKey } from './alert';
import type { IncidentStore } from './incident-store';
import { webhookPayload } from './webhook-payload';

/** What raising an alert did. */
export type NotifyOutcome =
  | { outcome: 'sent'; attempts: number; deduplicated: boolean }
  | { outcome: 'duplicate'; why: 'sent' | 'in-flight' }
  | { outcome: 'failed'; attempts: number; reason: string };

/** Options of the notifier. */
export interface WebhookNotifierOptions {
  /** The webhook URL (a secret). */
  url: string;
  /** Where incidents are recorded; without one, every raise sends. */
  incidents?: IncidentStore;
  /** Deliveries tried per alert (default 5). */
  attempts?: number;
  /** Wait before the first retry, doubled each time with jitter, capped at 30 s (default 1 s). */
  retryDelayInMs?: number;
  /** Longest wait for one delivery (default 10 s). */
  requestTimeoutInMs?: number;
  /** Where problems are reported (default: a warning on the console). */
  log?: (message: string) => void;
}

/** Posts alerts to one webhook, once per incident. */
export class WebhookNotifier {
  private readonly log: (message: string) => void;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.log = options.log ?? ((message) => console.warn(message));
  }

  /** Sends `alert` unless its incident was alerted already; never throws. */
  async notify(alert: Alert): Promise<NotifyOutcome> {
    const key = incidentKey(alert);
    let attempt: number | undefined;
    if (this.options.incidents !== undefined) {
      try {
        const claim = await this.options.incidents.claim(key);
        if (!claim.claimed) return { outcome: 'duplicate', why: claim.why };
        attempt = claim.attempt;
      } catch (error) {
        // A missed alert is worse than a repeated one: send without the record.
        this.log(`icebridge: alert ${key}: the incident record could not be read or written (${errorMessage(error)}); sending without it`);
      }
    }
    const delivery = await this.deliver(alert);
    if (attempt !== undefined) {
      try {
        if (delivery.ok) await this.options.incidents!.markSent(key, attempt);
        else await this.options.incidents!.markFailed(key, attempt, delivery.reason);
      } catch (error) {
        this.log(`icebridge: alert ${key}: the incident record could not be updated: ${errorMessage(error)}`);
      }
    }
    if (!delivery.ok) {
      this.log(`icebridge: alert ${key} was not delivered after ${delivery.attempts} attempt(s): ${delivery.reason}`);
      return { outcome: 'failed', attempts: delivery.attempts, reason: delivery.reason };
    }
    return { outcome: 'sent', attempts: delivery.attempts, deduplicated: attempt !== undefined };
  }

  private async deliver(alert: Alert): Promise<{ ok: true; attempts: number } | { ok: false; attempts: number; reason: string }> {
    const attempts = this.options.attempts ?? 5;
    const body = JSON.stringify(webhookPayload(alert));
    let reason = 'not tried';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoff(this.options.retryDelayInMs ?? 1_000, attempt - 1));
      let retryable: boolean;
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.options.requestTimeoutInMs ?? 10_000),
        });
        // The body is drained so the connection is released; its text is not kept (a service may echo the URL).
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return { ok: true, attempts: attempt };
        reason = `the webhook answered HTTP ${response.status}`;
        retryable = response.status >= 500 || response.status === 429;
      } catch (error) {
        reason = `the webhook could not be reached (${networkCode(error)})`;
        retryable = true;
      }
      if (!retryable) return { ok: false, attempts: attempt, reason };
    }
    return { ok: false, attempts, reason };
  }
}

/** The error's code (ECONNREFUSED, a timeout), never its message: fetch's messages and causes may hold the URL. */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause?.code === 'string' && /^[A-Z0-9_]+$/.test(cause.code)) return cause.code;
  const name = (error as { name?: unknown }).name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : 'network error';
}

function backoff(baseInMs: number, retry: number): number {
  const ceiling = Math.min(30_000, baseInMs * 2 ** (retry - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
