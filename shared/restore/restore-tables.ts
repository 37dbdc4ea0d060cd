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
import { type RestoreTableRequest, type RestoreTableResult, restoreTable } from './restore-table';
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

/** Restores tables one by one in foreign-key order, stopping at the first that fails or differs. */
export async function restoreTables(env: RunEnvironment, request: RestoreTablesRequest): Promise<RestoreTablesResult> {
  const described = await withSource(env, (client) => describeTables(client, request.schema, request.tables));
  const { order } = orderByForeignKeys(
    described.map((t) => t.name),
    described.flatMap((t) => t.foreignKeys.filter((fk) => fk.referencedTable.schema === t.schema).map((fk) => ({ from: t.name, to: fk.referencedTable.name }))),
  );
  const schema = described[0]?.schema ?? request.schema;
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
