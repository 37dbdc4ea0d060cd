/**
 * countRows: the committed snapshot's row count (from its manifests) next to the source's count in the snapshot
 * the copy read, when it had one: then the two must be equal. Without one (the source refused to share a
 * snapshot) the source is counted now, and a difference is the run's to report.
 */
import { ValidationError } from '../errors';
import { snapshotById } from '../iceberg/spec/table-metadata';
import { liveEntries } from '../iceberg/transaction/manifest-files';
import { quoteQualified } from '../postgres/identifiers';
import type { Client } from 'pg';
import { isSnapshotGone, localHolder, lockWithoutWaiting } from '../postgres/snapshot-holder';
import { withSnapshotTransaction } from '../postgres/snapshot-transaction';
import { describeTable } from '../postgres/introspect';
import type { CountRowsInput, CountRowsResult } from './contracts';
import { type RunEnvironment, withSource } from '../run/environment';

/** Counts rows on both sides. */
export async function countRows(env: RunEnvironment, input: CountRowsInput): Promise<CountRowsResult> {
  const table = await env.catalog.loadTable({ namespace: input.table.target.namespace, name: input.table.target.name });
  const snapshot = snapshotById(table.metadata, BigInt(input.snapshotId));
  if (!snapshot) throw new ValidationError(`snapshot ${input.snapshotId} is not in the table any more`);
  const targetRows = (await liveEntries(env.catalog.io, snapshot)).reduce((n, e) => n + Number(e.entry.dataFile.recordCount), 0);
  const snapshotId = input.table.sourceSnapshot?.id;
  const count = async (client: Client, lock: boolean): Promise<number> => {
    // As the copy does: describing takes the table's lock, which must not queue behind DDL waiting on the run.
    if (lock) await lockWithoutWaiting(client, input.table.source);
    // Resolved against pg_catalog first: the name reaches SQL only as the catalog spells it, quoted.
    const source = await describeTable(client, input.table.source.schema, input.table.source.name);
    // ONLY, as the copy reads it: rows of inheritance children are theirs (migrated as tables of their own). A
    // partitioned table holds no rows itself; its leaves are counted through it.
    const only = source.kind === 'partitioned' ? '' : 'ONLY ';
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${only}${quoteQualified(source.schema, source.name)}`);
    return Number(rows[0]!.n);
  };
  // The holder, when it lives in this process, already holds the table's lock and is the snapshot itself.
  const holder = snapshotId === undefined ? undefined : localHolder(snapshotId);
  const countIn = (id: string | undefined): Promise<number> =>
    withSource(env, (client) => withSnapshotTransaction(client, () => count(client, true), id !== undefined ? { snapshotId: id } : {}));
  try {
    return {
      targetRows,
      sourceRows: await (holder ? holder.read((client) => count(client, false)) : countIn(snapshotId)),
      inSnapshot: snapshotId !== undefined,
    };
  } catch (error) {
    if (!isSnapshotGone(error)) throw error;
    // The copy is whole and was read in one snapshot; only its check cannot be made there any more (the holder
    // ended after the commit). The source now is the weaker check, reported as such; the table is not copied again.
    return { targetRows, sourceRows: await countIn(undefined), inSnapshot: false };
  }
}
