/**
 * Raising an alert from anywhere in the app: the webhook and the incident store come from the settings. Without
 * `ICEBRIDGE_ALERT_WEBHOOK_URL` nothing is sent (callers log what they raise). Never throws: an alert must not fail what raised it.
 */
import { loadSettings } from '../config/settings';
import { errorMessage } from '../errors';
import type { RollbackAlert } from '../flags/flag-changes';
import { createFileIO } from '../iceberg/io';
import type { JobResult } from '../run/job-results';
import { type Alert, incidentKey } from './alert';
import { alertSettingsFromEnv } from './alert-settings';
import { emergencyRollbackAlert, jobAlert } from './conditions';
import { IncidentStore } from './incident-store';
import { type NotifyOutcome, WebhookNotifier } from './webhook-notifier';

/** Options of `raiseAlert`. */
export interface RaiseAlertOptions {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  /** Wait before the first retry (tests shorten it). */
  retryDelayInMs?: number;
}

/** Sends `alert` to the configured webhook once per incident; answers what happened, or undefined when no webhook is set. */
export async function raiseAlert(alert: Alert, options: RaiseAlertOptions = {}): Promise<NotifyOutcome | undefined> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((message: string) => console.warn(message));
  try {
    const { webhookUrl } = alertSettingsFromEnv(env);
    // Callers log what they raise (the emergency rollback at error level): nothing more to say without a webhook.
    if (webhookUrl === undefined) return undefined;
    let incidents: IncidentStore | undefined;
    try {
      const settings = loadSettings(env);
      incidents = new IncidentStore(createFileIO(settings.warehouse, settings.storage), settings.warehouse);
    } catch (error) {
      log(`icebridge: alert ${incidentKey(alert)}: no incident record (${errorMessage(error)}); sending without it`);
    }
    return await new WebhookNotifier({
      url: webhookUrl,
      ...(incidents ? { incidents } : {}),
      log,
      ...(options.retryDelayInMs === undefined ? {} : { retryDelayInMs: options.retryDelayInMs }),
    }).notify(alert);
  } catch (error) {
    log(`icebridge: alert ${incidentKey(alert)} could not be raised: ${errorMessage(error)}`);
    return undefined;
  }
}

/** Raises the emergency rollback's alert (the hook `rollbackToPostgres` callers add to their alert). */
export function raiseRollbackAlert(event: RollbackAlert, options?: RaiseAlertOptions): Promise<NotifyOutcome | undefined> {
  return raiseAlert(emergencyRollbackAlert(event), options);
}

/** Raises the alert a scheduled job's result calls for (drift found, a consistency difference, a failed job), if any. */
export async function raiseJobAlert(result: JobResult, options?: RaiseAlertOptions): Promise<NotifyOutcome | undefined> {
  const alert = jobAlert(result);
  return alert === undefined ? undefined : raiseAlert(alert, options);
}
