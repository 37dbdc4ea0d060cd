/**
 * Count check: PostgreSQL's exact row count against the snapshot's row count from its manifests (and, when the
 * snapshot has row-level delete files, from those files) and, where the verifier read the data files, the rows
 * actually read.
 */
import type { Client } from 'pg';
import type { FileIO } from '../../iceberg/io/file-io';
import { countScanRows, planScan } from '../../iceberg/scan/table-scan';
import type { Snapshot } from '../../iceberg/spec/snapshot';
import type { TableMetadata } from '../../iceberg/spec/table-metadata';
import { quoteQualified } from '../../postgres/identifiers';
import type { SourceTable } from '../../postgres/source-table';

/**
 * The FROM target the copy reads: ONLY for an ordinary table (rows of inheritance children are theirs), the
 * table itself for a partitioned one (it holds no rows; its leaves are read through it).
 */
export function fromSql(table: SourceTable): string {
  return `${table.kind === 'partitioned' ? '' : 'ONLY '}${quoteQualified(table.schema, table.name)}`;
}

/** Exact source row count, as decimal text. */
export async function sourceRowCount(client: Client, table: SourceTable): Promise<string> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${fromSql(table)}`);
  return rows[0]!.n;
}

/**
 * The snapshot's rows without reading its data (0 for a table without a snapshot): the sum of its live data
 * files' record counts, less the rows its delete files delete. Record counts alone would count deleted rows as
 * live, so position deletes are read and subtracted, and a data file with equality deletes is read and counted.
 */
export async function manifestRowCount(io: FileIO, metadata: TableMetadata, snapshot: Snapshot | undefined): Promise<string> {
  if (!snapshot) return '0';
  // No columns: only the equality-delete columns are read, and only from data files with equality deletes.
  const plan = await planScan(io, metadata, { snapshotId: snapshot['snapshot-id'], columns: [] });
  return (await countScanRows(io, plan)).toString();
}
