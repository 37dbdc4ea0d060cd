/** The body of `POST /api/clickhouse/tables/{table}/restore`, validated. */
import { ValidationError } from '../errors';
import { booleanField, nonEmptyString, object, unknownFields } from '../run/request-fields';

/** A validated ClickHouse partition restore request. */
export interface ClickHouseRestoreRequest {
  partitions: string[];
  dryRun: boolean;
  reason: string;
}

const FIELDS = new Set(['partitions', 'dryRun', 'reason']);
const MAX_PARTITIONS = 1_200;

/** `{partitions: ["YYYYMM", …], reason, dryRun?}`: months to put back from the table's backup. */
export function parseClickHouseRestoreRequest(body: unknown): ClickHouseRestoreRequest {
  const o = object(body, 'the request body');
  unknownFields(o, FIELDS, 'the request body');
  if (!Array.isArray(o.partitions) || o.partitions.length === 0 || o.partitions.length > MAX_PARTITIONS) {
    throw new ValidationError(`partitions must be a list of 1 to ${MAX_PARTITIONS} months, "YYYYMM"`);
  }
  const partitions = o.partitions.map((p: unknown) => {
    if (typeof p !== 'string' || !/^\d{6}$/.test(p)) throw new ValidationError('each partition is a month as a string, "YYYYMM"');
    return p;
  });
  return { partitions, reason: nonEmptyString(o.reason, 'reason', 2000), dryRun: o.dryRun === undefined ? false : booleanField(o.dryRun, 'dryRun') };
}
