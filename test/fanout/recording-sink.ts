/**
 * A sink of the fan-out contract that keeps what it is given in memory: the state of every key and the batches it
 * took, so a test sees exactly what the feed hands a sink. The real sinks (event store, ClickHouse, Weaviate) have
 * their own suites; this one tests the feed around them.
 */
import type { Lsn } from '../../shared/cdc/lsn';
import type { FanoutBatch, FanoutSink, FanoutTable, SystemInventory } from '../../shared/fanout/fanout-types';
import { aggregateId, qualifiedName } from '../../shared/fanout/identity';
import type { Value } from '../../shared/iceberg/spec/values';

/** What the sink holds of one key. */
export interface HeldRow {
  row: Value[];
  position: Lsn;
}

/** An in-memory sink; `failNext` makes the next apply throw before it changes anything. */
export class RecordingSink implements FanoutSink {
  readonly system = 'event-store' as const;
  readonly rows = new Map<string, Map<string, HeldRow>>();
  readonly batches: FanoutBatch[] = [];
  held: Lsn = 0n;
  failNext = false;
  prepared = 0;

  prepare(tables: readonly FanoutTable[]): Promise<void> {
    this.prepared++;
    for (const t of tables) if (!this.rows.has(qualifiedName(t))) this.rows.set(qualifiedName(t), new Map());
    return Promise.resolve();
  }

  checkpoint(): Promise<Lsn> {
    return Promise.resolve(this.held);
  }

  apply(batch: FanoutBatch): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('the sink is down'));
    }
    this.batches.push(batch);
    for (const change of batch.changes) {
      if (batch.through !== undefined && change.position <= this.held) continue;
      const table = this.rows.get(qualifiedName(change.table))!;
      const id = aggregateId(change.key);
      if (change.op === 'delete') table.delete(id);
      else table.set(id, { row: change.row!, position: change.position });
    }
    if (batch.through !== undefined && batch.through > this.held) this.held = batch.through;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The sink's holdings as an inventory, for the consistency check. */
  inventory(table: FanoutTable): Promise<SystemInventory> {
    const held = this.rows.get(qualifiedName(table)) ?? new Map<string, HeldRow>();
    const live = new Map([...held].map(([key, h]) => [key, h.position]));
    const newest = [...live.values()].reduce<Lsn | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
    return Promise.resolve({ system: this.system, table: qualifiedName(table), live, newest, findings: [], figures: { rows: live.size } });
  }
}
