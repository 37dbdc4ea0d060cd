/**
 * Count check: PostgreSQL's exact row count against the snapshot's manifest record counts and, where the
 * verifier read the data files, the rows actually read.
 */
import type { Client } from 'pg';
import type { FileIO } from '../../iceberg/io/file-io';
import type { Snapshot } from '../../iceberg/spec/snapshot';
import { liveEntries } from '../../iceberg/transaction/manifest-files';
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

/** Sum of the record counts of the snapshot's live data files (0 for a table without a snapshot). */
export async function manifestRowCount(io: FileIO, snapshot: Snapshot | undefined): Promise<string> {
  let total = 0n;
  for (const { entry } of await liveEntries(io, snapshot)) total += BigInt(entry.dataFile.recordCount);
  return total.toString();
}
