/**
 * A resync of one table's class from its Iceberg table in the warehouse (the CLI's `icebridge weaviate resync` and
 * `POST /api/weaviate/classes/{class}/resync`). Iceberg records no foreign keys, so a class holding cross-references
 * is refused here rather than rewritten without them: resync it with `resyncClass` and the table's references.
 */
import { ValidationError } from '../errors';
import { qualifiedName } from '../fanout/identity';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TransactionLogOptions } from '../state-db/transaction-log';
import { snapshotRows } from './iceberg-rows';
import { type ResyncResult, resyncClass } from './resync';
import type { OpenedWeaviate } from './weaviate-setup';

/** What to resync. */
export interface WarehouseResyncRequest {
  /** The source table, `schema` and `name`; its Iceberg table is `namespace` (default: the schema) and the name. */
  table: { schema: string; name: string };
  namespace?: string;
  /** The snapshot to resync to (default: the current one). */
  snapshotId?: bigint;
  /** When set, the class the table must be (the HTTP route's `{class}`). */
  expectClass?: string;
  dryRun: boolean;
  actor: string;
  reason?: string;
  log?: TransactionLogOptions;
}

/** The result, with the snapshot read. */
export interface WarehouseResyncResult extends ResyncResult {
  snapshotId: string | undefined;
}

/** Resyncs the class of a table to its Iceberg snapshot. */
export async function resyncFromWarehouse(catalog: Catalog, weaviate: OpenedWeaviate, request: WarehouseResyncRequest): Promise<WarehouseResyncResult> {
  const id = { namespace: [request.namespace ?? request.table.schema], name: request.table.name };
  const read = await snapshotRows(catalog, id, request.table, request.snapshotId);
  const plan = weaviate.sink.classPlanOf(read.table);
  if (request.expectClass !== undefined && plan.className !== request.expectClass) {
    throw new ValidationError(`${qualifiedName(read.table)} is Weaviate class ${plan.className}, not ${request.expectClass}`);
  }
  const existing = (await weaviate.connection.classes()).find((c) => c.class === plan.className);
  const references = (existing?.properties ?? []).filter((p) => (p.dataType ?? []).some((t) => /^[A-Z]/.test(t)));
  if (references.length > 0) {
    throw new ValidationError(
      `class ${plan.className} holds cross-references (${references.map((p) => p.name).join(', ')}), which the Iceberg table does not record: a resync from the warehouse would drop them`,
    );
  }
  const result = await resyncClass({
    sink: weaviate.sink,
    connection: weaviate.connection,
    table: read.table,
    rows: read.rows,
    dryRun: request.dryRun,
    actor: request.actor,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(read.snapshotId === undefined ? {} : { correlationId: `snapshot:${read.snapshotId}` }),
    ...(request.log === undefined ? {} : { log: request.log }),
  });
  return { ...result, snapshotId: read.snapshotId?.toString() };
}
