/**
 * countRows: the committed snapshot's row count (from its manifests) next to the source's count now. The copy
 * read each partition at its own moment, so on a source taking writes the two may differ; the orchestration
 * compares the snapshot with the rows copied, and reports the source count for people.
 */
import { ValidationError } from '../errors';
import { snapshotById } from '../iceberg/spec/table-metadata';
import { liveEntries } from '../iceberg/transaction/manifest-files';
import { quoteQualified } from '../postgres/identifiers';
import { describeTable } from '../postgres/introspect';
import type { CountRowsInput, CountRowsResult } from './contracts';
import { type RunEnvironment, withSource } from '../run/environment';

/** Counts rows on both sides. */
export async function countRows(env: RunEnvironment, input: CountRowsInput): Promise<CountRowsResult> {
  const table = await env.catalog.loadTable({ namespace: input.table.target.namespace, name: input.table.target.name });
  const snapshot = snapshotById(table.metadata, BigInt(input.snapshotId));
  if (!snapshot) throw new ValidationError(`snapshot ${input.snapshotId} is not in the table any more`);
  const targetRows = (await liveEntries(env.catalog.io, snapshot)).reduce((n, e) => n + Number(e.entry.dataFile.recordCount), 0);
  const sourceRows = await withSource(env, async (client) => {
    // Resolved against pg_catalog first: the name reaches SQL only as the catalog spells it, quoted.
    const source = await describeTable(client, input.table.source.schema, input.table.source.name);
    // ONLY, as the copy reads it: rows of inheritance children are theirs (migrated as tables of their own). A
    // partitioned table holds no rows itself; its leaves are counted through it.
    const only = source.kind === 'partitioned' ? '' : 'ONLY ';
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${only}${quoteQualified(source.schema, source.name)}`);
    return Number(rows[0]!.n);
  });
  return { targetRows, sourceRows };
}
