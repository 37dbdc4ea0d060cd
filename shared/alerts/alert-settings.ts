/**
 * Alert settings from the environment: the webhook (a secret: it carries its own credential, so it is never
 * logged or shown) and the thresholds of the conditions.
 */
import { ValidationError } from '../errors';

/** Alert settings by environment variable. */
export const ALERT_SETTING_NAMES = {
  webhookUrl: 'ICEBRIDGE_ALERT_WEBHOOK_URL',
  stallMinutes: 'ICEBRIDGE_ALERT_STALL_MINUTES',
  errorRate: 'ICEBRIDGE_ALERT_ERROR_RATE',
  throughputFraction: 'ICEBRIDGE_ALERT_THROUGHPUT_FRACTION',
  baselineRowsPerSecond: 'ICEBRIDGE_ALERT_BASELINE_ROWS_PER_SECOND',
  syncLagSeconds: 'ICEBRIDGE_ALERT_SYNC_LAG_SECONDS',
} as const;

/** The thresholds of the alert conditions. */
export interface AlertThresholds {
  /** A running migration with no progress for this long is stalled (default 30). */
  stallMinutes: number;
  /** Failed tables over finished tables above this fraction alert (default 0.1). */
  errorRate: number;
  /** Copy rate below this fraction of the baseline alerts (default 0.5). */
  throughputFraction: number;
  /** The copy rate expected, rows per second; without it the throughput condition is off. */
  baselineRowsPerSecond?: number;
  /** Sync lag above this many seconds alerts (default 300). */
  syncLagSeconds: number;
}

/** Alert settings: where to send (absent: alerts are only logged) and when. */
export interface AlertSettings {
  /** The webhook URL: a secret. */
  webhookUrl?: string;
  thresholds: AlertThresholds;
}

/** Default thresholds. */
export const DEFAULT_THRESHOLDS: AlertThresholds = { stallMinutes: 30, errorRate: 0.1, throughputFraction: 0.5, syncLagSeconds: 300 };

/** Reads the alert settings; a bad value is a ValidationError naming the setting, never showing the URL. */
export function alertSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AlertSettings {
  const webhookUrl = env[ALERT_SETTING_NAMES.webhookUrl]?.trim() || undefined;
  if (webhookUrl !== undefined && !isHttpUrl(webhookUrl)) throw new ValidationError(`${ALERT_SETTING_NAMES.webhookUrl} must be an https:// (or http://) URL`);
  return { ...(webhookUrl === undefined ? {} : { webhookUrl }), thresholds: alertThresholdsFromEnv(env) };
}

/** Reads the thresholds alone (what evaluating the conditions needs); a bad value is a ValidationError naming the setting. */
export function alertThresholdsFromEnv(env: NodeJS.ProcessEnv = process.env): AlertThresholds {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const number = (name: string, fallback: number, max: number): number => {
    const text = get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || value > max) throw new ValidationError(`${name} must be a number above 0 and at most ${max}`);
    return value;
  };
  const baseline = get(ALERT_SETTING_NAMES.baselineRowsPerSecond);
  return {
    stallMinutes: number(ALERT_SETTING_NAMES.stallMinutes, DEFAULT_THRESHOLDS.stallMinutes, 7 * 24 * 60),
    errorRate: number(ALERT_SETTING_NAMES.errorRate, DEFAULT_THRESHOLDS.errorRate, 1),
    throughputFraction: number(ALERT_SETTING_NAMES.throughputFraction, DEFAULT_THRESHOLDS.throughputFraction, 1),
    ...(baseline === undefined ? {} : { baselineRowsPerSecond: number(ALERT_SETTING_NAMES.baselineRowsPerSecond, 0, 1e12) }),
    syncLagSeconds: number(ALERT_SETTING_NAMES.syncLagSeconds, DEFAULT_THRESHOLDS.syncLagSeconds, 30 * 24 * 3600),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
