/**
 * The fan-out inside the sync loop: after the Iceberg tables applied a batch, the same batch goes to every sink
 * (event store, ClickHouse, Weaviate), and only then is the slot confirmed. Each sink keeps its own checkpoint and
 * skips what it holds; each table's historical load position keeps the stream from handing a sink a change the
 * load already gave it.
 */
import type { ChangeEvent } from '../cdc/change-decoder';
import type { FanoutStart, SyncFanout } from '../sync/sync-fanout';
import { type Lsn, formatLsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import { feedBatch } from './feed-batch';
import type { FanoutSink, FanoutTable } from './fanout-types';
import { qualifiedName } from './identity';

export type { FanoutStart, SyncFanout };

/** Figures of the fan-out so far. */
export interface FanoutFigures {
  /** Row changes handed to the sinks, per sink system. */
  changes: Record<string, number>;
  /** Each sink's checkpoint ('X/Y'). */
  checkpoints: Record<string, string>;
}

/**
 * The sinks fed from the stream. `loaded` holds each table's historical load position (a table missing from it
 * has not been loaded: starting the fan-out before its load is refused, since the stream cannot give a sink the
 * rows from before the slot's position).
 */
export class FanoutFeed implements SyncFanout {
  private readonly tables: Map<string, FanoutTable>;
  private readonly checkpoints = new Map<FanoutSink, Lsn>();
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly sinks: readonly FanoutSink[],
    tables: readonly FanoutTable[],
    private readonly loaded: ReadonlyMap<string, Lsn>,
  ) {
    this.tables = new Map(tables.map((t) => [qualifiedName(t), t]));
  }

  /**
   * Prepares every sink for the tables and reads their checkpoints. Refused when a sink would miss changes: a table
   * applied changes past what the sink holds of it (its load, or the sink's checkpoint) while the slot moved on, so
   * the stream can no longer send them (a sync ran without the fan-out). Loading again is the way back.
   */
  static async open(
    sinks: readonly FanoutSink[],
    tables: readonly FanoutTable[],
    loaded: ReadonlyMap<string, Lsn>,
    start?: Omit<FanoutStart, 'bindings'>,
  ): Promise<FanoutFeed> {
    const missing = tables.filter((t) => !loaded.has(qualifiedName(t))).map(qualifiedName);
    if (missing.length > 0)
      throw new ValidationError(`the fan-out's historical load has not finished for ${missing.join(', ')}: run icebridge fanout load first`);
    const feed = new FanoutFeed(sinks, tables, loaded);
    for (const sink of sinks) {
      await sink.prepare(tables);
      feed.checkpoints.set(sink, await sink.checkpoint());
    }
    if (start !== undefined) await feed.refuseMissed(start);
    return feed;
  }

  private async refuseMissed(start: Omit<FanoutStart, 'bindings'>): Promise<void> {
    for (const [sink, checkpoint] of this.checkpoints) {
      for (const table of this.tables.values()) {
        const name = qualifiedName(table);
        const load = this.loaded.get(name)!;
        const holds = checkpoint > load ? checkpoint : load;
        const applied = start.applied.get(name);
        // Missed: the table committed a transaction the sink does not hold, and the slot will not send it again.
        if (applied === undefined || applied <= holds || start.slotConfirmed <= holds) continue;
        if (!(await start.appliedBetween(name, holds, start.slotConfirmed))) continue;
        throw new ValidationError(
          `${sink.system} holds ${name} up to ${formatLsn(holds)} but the table applied changes after it without the fan-out ` +
            `(a sync ran without it) and the slot has moved on to ${formatLsn(start.slotConfirmed)}: load the fan-out again (icebridge fanout load --again)`,
        );
      }
    }
  }

  startPosition(): Lsn | undefined {
    let low: Lsn | undefined;
    const lowestLoad = [...this.loaded.values()].reduce<Lsn | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
    for (const checkpoint of this.checkpoints.values()) {
      // A sink that never streamed starts where the earliest table's load ends.
      const from = checkpoint === 0n ? lowestLoad : checkpoint;
      if (from !== undefined && (low === undefined || from < low)) low = from;
    }
    return low;
  }

  async apply(events: readonly ChangeEvent[]): Promise<void> {
    const batch = feedBatch(events, this.tables, (table) => this.loaded.get(qualifiedName(table)) ?? 0n);
    if (batch.through === undefined) return;
    for (const sink of this.sinks) {
      const held = this.checkpoints.get(sink) ?? 0n;
      if (batch.through <= held) continue;
      const changes = batch.changes.filter((c) => c.position > held);
      await sink.apply({ through: batch.through, changes });
      this.checkpoints.set(sink, batch.through);
      this.counts.set(sink.system, (this.counts.get(sink.system) ?? 0) + changes.length);
    }
  }

  figures(): FanoutFigures {
    return {
      changes: Object.fromEntries(this.counts),
      checkpoints: Object.fromEntries([...this.checkpoints].map(([sink, lsn]) => [sink.system, formatLsn(lsn)])),
    };
  }

  async close(): Promise<void> {
    for (const sink of this.sinks) await sink.close();
  }
}
