/**
 * icebridge's metrics, recorded through the OpenTelemetry API only. With no SDK installed (the default locally)
 * the global meter provider is the API's no-op and each record is an empty call; the Functions app installs Azure
 * Monitor or OTLP at start-up (functions/telemetry-setup.ts). Instruments are made from whichever provider is
 * global when first used, and made again if it changes, because the API's no-op instruments never start recording.
 */
import { type Attributes, type Counter, type Gauge, type Histogram, type MeterProvider, metrics } from '@opentelemetry/api';
import type { JobResult } from '../run/job-results';
import type { TableVerification } from '../verify/contracts';
import { AttributeNames as A, MetricNames as M, TELEMETRY_SCOPE } from './names';

interface Instruments {
  rowsCopied: Counter;
  bytesCopied: Counter;
  partitionDuration: Histogram;
  rowsPerSecond: Histogram;
  retries: Counter;
  errors: Counter;
  differences: Counter;
  tablesVerified: Counter;
  lagBytes: Gauge;
  lagSeconds: Gauge;
  changesApplied: Counter;
  flagChanges: Counter;
  rollbacks: Counter;
  jobResults: Counter;
  jobDuration: Histogram;
}

let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const meter = provider.getMeter(TELEMETRY_SCOPE);
  const made: Instruments = {
    rowsCopied: meter.createCounter(M.rowsCopied, { unit: '{row}', description: 'Rows copied into Iceberg data files' }),
    bytesCopied: meter.createCounter(M.bytesCopied, { unit: 'By', description: 'Bytes of Parquet data files written by the copy' }),
    partitionDuration: meter.createHistogram(M.partitionDuration, { unit: 's', description: 'Time to copy one partition' }),
    rowsPerSecond: meter.createHistogram(M.rowsPerSecond, { unit: '{row}/s', description: 'Copy throughput of one partition' }),
    retries: meter.createCounter(M.retries, { description: 'Activity failures that the retry policy tries again' }),
    errors: meter.createCounter(M.errors, { description: 'Activity failures by error code' }),
    differences: meter.createCounter(M.verificationDifferences, { description: 'Differences found by verification, by kind' }),
    tablesVerified: meter.createCounter(M.tablesVerified, { description: 'Tables verified, by status' }),
    lagBytes: meter.createGauge(M.syncLagBytes, { unit: 'By', description: 'WAL not yet confirmed by the sync' }),
    lagSeconds: meter.createGauge(M.syncLagSeconds, { unit: 's', description: 'Age of the last source commit the sync has seen' }),
    changesApplied: meter.createCounter(M.changesApplied, { unit: '{change}', description: 'Row changes applied to Iceberg by the sync' }),
    flagChanges: meter.createCounter(M.flagChanges, { description: 'Cutover flags changed' }),
    rollbacks: meter.createCounter(M.rollbacks, { description: 'Emergency rollbacks to PostgreSQL and table snapshot rollbacks' }),
    jobResults: meter.createCounter(M.jobResults, { description: 'Scheduled job runs, by job and status' }),
    jobDuration: meter.createHistogram(M.jobDuration, { unit: 's', description: 'Duration of a scheduled job run' }),
  };
  cached = { provider, instruments: made };
  return made;
}

/** What one partition copy produced, as the copyPartition activity knows it. */
export interface PartitionCopyFigures {
  table: string;
  rows: number;
  bytes: number;
  durationMs: number;
}

/** Records a partition copied: rows, bytes, its duration and its throughput. */
export function recordPartitionCopied(figures: PartitionCopyFigures): void {
  const m = instruments();
  const attributes = { [A.table]: figures.table };
  m.rowsCopied.add(figures.rows, attributes);
  m.bytesCopied.add(figures.bytes, attributes);
  m.partitionDuration.record(figures.durationMs / 1000, attributes);
  if (figures.durationMs > 0) m.rowsPerSecond.record((figures.rows * 1000) / figures.durationMs, attributes);
}

/** One failed activity invocation: `retryable` ones are thrown, so the orchestration's retry policy runs them again. */
export interface ActivityFailure {
  activity: string;
  code: string;
  retryable: boolean;
}

/** Records an activity failure by code, and as a retry when it is one the retry policy tries again. */
export function recordActivityFailure(failure: ActivityFailure): void {
  const m = instruments();
  const attributes = { [A.activity]: failure.activity, [A.code]: failure.code, [A.retryable]: failure.retryable };
  m.errors.add(1, attributes);
  if (failure.retryable) m.retries.add(1, { [A.activity]: failure.activity, [A.code]: failure.code });
}

/** How many differences each kind of check of a table's verification found. */
export function verificationDifferences(verification: TableVerification): Record<'schema' | 'count' | 'aggregate' | 'rows', number> {
  return {
    schema: verification.schema.length,
    count: verification.counts !== undefined && !verification.counts.ok ? 1 : 0,
    aggregate: verification.aggregates.filter((a) => !a.ok).length,
    rows: Number(verification.rows?.differing ?? 0),
  };
}

/** Records a table's finished verification: its status and every difference it found, by kind. */
export function recordVerification(verification: TableVerification): void {
  const m = instruments();
  m.tablesVerified.add(1, { [A.table]: verification.table, [A.status]: verification.status });
  for (const [kind, count] of Object.entries(verificationDifferences(verification))) {
    if (count > 0) m.differences.add(count, { [A.table]: verification.table, [A.difference]: kind });
  }
}

/** Records row changes the sync applied to one table. */
export function recordChangesApplied(table: string, changes: number): void {
  if (changes > 0) instruments().changesApplied.add(changes, { [A.table]: table });
}

/** Records the sync's lag as last measured; an unknown figure is left out rather than reported as zero. */
export function recordSyncLag(lag: { lagBytes: number | undefined; lagSeconds: number | undefined }): void {
  const m = instruments();
  if (lag.lagBytes !== undefined) m.lagBytes.record(lag.lagBytes);
  if (lag.lagSeconds !== undefined) m.lagSeconds.record(lag.lagSeconds);
}

/** Records a flag whose stored document changed (a flip, a new percentage, a new flag). */
export function recordFlagChange(flag: string, label: string | undefined): void {
  const attributes: Attributes = { [A.flag]: flag };
  if (label !== undefined) attributes[A.label] = label;
  instruments().flagChanges.add(1, attributes);
}

/** Records a rollback: `postgres` for the emergency rollback of every flag, `table` for a table's snapshot rollback. */
export function recordRollback(kind: 'postgres' | 'table', table?: string): void {
  const attributes: Attributes = { [A.rollback]: kind };
  if (table !== undefined) attributes[A.table] = table;
  instruments().rollbacks.add(1, attributes);
}

/** Records one scheduled job run: a count by job and status, and its duration when its times are readable. */
export function recordJobResult(result: JobResult): void {
  const m = instruments();
  m.jobResults.add(1, { [A.job]: result.job, [A.status]: result.status });
  const seconds = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) m.jobDuration.record(seconds, { [A.job]: result.job, [A.status]: result.status });
}
