/**
 * Every metric, span and attribute name icebridge emits, in one place: dashboards, alerts and queries in
 * Application Insights depend on them, so a rename is a breaking change made here and nowhere else.
 */

/** The instrumentation scope of the meter and the tracer. */
export const TELEMETRY_SCOPE = 'icebridge';

/** Metric names (OpenTelemetry instruments; Application Insights shows them as customMetrics). */
export const MetricNames = {
  rowsCopied: 'icebridge.copy.rows',
  bytesCopied: 'icebridge.copy.bytes',
  partitionDuration: 'icebridge.copy.partition.duration',
  rowsPerSecond: 'icebridge.copy.rows_per_second',
  retries: 'icebridge.activity.retries',
  errors: 'icebridge.errors',
  verificationDifferences: 'icebridge.verify.differences',
  tablesVerified: 'icebridge.verify.tables',
  syncLagBytes: 'icebridge.sync.lag.bytes',
  syncLagSeconds: 'icebridge.sync.lag.seconds',
  changesApplied: 'icebridge.sync.changes',
  flagChanges: 'icebridge.flags.changes',
  rollbacks: 'icebridge.rollbacks',
  jobResults: 'icebridge.jobs.results',
  jobDuration: 'icebridge.jobs.duration',
} as const;

/** Attribute (Application Insights: custom dimension) names. */
export const AttributeNames = {
  activity: 'icebridge.activity',
  instanceId: 'icebridge.instance_id',
  invocationId: 'icebridge.invocation_id',
  runId: 'icebridge.run_id',
  table: 'icebridge.table',
  partition: 'icebridge.partition',
  code: 'icebridge.error.code',
  retryable: 'icebridge.error.retryable',
  difference: 'icebridge.verify.difference',
  status: 'icebridge.status',
  flag: 'icebridge.flag',
  label: 'icebridge.flag.label',
  rollback: 'icebridge.rollback',
  job: 'icebridge.job',
} as const;

/** The name of the span of one activity invocation. */
export function activitySpanName(activity: string): string {
  return `activity ${activity}`;
}
