/**
 * restoreTables: several tables of one schema as of one point, in foreign-key order (referenced tables first, so
 * a restored child finds its parents' rows), each table in a transaction of its own. The first table that fails
 * or differs stops the rest: a later table could reference rows that are not there.
 */
import { errorMessage } from '../errors';
import { displayQualified } from '../postgres/identifiers';
import { describeTables } from '../postgres/introspect';
import { orderByForeignKeys } from '../migrate/table-order';
import { type RunEnvironment, withSource } from '../run/environment';
import { boundedText } from '../text/bounded-text';
import { type RestoreTableRequest, type RestoreTableResult, restoreTable } from './restore-table';
import { type RestoreTableInput, type RestoreTableSummary, asOfFromJson } from './restore-run';
import type { AsOf } from './snapshot-choice';

/** Several tables to restore. */
export interface RestoreTablesRequest {
  schema: string;
  /** Tables of the schema (every table of it when absent). */
  tables?: string[];
  /** Iceberg namespace; default: the schema's name. */
  namespace?: string;
  asOf: AsOf;
  /** `replace` every table, or restore each into `<table><suffix>`. */
  mode: { replace: true } | { intoSuffix: string };
  batchRows?: number;
  now?: () => Date;
}

/** A table that was not restored: why, or that an earlier table stopped the run. */
export interface RestoreTableFailure {
  table: string;
  reason: string;
}

/** What restoreTables did. */
export interface RestoreTablesResult {
  /** The order the tables were taken in. */
  order: string[];
  restored: RestoreTableResult[];
  failed?: RestoreTableFailure;
  /** Tables not attempted because an earlier one failed or differs. */
  notAttempted: string[];
  ok: boolean;
}

/** The tables of `schema` (all, or `tables`), referenced tables first; unknown names are a TableNotFoundError. */
export async function restoreOrder(env: RunEnvironment, schema: string, tables?: string[]): Promise<string[]> {
  const described = await withSource(env, (client) => describeTables(client, schema, tables));
  return orderByForeignKeys(
    described.map((t) => t.name),
    described.flatMap((t) => t.foreignKeys.filter((fk) => fk.referencedTable.schema === t.schema).map((fk) => ({ from: t.name, to: fk.referencedTable.name }))),
  ).order;
}

/** Restores one table and answers its figures (what the restoreTable activity returns). */
export async function restoreTableSummary(env: RunEnvironment, input: RestoreTableInput): Promise<RestoreTableSummary> {
  const result = await restoreTable(env, {
    table: { schema: input.schema, name: input.table },
    target: { namespace: [input.namespace], name: input.table },
    asOf: asOfFromJson(input.asOf),
    mode: input.mode,
    ...(input.batchRows === undefined ? {} : { batchRows: input.batchRows }),
  });
  const v = result.verification;
  return {
    table: result.table,
    restoredInto: result.restoredInto,
    snapshotId: result.snapshotId,
    snapshotTime: result.snapshotTime,
    rows: result.rows,
    transactions: result.transactions,
    ...(result.backupTable === undefined ? {} : { backupTable: result.backupTable }),
    verification: {
      status: v.status,
      ...(v.counts === undefined ? {} : { countsOk: v.counts.ok }),
      ...(v.rows === undefined ? {} : { differingRows: v.rows.differing }),
      ...(v.error === undefined ? {} : { error: boundedText(v.error) }),
    },
    ok: result.ok,
  };
}

/** Restores tables one by one in foreign-key order, stopping at the first that fails or differs. */
export async function restoreTables(env: RunEnvironment, request: RestoreTablesRequest): Promise<RestoreTablesResult> {
  const order = await restoreOrder(env, request.schema, request.tables);
  const schema = request.schema;
  const namespace = request.namespace ?? schema;
  const result: RestoreTablesResult = { order: order.map((n) => displayQualified(schema, n)), restored: [], notAttempted: [], ok: true };
  for (const [i, name] of order.entries()) {
    const one: RestoreTableRequest = {
      table: { schema, name },
      target: { namespace: [namespace], name },
      asOf: request.asOf,
      mode: 'replace' in request.mode ? { replace: true } : { into: `${name}${request.mode.intoSuffix}` },
      ...(request.batchRows === undefined ? {} : { batchRows: request.batchRows }),
      ...(request.now === undefined ? {} : { now: request.now }),
    };
    try {
      const restored = await restoreTable(env, one);
      result.restored.push(restored);
      if (!restored.ok) {
        result.failed = { table: restored.table, reason: `the restored table differs from snapshot ${restored.snapshotId}` };
      }
    } catch (error) {
      result.failed = { table: displayQualified(schema, name), reason: errorMessage(error) };
    }
    if (result.failed) {
      result.notAttempted = order.slice(i + 1).map((n) => displayQualified(schema, n));
      result.ok = false;
      break;
    }
  }
  return result;
}
