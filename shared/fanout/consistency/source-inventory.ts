/**
 * What PostgreSQL and Iceberg hold of a fanned-out table, as key sets: the source's keys read through the copy's
 * own decoders (so a key's text is the one the feed gives it), the Iceberg table's from its current snapshot.
 * Neither keeps a source position per row.
 */
import type { Client } from 'pg';
import type { Catalog } from '../../iceberg/catalog/catalog';
import { planScan, readScan } from '../../iceberg/scan/table-scan';
import { currentSnapshot } from '../../iceberg/spec/table-metadata';
import { readRows } from '../../postgres/copy-reader';
import { describeTable } from '../../postgres/introspect';
import { withSnapshotTransaction } from '../../postgres/snapshot-transaction';
import { mapTable } from '../../postgres/type-mapping';
import { appliedLsn } from '../../sync/applied-lsn';
import type { FanoutTable, SystemInventory } from '../fanout-types';
import { aggregateId, qualifiedName } from '../identity';

/** The source table's keys, read in one snapshot. */
export async function postgresInventory(client: Client, table: FanoutTable): Promise<SystemInventory> {
  const source = await describeTable(client, table.schema, table.name);
  const keyOnly = new Set(table.key);
  const mapping = mapTable(source, { excludedColumns: source.columns.map((c) => c.name).filter((n) => !keyOnly.has(n)) });
  const order = table.key.map((k) => mapping.columns.findIndex((c) => c.name === k));
  const live = new Map<string, bigint>();
  await withSnapshotTransaction(client, async (tx) => {
    for await (const rows of readRows(tx, source, mapping, { batchSize: 8192 })) for (const row of rows) live.set(aggregateId(order.map((i) => row[i]!)), 0n);
  });
  return { system: 'postgres', table: qualifiedName(table), live, newest: undefined, findings: [], figures: { rows: live.size } };
}

/** The Iceberg table's keys at its current snapshot, with the position the table holds changes up to as `newest`. */
export async function icebergInventory(catalog: Catalog, table: FanoutTable, namespace?: string): Promise<SystemInventory> {
  const { metadata } = await catalog.loadTable({ namespace: [namespace ?? table.schema], name: table.name });
  const live = new Map<string, bigint>();
  const findings: SystemInventory['findings'] = [];
  if (currentSnapshot(metadata) !== undefined) {
    const plan = await planScan(catalog.io, metadata, { columns: [...table.key] });
    for await (const rows of readScan(catalog.io, plan)) {
      for (const row of rows) {
        const id = aggregateId(row);
        if (live.has(id)) findings.push({ key: id, problem: 'the key is held by more than one live row' });
        live.set(id, 0n);
      }
    }
  }
  return { system: 'iceberg', table: qualifiedName(table), live, newest: appliedLsn(metadata), findings, figures: { rows: live.size } };
}
