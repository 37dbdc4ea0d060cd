/** What an alert is: a condition found about a subject, once per incident (condition + subject + slot). */

/** The conditions icebridge alerts on. */
export type AlertCondition =
  'migration-stalled' | 'error-rate' | 'low-throughput' | 'sync-lag' | 'drift-found' | 'consistency-difference' | 'job-failed' | 'emergency-rollback';

/** One alert, ready to send. */
export interface Alert {
  condition: AlertCondition;
  severity: 'warning' | 'critical';
  /** What it is about: a run id, a sync, a job, `flags`. */
  subject: string;
  /**
   * Which occurrence: the same condition on the same subject in the same slot is one incident, sent once (a run
   * id, a job's schedule slot, the hour a lag was seen in, the time of a rollback).
   */
  slot: string;
  /** One line for people. */
  title: string;
  /** A few lines for people: what was seen, against which threshold, what to look at. */
  text: string;
  /** The figures behind it, by name. */
  facts: Array<{ name: string; value: string }>;
}

/** The key that makes an incident: `condition:subject:slot`. */
export function incidentKey(alert: Pick<Alert, 'condition' | 'subject' | 'slot'>): string {
  return `${alert.condition}:${alert.subject}:${alert.slot}`;
}
