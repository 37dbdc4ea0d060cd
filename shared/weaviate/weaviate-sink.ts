/**
 * The Weaviate sink of the fan-out: one object per source row (id `objectId(table, key)`), upserted in batches
 * with its vector; a delete deletes the object. The checkpoint lives in Weaviate itself, as the
 * `IcebridgeCheckpoint` object of the sink's name, written after the batch's objects: a crash between the two
 * leaves the checkpoint behind, and the replay writes the same objects again (same ids, same properties).
 */
import { type Lsn, formatLsn, parseLsn } from '../cdc/lsn';
import { IcebridgeError } from '../errors';
import type { FanoutBatch, FanoutChange, FanoutSink, FanoutTable, SystemInventory } from '../fanout/fanout-types';
import { aggregateId, objectId, qualifiedName, uuidV5 } from '../fanout/identity';
import { quotedText } from '../text/bounded-text';
import { type WeaviateClassConfig, type WeaviateClassPlan, planClasses } from './class-config';
import type { Embedder } from './embedders';
import { type SimilarityCheckOptions, type SimilarityReport, similarityCheck } from './similarity-check';
import { type WeaviateInventoryOptions, weaviateInventory } from './weaviate-inventory';
import { buildObjects } from './weaviate-objects';
import type { WeaviateConnection, WeaviateObjectInput } from './weaviate-client';
import { CHECKPOINT_CLASS, ensureClasses } from './weaviate-schema';

/** Options of the sink. */
export interface WeaviateSinkOptions {
  connection: WeaviateConnection;
  embedder: Embedder;
  /** Class configuration (default: every table with every column). */
  config?: WeaviateClassConfig;
  /** Name of this sink's checkpoint (default `icebridge`): two pipelines into one Weaviate keep two. */
  checkpointName?: string;
  /** Objects per batch request (default 100). */
  batchSize?: number;
}

/** Weaviate refused objects of a batch; names each key and Weaviate's reason. */
export class WeaviateApplyError extends IcebridgeError {
  constructor(message: string) {
    super('WEAVIATE_OBJECT_REFUSED', message);
  }
}

/** The Weaviate sink. */
export class WeaviateSink implements FanoutSink {
  readonly system = 'weaviate' as const;
  private plans = new Map<string, WeaviateClassPlan>();
  private tables: FanoutTable[] = [];
  private readonly checkpointId: string;

  constructor(private readonly options: WeaviateSinkOptions) {
    this.checkpointId = checkpointObjectId(options.checkpointName ?? 'icebridge');
  }

  /** The class plans of the prepared tables, by `schema.name`. */
  get classPlans(): ReadonlyMap<string, WeaviateClassPlan> {
    return this.plans;
  }

  async prepare(tables: readonly FanoutTable[]): Promise<void> {
    const { merged, plans } = this.planned(tables);
    await ensureClasses(this.options.connection, [...plans.values()], this.options.embedder);
    this.tables = merged;
    this.plans = plans;
  }

  /** The class a table would be, with the prepared tables, without creating anything (for dry runs). */
  classPlanOf(table: FanoutTable): WeaviateClassPlan {
    return this.planned([table]).plans.get(qualifiedName(table))!;
  }

  private planned(tables: readonly FanoutTable[]): { merged: FanoutTable[]; plans: Map<string, WeaviateClassPlan> } {
    const merged = new Map(this.tables.map((t) => [qualifiedName(t), t]));
    for (const table of tables) merged.set(qualifiedName(table), table);
    return { merged: [...merged.values()], plans: planClasses([...merged.values()], this.options.config ?? { classes: {} }) };
  }

  async checkpoint(): Promise<Lsn> {
    const found = await this.options.connection.object(CHECKPOINT_CLASS, this.checkpointId);
    const position = found?.properties.position;
    return typeof position === 'string' ? parseLsn(position) : 0n;
  }

  async apply(batch: FanoutBatch): Promise<void> {
    const from = batch.through === undefined ? undefined : await this.checkpoint();
    const pending = from === undefined ? batch.changes : batch.changes.filter((c) => c.position > from);
    const unprepared = pending.map((c) => c.table).filter((t) => !this.plans.has(qualifiedName(t)));
    if (unprepared.length > 0) await this.prepare(unprepared);
    const last = lastChangePerKey(pending);
    await this.write(last.filter((c) => c.op !== 'delete'));
    for (const change of last.filter((c) => c.op === 'delete')) {
      await this.options.connection.deleteObject(this.plans.get(qualifiedName(change.table))!.className, objectId(change.table, change.key));
    }
    if (batch.through !== undefined && batch.through > from!) {
      await this.upsertChecked([
        {
          class: CHECKPOINT_CLASS,
          id: this.checkpointId,
          properties: { sink: this.options.checkpointName ?? 'icebridge', position: formatLsn(batch.through) },
        },
      ]);
    }
  }

  /** What Weaviate holds of a table, for the consistency check (`weaviateInventory`). */
  inventory(table: FanoutTable, options: WeaviateInventoryOptions = {}): Promise<SystemInventory> {
    return weaviateInventory(this.options.connection, this.classPlanOf(table), this.options.embedder, options);
  }

  /** The similarity smoke check of a table's class (`similarityCheck`). */
  similarity(table: FanoutTable, options: SimilarityCheckOptions = {}): Promise<SimilarityReport> {
    return similarityCheck(this.options.connection, this.classPlanOf(table), this.options.embedder, options);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Upserts the objects of changes (no deletes) in batches, with their vectors. */
  async write(changes: readonly FanoutChange[]): Promise<void> {
    const size = this.options.batchSize ?? 100;
    for (let start = 0; start < changes.length; start += size) {
      await this.upsertChecked(await buildObjects(this.plans, changes.slice(start, start + size), this.options.embedder), changes.slice(start, start + size));
    }
  }

  private async upsertChecked(objects: readonly WeaviateObjectInput[], changes: readonly FanoutChange[] = []): Promise<void> {
    const failed = await this.options.connection.upsert(objects);
    if (failed.size === 0) return;
    const named = [...failed].slice(0, 5).map(([id, errors]) => {
      const change = changes.find((c) => objectId(c.table, c.key) === id);
      const what = change ? `table ${qualifiedName(change.table)}, key ${quotedText(aggregateId(change.key))}` : `object ${id}`;
      return `${what}: ${quotedText(errors.join('; '))}`;
    });
    throw new WeaviateApplyError(`weaviate refused ${failed.size} of ${objects.length} objects: ${named.join(' | ')}${failed.size > 5 ? ' | …' : ''}`);
  }
}

/** The id of a sink's checkpoint object. */
export function checkpointObjectId(name: string): string {
  return uuidV5(JSON.stringify(['weaviate-checkpoint', name]));
}

/** The last change of each key, in the order those last changes came. */
export function lastChangePerKey(changes: readonly FanoutChange[]): FanoutChange[] {
  const last = new Map<string, FanoutChange>();
  for (const change of changes) {
    const id = `${qualifiedName(change.table)}\u0000${aggregateId(change.key)}`;
    last.delete(id);
    last.set(id, change);
  }
  return [...last.values()];
}
