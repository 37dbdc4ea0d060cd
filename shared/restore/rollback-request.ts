/** The body of `POST /api/tables/{namespace}/{table}/rollback`, validated. */
import { ValidationError } from '../errors';
import { booleanField, nonEmptyString, object, unknownFields } from '../run/request-fields';
import { type AsOf, parseAsOf } from './snapshot-choice';

/** A validated rollback request. */
export interface RollbackRequest {
  to: AsOf;
  reason: string;
  stopSync: boolean;
}

const FIELDS = new Set(['snapshotId', 'timestamp', 'reason', 'stopSync']);

/**
 * `{snapshotId | timestamp, reason, stopSync?}`: the snapshot id as a decimal string (64 bits do not fit a JSON
 * number exactly), the time as ISO 8601 with a zone.
 */
export function parseRollbackRequest(body: unknown): RollbackRequest {
  const o = object(body, 'the request body');
  unknownFields(o, FIELDS, 'the request body');
  if ((o.snapshotId === undefined) === (o.timestamp === undefined)) throw new ValidationError('give exactly one of snapshotId and timestamp');
  let to: AsOf;
  if (o.snapshotId !== undefined) {
    if (typeof o.snapshotId !== 'string' || !/^-?\d{1,20}$/.test(o.snapshotId)) {
      throw new ValidationError('snapshotId must be the snapshot id as a decimal string (64-bit ids do not fit a JSON number)');
    }
    to = parseAsOf(o.snapshotId);
  } else {
    const text = nonEmptyString(o.timestamp, 'timestamp', 64);
    to = parseAsOf(text);
    if (!('timestampMs' in to)) throw new ValidationError('timestamp must be an ISO 8601 time with a zone, e.g. 2026-12-01T10:00:00Z');
  }
  return { to, reason: nonEmptyString(o.reason, 'reason', 2000), stopSync: o.stopSync === undefined ? false : booleanField(o.stopSync, 'stopSync') };
}
