/**
 * The rows of an Iceberg table at a snapshot as fan-out changes (inserts, `origin: 'load'`), for a resync: the
 * fan-out table comes from the Iceberg schema (its key from the identifier fields), and the position from the
 * snapshot's change-capture LSN (`icebridge.cdc.lsn`; 0/0 when it has none).
 */
import { CDC_LSN_PROPERTY, parseLsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { FanoutChange, FanoutReference, FanoutTable } from '../fanout/fanout-types';
import { entityName } from '../fanout/identity';
import type { Catalog } from '../iceberg/catalog/catalog';
import { type TableIdentifier, formatIdentifier } from '../iceberg/catalog/table-identifier';
import { planScan, readScan, selectSnapshot } from '../iceberg/scan/table-scan';
import type { Schema } from '../iceberg/spec/schema';

/** The fan-out table an Iceberg schema describes; `references` are the caller's (Iceberg records none). */
export function fanoutTableFromSchema(schema: Schema, source: { schema: string; name: string }, references: FanoutReference[] = []): FanoutTable {
  const ids = schema['identifier-field-ids'] ?? [];
  if (ids.length === 0)
    throw new ValidationError(`${source.schema}.${source.name} has no key in its Iceberg schema (identifier fields): its objects cannot be named`);
  return {
    schema: source.schema,
    name: source.name,
    entity: entityName(source.name),
    columns: schema.fields.map((f) => ({ name: f.name, type: f.type, nullable: !f.required, sourceType: typeof f.type === 'string' ? f.type : f.type.type })),
    key: ids.map((id) => schema.fields.find((f) => f.id === id)!.name),
    references,
  };
}

/** What `snapshotRows` read. */
export interface SnapshotRows {
  table: FanoutTable;
  snapshotId: bigint | undefined;
  rows: AsyncIterable<FanoutChange>;
}

/** The rows of `id` at `snapshotId` (default: the current snapshot). */
export async function snapshotRows(
  catalog: Catalog,
  id: TableIdentifier,
  source: { schema: string; name: string },
  snapshotId?: bigint,
): Promise<SnapshotRows> {
  const { metadata } = await catalog.loadTable(id);
  const snapshot = selectSnapshot(metadata, snapshotId === undefined ? {} : { snapshotId });
  if (snapshotId !== undefined && snapshot === undefined) throw new ValidationError(`${formatIdentifier(id)} has no snapshot ${snapshotId}`);
  const plan = await planScan(catalog.io, metadata, snapshotId === undefined ? {} : { snapshotId });
  const table = fanoutTableFromSchema(plan.schema, source);
  const lsn = snapshot?.summary[CDC_LSN_PROPERTY];
  const position = lsn === undefined ? 0n : parseLsn(lsn);
  const keyIndexes = table.key.map((k) => table.columns.findIndex((c) => c.name === k));
  const committedAt = snapshot?.['timestamp-ms'] ?? 0;
  async function* rows(): AsyncGenerator<FanoutChange> {
    for await (const batch of readScan(catalog.io, plan)) {
      for (const row of batch) {
        yield { table, op: 'insert', key: keyIndexes.map((i) => row[i] ?? null), row, position, index: 0, committedAt, origin: 'load' };
      }
    }
  }
  return { table, snapshotId: snapshot?.['snapshot-id'], rows: rows() };
}
