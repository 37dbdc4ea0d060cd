/**
 * verifyTable: proves one migrated table exact against its live PostgreSQL source. Every PostgreSQL figure is
 * read inside one REPEATABLE READ READ ONLY transaction (one snapshot for schema, counts, aggregates, samples
 * and row hashes); the Iceberg side is the table's current snapshot, streamed once by our reader.
 */
import type { Client } from 'pg';
import { ValidationError, errorMessage } from '../errors';
import { formatIdentifier, type TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { FileIO } from '../iceberg/io/file-io';
import { type TableMetadata, currentSchema, currentSnapshot } from '../iceberg/spec/table-metadata';
import { type MigrationEnvironment, withSource } from '../migrate/environment';
import { displayQualified } from '../postgres/identifiers';
import { describeTable } from '../postgres/introspect';
import { withSnapshotTransaction } from '../postgres/snapshot-transaction';
import { mapTable } from '../postgres/type-mapping';
import { TargetAggregates, compareAggregates, groupedColumns, sourceAggregates } from './aggregate-check';
import { CANONICAL_SESSION_SETTINGS } from './canonical';
import { type ComparedColumn, comparedColumns } from './compared-columns';
import type { TableVerification, VerificationReport, VerifyLevel } from './contracts';
import { countCheck, fromSql, manifestRowCount, sourceRowCount } from './count-check';
import { type RowLayout, TargetBuckets, bucketCount, bucketOfRow, differingBuckets, examineBuckets, keyTextOf, sourceBuckets } from './row-check';
import { SampleSet } from './samples';
import { compareSchemas } from './schema-check';
import { scanTarget } from './target-scan';

/** One table to verify. */
export interface VerifyTableRequest {
  source: { schema: string; name: string };
  target: TableIdentifier;
  /** Columns identifying a row; defaults to the primary key (or unique index); none: compared as a multiset. */
  key?: string[];
  /** Columns the migration left out. */
  excludeColumns?: string[];
}

/** Options of verifyTable and verifyTables. */
export interface VerifyTableOptions {
  level: VerifyLevel;
  /** Differing rows listed per table (all are counted); default 20. */
  maxDifferences?: number;
  /** Random rows shown side by side; default 5. */
  samples?: number;
}

/** Several tables of one source and one warehouse. */
export interface VerifyTablesRequest {
  /** The source as shown in the report (a redacted URL: never a password). */
  source: string;
  /** The warehouse as shown in the report. */
  warehouse: string;
  tables: VerifyTableRequest[];
}

/** Verifies one table; a failure to verify is reported as status 'error', not thrown. */
export async function verifyTable(env: MigrationEnvironment, request: VerifyTableRequest, options: VerifyTableOptions): Promise<TableVerification> {
  const startedMs = Date.now();
  const base: TableVerification = {
    table: displayQualified(request.source.schema, request.source.name),
    target: formatIdentifier(request.target),
    level: options.level,
    status: 'ok',
    schema: [],
    aggregates: [],
    samples: [],
    durationMs: 0,
  };
  try {
    const table = await env.catalog.loadTable(request.target);
    const result = await withSource(env, async (client) => {
      await applyCanonicalSession(client);
      return withSnapshotTransaction(client, () => verifyInSnapshot(client, env.catalog.io, table.metadata, request, options, base));
    });
    return { ...result, durationMs: Date.now() - startedMs };
  } catch (error) {
    return { ...base, status: 'error', error: errorMessage(error), durationMs: Date.now() - startedMs };
  }
}

/** Verifies tables one after the other. */
export async function verifyTables(env: MigrationEnvironment, request: VerifyTablesRequest, options: VerifyTableOptions): Promise<VerificationReport> {
  const startedAt = new Date().toISOString();
  const tables: TableVerification[] = [];
  for (const table of request.tables) tables.push(await verifyTable(env, table, options));
  return { level: options.level, source: request.source, warehouse: request.warehouse, startedAt, tables, ok: tables.every((t) => t.status === 'ok') };
}

async function applyCanonicalSession(client: Client): Promise<void> {
  // Session-wide: the settings under which PostgreSQL's text output is what the copy stored, and a search path
  // that no user schema can shadow the functions of the canonical SQL through.
  const settings = [...CANONICAL_SESSION_SETTINGS, ['search_path', 'pg_catalog'] as const];
  await client.query(
    'SELECT count(pg_catalog.set_config(s.name, s.value, false)) FROM unnest($1::text[], $2::text[]) AS s(name, value)',
    [settings.map((s) => s[0]), settings.map((s) => s[1])],
  );
}

async function verifyInSnapshot(
  client: Client,
  io: FileIO,
  metadata: TableMetadata,
  request: VerifyTableRequest,
  options: VerifyTableOptions,
  base: TableVerification,
): Promise<TableVerification> {
  const full = options.level === 'full';
  const maxDifferences = options.maxDifferences ?? 20;
  const source = await describeTable(client, request.source.schema, request.source.name);
  const mapping = mapTable(source, request.excludeColumns ? { excludedColumns: request.excludeColumns } : {});
  const actual = currentSchema(metadata);
  const schema = compareSchemas(mapping.schema, actual, source);
  const columns = comparedColumns(mapping, actual);
  const layout: RowLayout = { columns, keyIndexes: keyIndexes(request, source.key.kind === 'none' ? [] : source.key.columns, columns) };
  const from = fromSql(source);
  const snapshot = currentSnapshot(metadata);

  const samples = await SampleSet.pick(client, layout, from, options.samples ?? 5);
  const manifestCount = await manifestRowCount(io, snapshot);
  const sourceCount = await sourceRowCount(client, source);
  // Both sides must use the same bucket count; sized by the larger side so no bucket fetched whole is big.
  const larger = BigInt(manifestCount) > BigInt(sourceCount) ? BigInt(manifestCount) : BigInt(sourceCount);
  const buckets = full ? bucketCount(larger) : 0;

  // PostgreSQL works on its side while this process streams the data files: one pass feeds the rows-read
  // count, aggregates, samples and (full) the row buckets. Every string column's groups are tracked (up to a small
  // limit) and only those PostgreSQL finds low-cardinality are compared.
  const sourceSide = (async () => {
    const figures = await sourceAggregates(client, source, columns);
    const bucketFigures = full ? await sourceBuckets(client, layout, from, buckets) : undefined;
    return { figures, bucketFigures };
  })();
  const targetAggregates = new TargetAggregates(columns, new Set(columns.filter((c) => c.type === 'string').map((c) => c.name)));
  const targetBuckets = full ? new TargetBuckets(buckets) : undefined;
  const keyless = layout.keyIndexes.length === 0;
  let read = 0n;
  const snapshotId = snapshot?.['snapshot-id'];
  const targetSide = scanTarget(io, metadata, columns, { snapshotId, withRowText: full || keyless }, (values, canonical, rowText) => {
    read++;
    targetAggregates.add(values, canonical);
    samples.offer(canonical, rowText);
    targetBuckets?.add(bucketOfRow(layout, keyTextOf(layout, canonical, rowText), canonical, buckets), rowText);
  });
  const [settledSource, settledTarget] = await Promise.allSettled([sourceSide, targetSide]);
  if (settledSource.status === 'rejected') throw settledSource.reason;
  if (settledTarget.status === 'rejected') throw settledTarget.reason;
  const { figures: sourceFigures, bucketFigures: sourceBucketFigures } = settledSource.value;

  const result: TableVerification = {
    ...base,
    schema,
    counts: countCheck(sourceCount, manifestCount, read.toString()),
    aggregates: compareAggregates(sourceFigures, targetAggregates.figures(groupedColumns(sourceFigures))),
  };
  if (sourceBucketFigures !== undefined && targetBuckets !== undefined) {
    const differing = differingBuckets(sourceBucketFigures, targetBuckets.figures);
    const examined = differing.length === 0
      ? { differing: 0, differences: [], bucketsNotExamined: 0 }
      : await examineBuckets(client, layout, from, buckets, differing, sourceBucketFigures, targetBuckets.figures,
        (visit) => scanTarget(io, metadata, columns, { snapshotId, withRowText: true }, (_values, canonical, rowText) => visit(canonical, rowText)), maxDifferences);
    result.rows = { compared: sourceCount, differing: String(examined.differing), differences: examined.differences };
    if (examined.bucketsNotExamined > 0) result.rows.rangesNotExamined = String(examined.bucketsNotExamined);
    if (differing.length > 0 && examined.differing === 0 && examined.bucketsNotExamined === 0) {
      // Ranges differed but none of their rows did: not expected within one snapshot, so reported, never hidden.
      result.rows.rangesNotExamined = String(differing.length);
    }
  }
  result.samples = samples.rows();
  const differs = schema.length > 0 || !result.counts!.ok || result.aggregates.some((a) => !a.ok)
    || (result.rows !== undefined && (result.rows.differing !== '0' || result.rows.rangesNotExamined !== undefined));
  result.status = differs ? 'differs' : 'ok';
  return result;
}

/** Positions of the key columns among the compared columns; an empty list makes the table a multiset. */
function keyIndexes(request: VerifyTableRequest, tableKey: readonly string[], columns: readonly ComparedColumn[]): number[] {
  const names = request.key ?? tableKey;
  const indexes = names.map((name) => columns.findIndex((c) => c.name === name));
  if (indexes.every((i) => i >= 0)) return indexes;
  if (request.key !== undefined) {
    const missing = names.filter((_n, i) => indexes[i]! < 0);
    throw new ValidationError(`key column(s) ${missing.join(', ')} are not columns both sides hold with the same type`);
  }
  // The table's own key has a column the Iceberg side lacks: compare as a multiset rather than not at all.
  return [];
}
