/** The outbox relay's settings, from the environment: batch size, attempts, lease, backoff and the timer's schedule. */
import { intSetting } from '../kafka/kafka-settings';

/** The relay's settings, by environment variable. */
export const OUTBOX_SETTING_NAMES = {
  batch: 'ICEBRIDGE_OUTBOX_BATCH',
  maxAttempts: 'ICEBRIDGE_OUTBOX_MAX_ATTEMPTS',
  leaseSeconds: 'ICEBRIDGE_OUTBOX_LEASE_SECONDS',
  backoffBaseMs: 'ICEBRIDGE_OUTBOX_BACKOFF_BASE_MS',
  backoffMaxMs: 'ICEBRIDGE_OUTBOX_BACKOFF_MAX_MS',
  schedule: 'ICEBRIDGE_OUTBOX_RELAY_SCHEDULE',
  timerSeconds: 'ICEBRIDGE_OUTBOX_RELAY_SECONDS',
} as const;

/** The relay's tunables. */
export interface OutboxSettings {
  /** Rows claimed and published at once (default 500). */
  batch: number;
  /** Attempts before a row is marked `failed` (default 10). */
  maxAttempts: number;
  /** How long a claim holds rows: longer than a send can take with every retry (default 300 s). */
  leaseInMs: number;
  /** Backoff after a failed attempt: base * 2^(attempts-1), at most max, times a random 0.5-1 (default 1 s, 10 min). */
  backoffBaseInMs: number;
  backoffMaxInMs: number;
  /** NCRONTAB schedule of the relay timer (default every minute). */
  schedule: string;
  /** How long one timer run relays at most (default 50 s: done before the next minute's run). */
  timerRunInMs: number;
}

/** The default timer schedule: every minute, on the minute. */
export const DEFAULT_OUTBOX_SCHEDULE = '0 * * * * *';

/** The relay's settings of `env`; a malformed one is a ValidationError naming it. */
export function outboxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): OutboxSettings {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  return {
    batch: intSetting(get(OUTBOX_SETTING_NAMES.batch), OUTBOX_SETTING_NAMES.batch, 500, 10_000),
    maxAttempts: intSetting(get(OUTBOX_SETTING_NAMES.maxAttempts), OUTBOX_SETTING_NAMES.maxAttempts, 10, 1_000),
    leaseInMs: intSetting(get(OUTBOX_SETTING_NAMES.leaseSeconds), OUTBOX_SETTING_NAMES.leaseSeconds, 300, 86_400) * 1_000,
    backoffBaseInMs: intSetting(get(OUTBOX_SETTING_NAMES.backoffBaseMs), OUTBOX_SETTING_NAMES.backoffBaseMs, 1_000, 3_600_000),
    backoffMaxInMs: intSetting(get(OUTBOX_SETTING_NAMES.backoffMaxMs), OUTBOX_SETTING_NAMES.backoffMaxMs, 600_000, 86_400_000),
    schedule: get(OUTBOX_SETTING_NAMES.schedule) ?? DEFAULT_OUTBOX_SCHEDULE,
    timerRunInMs: intSetting(get(OUTBOX_SETTING_NAMES.timerSeconds), OUTBOX_SETTING_NAMES.timerSeconds, 50, 3_600) * 1_000,
  };
}
