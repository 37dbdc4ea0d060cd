/**
 * Which snapshot a restore or a rollback goes back to: one named by id, or the one that was the table's state at a
 * time. "At a time" follows the ancestry of the current snapshot (not the snapshot log, which also holds states a
 * rollback has since undone): the newest ancestor committed at or before that time.
 */
import { ValidationError } from '../errors';
import type { Snapshot } from '../iceberg/spec/snapshot';
import { type TableMetadata, ancestorsOf, snapshotById } from '../iceberg/spec/table-metadata';

/** A point in a table's history: a snapshot id, or a time in milliseconds since 1970. */
export type AsOf = { snapshotId: bigint } | { timestampMs: number };

/** The snapshot `asOf` names in the table `name`; a ValidationError that says what is available when there is none. */
export function chooseSnapshot(metadata: TableMetadata, asOf: AsOf, name: string): Snapshot {
  if ('snapshotId' in asOf) {
    const snapshot = snapshotById(metadata, asOf.snapshotId);
    if (snapshot === undefined) throw new ValidationError(`${name} has no snapshot ${asOf.snapshotId}; ${available(metadata)}`);
    return snapshot;
  }
  if (!Number.isFinite(asOf.timestampMs)) throw new ValidationError(`not a time: ${asOf.timestampMs}`);
  const ancestors = ancestorsOf(metadata, metadata['current-snapshot-id']);
  const found = ancestors.find((s) => s['timestamp-ms'] <= asOf.timestampMs);
  if (found !== undefined) return found;
  if (ancestors.length === 0) throw new ValidationError(`${name} has no snapshot yet`);
  const earliest = ancestors[ancestors.length - 1]!;
  throw new ValidationError(
    `${name} has no snapshot as of ${new Date(asOf.timestampMs).toISOString()}: the earliest available is ${earliest['snapshot-id']} of ${new Date(earliest['timestamp-ms']).toISOString()}`,
  );
}

/** Parses `--as-of`/`--to`: a snapshot id (digits, possibly negative) or an ISO 8601 time with a zone or `Z`. */
export function parseAsOf(text: string): AsOf {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) {
    const id = BigInt(trimmed);
    if (id < -(2n ** 63n) || id >= 2n ** 63n) throw new ValidationError(`snapshot id out of range: ${trimmed}`);
    return { snapshotId: id };
  }
  // A time without a zone would be read in the process's zone: ambiguous, so refused.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && !/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    throw new ValidationError(`expected a snapshot id or an ISO 8601 time with a zone (2026-12-01T10:00:00Z), got ${JSON.stringify(trimmed.slice(0, 60))}`);
  }
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(ms)) throw new ValidationError(`not a valid time: ${JSON.stringify(trimmed.slice(0, 60))}`);
  return { timestampMs: ms };
}

/** `asOf` as people read it. */
export function describeAsOf(asOf: AsOf): string {
  return 'snapshotId' in asOf ? `snapshot ${asOf.snapshotId}` : new Date(asOf.timestampMs).toISOString();
}

function available(metadata: TableMetadata): string {
  const ancestors = ancestorsOf(metadata, metadata['current-snapshot-id']);
  if (ancestors.length === 0) return 'it has none';
  const shown = ancestors.slice(0, 5).map((s) => `${s['snapshot-id']} (${new Date(s['timestamp-ms']).toISOString()})`);
  return `the current one and its ancestors, newest first: ${shown.join(', ')}${ancestors.length > 5 ? `, … ${ancestors.length - 5} more` : ''}`;
}
