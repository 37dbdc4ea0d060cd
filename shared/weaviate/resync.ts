/**
 * Rolls a class back to rows the caller gives (read from an Iceberg snapshot): every row's object upserted, every
 * object of the class whose row is not among them deleted. A dry run counts what would be created, replaced and
 * deleted and changes nothing. A real run is recorded in the transaction log (`weaviate.resync`).
 */
import type { FanoutChange, FanoutTable } from '../fanout/fanout-types';
import { objectId, qualifiedName } from '../fanout/identity';
import { type TransactionLogOptions, recordAction } from '../state-db/transaction-log';
import { ValidationError } from '../errors';
import { classObjects } from './weaviate-inventory';
import type { WeaviateConnection } from './weaviate-client';
import type { WeaviateSink } from './weaviate-sink';

/** Options of `resyncClass`. */
export interface ResyncOptions {
  /** The sink writing the class (its connection, embedder and class configuration). */
  sink: WeaviateSink;
  connection: WeaviateConnection;
  table: FanoutTable;
  /** The rows to hold, as inserts of the table (from an Iceberg snapshot). */
  rows: AsyncIterable<FanoutChange>;
  dryRun?: boolean;
  /** Who asked, and why (for the transaction log). */
  actor: string;
  reason?: string;
  correlationId?: string;
  log?: TransactionLogOptions;
  /** Rows per batch (default 100). */
  batchSize?: number;
}

/** What a resync did, or would do. */
export interface ResyncResult {
  table: string;
  className: string;
  dryRun: boolean;
  /** Objects before. */
  before: number;
  /** Rows whose object did not exist. */
  created: number;
  /** Rows whose object existed (written again). */
  replaced: number;
  /** Objects without a row. */
  deleted: number;
}

/** Re-syncs the class of `table` from `rows`. */
export async function resyncClass(options: ResyncOptions): Promise<ResyncResult> {
  const { sink, connection, table } = options;
  // A dry run creates nothing, not even the class.
  if (options.dryRun !== true) await sink.prepare([table]);
  const plan = sink.classPlanOf(table);
  const existing = new Set<string>();
  const present = (await connection.classes()).some((c) => c.class === plan.className);
  if (present) for await (const object of classObjects(connection, plan.className, false)) existing.add(object.id);
  const wanted = new Set<string>();
  const result: ResyncResult = {
    table: qualifiedName(table),
    className: plan.className,
    dryRun: options.dryRun ?? false,
    before: existing.size,
    created: 0,
    replaced: 0,
    deleted: 0,
  };
  let chunk: FanoutChange[] = [];
  const flush = async (): Promise<void> => {
    if (!result.dryRun && chunk.length > 0) await sink.write(chunk);
    chunk = [];
  };
  for await (const change of options.rows) {
    if (qualifiedName(change.table) !== qualifiedName(table) || change.row === undefined) {
      throw new ValidationError(`a resync of ${qualifiedName(table)} takes rows of that table, got ${change.op} of ${qualifiedName(change.table)}`);
    }
    const id = objectId(table, change.key);
    if (wanted.has(id)) continue;
    wanted.add(id);
    if (existing.has(id)) result.replaced++;
    else result.created++;
    chunk.push(change);
    if (chunk.length >= (options.batchSize ?? 100)) await flush();
  }
  await flush();
  for (const id of existing) {
    if (wanted.has(id)) continue;
    result.deleted++;
    if (!result.dryRun) await connection.deleteObject(plan.className, id);
  }
  if (!result.dryRun) {
    const action = {
      kind: 'weaviate.resync' as const,
      actor: options.actor,
      subject: `${plan.className} (${qualifiedName(table)})`,
      before: { objects: result.before },
      after: { created: result.created, replaced: result.replaced, deleted: result.deleted },
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.correlationId === undefined ? {} : { correlationId: options.correlationId }),
    };
    await recordAction(action, options.log);
  }
  return result;
}
