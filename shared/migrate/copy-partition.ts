/**
 * copyPartition: stream one partition of a source table (a page range of one relation) with COPY inside a
 * REPEATABLE READ READ ONLY transaction, write it as Parquet through the table writer with bounded memory, and
 * write one manifest for its files, then the partition's receipt. Returns references and figures only. Every
 * attempt writes files under fresh names, so a retried or duplicated attempt never overwrites what another
 * attempt reported; the first receipt stands, and the commit keeps only the files the receipts name.
 */
import { randomBytes } from 'node:crypto';
import { IcebridgeError, ValidationError } from '../errors';
import { findField } from '../iceberg/spec/schema';
import { type TableMetadata, currentSchema, defaultSpec } from '../iceberg/spec/table-metadata';
import { type ColumnBatch, nullVector } from '../iceberg/spec/column-batch';
import { writeDataManifest } from '../iceberg/transaction/manifest-files';
import { TableWriter } from '../iceberg/writer/table-writer';
import { readColumns, readRows } from '../postgres/copy-reader';
import { describeTable } from '../postgres/introspect';
import type { Client } from 'pg';
import { displayIdent, displayQualified } from '../postgres/identifiers';
import { SnapshotLostError, isSnapshotGone, lockWithoutWaiting } from '../postgres/snapshot-holder';
import { withSnapshotTransaction } from '../postgres/snapshot-transaction';
import type { SourceTable } from '../postgres/source-table';
import { type TableMapping, mapTable } from '../postgres/type-mapping';
import { cancellationCheck } from './cancellation';
import { HashingFileIO } from './content-hash';
import type { CopyPartitionInput, CopyPartitionResult } from './contracts';
import { type RunEnvironment, withSource } from '../run/environment';
import { toManifestRef } from './manifest-ref';
import { partitionFilePrefix, receiptLocation, writeReceipt } from './partition-receipts';

/** Options of copyPartition. */
export interface CopyPartitionOptions {
  /** Called after each batch with the rows copied so far (progress for people). */
  onProgress?: (rows: number) => void;
  abortSignal?: AbortSignal;
}

