/**
 * A restore as a Durable run: the request `POST /api/restores` takes, the payloads between the restoreDatabase
 * orchestration and its activities (figures and names only: no rows, no bigint), and its custom status. Pure.
 */
import { ValidationError } from '../errors';
import { IDEMPOTENCY_KEY_PATTERN, identifier, identifierList, integer, object, unknownFields } from '../run/request-fields';
import { type AsOf, parseAsOf } from './snapshot-choice';

/** A point in time as JSON: a snapshot id as a decimal string, or milliseconds since 1970. */
export type AsOfJson = { snapshotId: string } | { timestampMs: number };

/** Where the rows go, as JSON. */
export type RestoreModeJson = { replace: true } | { into: string } | { intoSuffix: string };

/** Input of the restoreDatabase orchestration. The source connection comes from settings, never from here. */
export interface RestoreDatabaseInput {
  restoreId: string;
  schema: string;
  namespace: string;
  /** Tables of the schema; every table of it when absent. */
  tables?: string[];
  asOf: AsOfJson;
  mode: RestoreModeJson;
  batchRows?: number;
}

/** Input of the restoreTable activity. */
export interface RestoreTableInput {
  schema: string;
  namespace: string;
  table: string;
  asOf: AsOfJson;
  mode: { replace: true } | { into: string };
  batchRows?: number;
}

/** What the restoreTable activity answers: one table's restore in figures. */
export interface RestoreTableSummary {
  table: string;
  restoredInto: string;
  snapshotId: string;
  snapshotTime: string;
  rows: string;
  transactions: number;
  backupTable?: string;
  /** The full verification's outcome: status, and when it differs, how. */
  verification: { status: 'ok' | 'differs' | 'error'; countsOk?: boolean; differingRows?: string; error?: string };
  ok: boolean;
}

/** Output of restoreDatabase. */
export interface RestoreOutcome {
  order: string[];
  restored: RestoreTableSummary[];
  failed?: { table: string; reason: string };
  notAttempted: string[];
  ok: boolean;
}

/** Custom status of restoreDatabase. */
export interface RestoreProgress {
  phase: 'planning' | 'restoring' | 'done';
  tables: { total: number; done: number };
  /** The table being restored. */
  current?: string;
  lastError?: string;
}

const FIELDS = new Set(['idempotencyKey', 'schema', 'namespace', 'table', 'tables', 'asOf', 'into', 'intoSuffix', 'replace', 'batchRows']);

/** Validates a `POST /api/restores` body into the orchestration's input (`restoreId` from `newId` without a key). */
export function parseRestoreRequest(body: unknown, newId: () => string): RestoreDatabaseInput {
  const o = object(body, 'the request body');
  unknownFields(o, FIELDS, 'the request body');
  if (o.idempotencyKey !== undefined && (typeof o.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(o.idempotencyKey))) {
    throw new ValidationError('idempotencyKey must be 1-64 letters, digits, "-" or "_"');
  }
  const schema = o.schema === undefined ? 'public' : identifier(o.schema, 'schema');
  if ((o.table === undefined) === (o.tables === undefined)) throw new ValidationError('give exactly one of table and tables');
  const tables = o.table !== undefined ? [identifier(o.table, 'table')] : o.tables === '*' ? undefined : identifierList(o.tables, 'tables');
  if (typeof o.asOf !== 'string') throw new ValidationError('asOf must be a snapshot id (a decimal string) or an ISO 8601 time with a zone');
  const asOf = asOfJson(parseAsOf(o.asOf));
  const targets = ['into', 'intoSuffix', 'replace'].filter((f) => o[f] !== undefined);
  if (targets.length !== 1) throw new ValidationError('give exactly one of into, intoSuffix and replace');
  let mode: RestoreModeJson;
  if (o.replace !== undefined) {
    if (o.replace !== true) throw new ValidationError('replace must be true');
    mode = { replace: true };
  } else if (o.into !== undefined) {
    if (o.table === undefined) throw new ValidationError('into names one table: with tables, use intoSuffix');
    mode = { into: identifier(o.into, 'into') };
  } else {
    if (typeof o.intoSuffix !== 'string' || o.intoSuffix.length === 0 || o.intoSuffix.length > 30)
      throw new ValidationError('intoSuffix must be 1-30 characters');
    mode = { intoSuffix: o.intoSuffix };
  }
  if (o.batchRows !== undefined && 'replace' in mode) throw new ValidationError('batchRows goes with into or intoSuffix: replace is always one transaction');
  return {
    restoreId: typeof o.idempotencyKey === 'string' ? o.idempotencyKey : newId(),
    schema,
    namespace: o.namespace === undefined ? schema : identifier(o.namespace, 'namespace'),
    ...(tables === undefined ? {} : { tables }),
    asOf,
    mode,
    ...(o.batchRows === undefined ? {} : { batchRows: integer(o.batchRows, 'batchRows', 1, 1_000_000_000) }),
  };
}

/** An AsOf as JSON (no bigint in history). */
export function asOfJson(asOf: AsOf): AsOfJson {
  return 'snapshotId' in asOf ? { snapshotId: asOf.snapshotId.toString() } : { timestampMs: asOf.timestampMs };
}

/** An AsOf from its JSON form. */
export function asOfFromJson(asOf: AsOfJson): AsOf {
  return 'snapshotId' in asOf ? { snapshotId: BigInt(asOf.snapshotId) } : { timestampMs: asOf.timestampMs };
}

/** The one table's mode of a run's mode. */
export function tableMode(mode: RestoreModeJson, table: string): RestoreTableInput['mode'] {
  if ('replace' in mode) return { replace: true };
  if ('into' in mode) return { into: mode.into };
  return { into: `${table}${mode.intoSuffix}` };
}