/** Copies one partition and returns its manifest reference, counts and content checksum. */
export async function copyPartition(env: RunEnvironment, input: CopyPartitionInput, options: CopyPartitionOptions = {}): Promise<CopyPartitionResult> {
  const { table: plan, partition } = input;
  const target = await env.catalog.loadTable({ namespace: plan.target.namespace, name: plan.target.name });
  const targetFields = currentSchema(target.metadata).fields.map((f) => f.name);
  if (targetFields.join('\u0000') !== plan.columns.join('\u0000')) {
    throw new ValidationError(`the Iceberg table ${plan.target.name} changed since the migration was planned; plan again`);
  }
  return withSource(env, async (client) => {
    const io = new HashingFileIO(env.catalog.io);
    const attempt = randomBytes(4).toString('hex');
    const prefix = partitionFilePrefix(input.runId, input.execution, partition.index, attempt);
    const writer = new TableWriter({ io, metadata: target.metadata, filePrefix: prefix });
    const wholeRelation = partition.fromPage === 0 && partition.toPage === null;
    let rows = 0;
    const checkCancelled = cancellationCheck(env.catalog, input.runId);
    try {
      await withSnapshotTransaction(
        client,
        async () => {
          // Locked before the table is described: describing takes the same lock, which would queue behind DDL.
          await lockWithoutWaiting(client, plan.source);
          const { source, mapping, order } = await describeForCopy(client, plan, target.metadata);
          const read = {
            relation: partition.relation,
            ...(wholeRelation ? {} : { pages: { fromPage: partition.fromPage, toPage: partition.toPage } }),
            keyColumns: plan.key,
            uuidAsBytes: !partitionsOn(target.metadata, 'uuid'),
            textAsBytes: !partitionsOn(target.metadata, 'string'),
            ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
          };
          const copied = (count: number): void => {
            rows += count;
            options.onProgress?.(rows);
          };
          // An unpartitioned table's writer takes column batches as they are; rows routed to partitions go as rows.
          if (writer.takesColumnBatches) {
            for await (const batch of readColumns(client, source, mapping, read)) {
              await checkCancelled();
              await writer.writeColumns(order ? reorderColumns(batch, order) : batch);
              copied(batch.rows);
            }
          } else {
            for await (const batch of readRows(client, source, mapping, read)) {
              await checkCancelled();
              await writer.writeRows(order ? batch.map((row) => order.map((j) => (j < 0 ? null : row[j]!))) : batch);
              copied(batch.length);
            }
          }
        },
        plan.sourceSnapshot ? { snapshotId: plan.sourceSnapshot.id } : {},
      ).catch((error: unknown) => {
        throw isSnapshotGone(error)
          ? new SnapshotLostError(
              `${displayQualified(plan.source.schema, plan.source.name)}: the migration's snapshot is gone (its holder ended: a restart, a scale-in or a lost connection)`,
              { cause: error },
            )
          : error;
      });
      const files = await writer.close();
      const manifest =
        files.length === 0
          ? null
          : toManifestRef(await writeDataManifest(io, target.metadata, files, { location: `${target.metadata.location}/metadata/${prefix}-m0.avro` }));
      return await writeReceipt(env.catalog.io, receiptLocation(target.metadata.location, input.runId, input.execution, partition.index), {
        partition: partition.index,
        attempt,
        manifest,
        files: files.length,
        rows,
        bytes: files.reduce((n, f) => n + Number(f.fileSizeInBytes), 0),
        checksum: io.combined(files.map((f) => f.filePath)),
      });
    } catch (error) {
      await writer.abort().catch(() => undefined);
      if (error instanceof ValidationError) {
        throw new IcebridgeError(error.code, `${plan.source.schema}.${plan.source.name}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  });
}

/**
 * The source table as the copy reads it, checked against the plan: the columns it maps (in source order) and,
 * when the Iceberg table orders its fields differently, the source column of each field (-1: none, read as null).
 */
async function describeForCopy(
  client: Client,
  plan: CopyPartitionInput['table'],
  metadata: TableMetadata,
): Promise<{ source: SourceTable; mapping: TableMapping; order: number[] | undefined }> {
  const source = await describeTable(client, plan.source.schema, plan.source.name);
  const excluded = source.columns.map((c) => c.name).filter((name) => !plan.columns.includes(name));
  // A column the plan does not know (added after planning) would silently change the table's column list.
  const unplanned = excluded.filter((name) => !(plan.excludedColumns ?? []).includes(name));
  if (unplanned.length > 0) {
    throw new ValidationError(
      `columns ${unplanned.map(displayIdent).join(', ')} are not in the migration's plan (added during the copy?); the table's column list would change mid-copy, so the table is not copied: migrate it again`,
    );
  }
  // A column dropped from PostgreSQL after an earlier run stays in the Iceberg table; optional ones read null.
  const targetSchema = currentSchema(metadata);
  const gone = plan.columns.filter((name) => !source.columns.some((c) => c.name === name));
  const requiredGone = gone.filter((name) => targetSchema.fields.find((f) => f.name === name)?.required);
  if (requiredGone.length > 0) {
    throw new ValidationError(`required columns ${requiredGone.join(', ')} of the Iceberg table no longer exist in ${plan.source.schema}.${plan.source.name}`);
  }
  const mapping = mapTable(source, { excludedColumns: excluded });
  // Rows come in source column order; the table may order its fields differently after evolution.
  const order = plan.columns.map((name) => mapping.columns.findIndex((c) => c.name === name));
  const same = order.every((j, i) => j === i) && order.length === mapping.columns.length;
  return { source, mapping, order: same ? undefined : order };
}

/** A batch's columns in the Iceberg table's field order (see describeForCopy). */
function reorderColumns(batch: ColumnBatch, order: readonly number[]): ColumnBatch {
  return { rows: batch.rows, columns: order.map((j) => (j < 0 ? nullVector(batch.rows) : batch.columns[j]!)) };
}

/**
 * Whether a partition field of the table's spec is computed from a column of `type`. The rows go straight to the
 * Parquet writer, which takes uuids as bytes and repeated texts as InternedText entries (cheaper to decode and to
 * write), except that partition transforms need the form of values.ts.
 */
function partitionsOn(metadata: TableMetadata, type: 'uuid' | 'string'): boolean {
  const schema = currentSchema(metadata);
  return defaultSpec(metadata).fields.some((f) => findField(schema, f['source-id'])?.type === type);
}
