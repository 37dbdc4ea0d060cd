/**
 * The hook by which other systems ride in the sync loop (the fan-out: event store, ClickHouse, Weaviate): opened
 * with what the sync knows at its start, told where it needs the stream to begin, handed every batch after the
 * tables applied it and before the slot is confirmed.
 */
import type { ChangeEvent, TableBinding } from '../cdc/change-decoder';
import type { Lsn } from '../cdc/lsn';

/** What the sync knows when the fan-out opens: the tables' bindings, what each holds, where the slot stands. */
export interface FanoutStart {
  bindings: readonly TableBinding[];
  /** Each running table's applied position, by `schema.name`. */
  applied: ReadonlyMap<string, Lsn>;
  /** The slot's confirmed position: the stream cannot start before it. */
  slotConfirmed: Lsn;
  /** Whether the table (`schema.name`) committed a transaction ending in (`after`, `upTo`], by its snapshots. */
  appliedBetween(table: string, after: Lsn, upTo: Lsn): Promise<boolean>;
}

/** What the sync loop calls: where the sinks need the stream to start, and the batch to hand them. */
export interface SyncFanout {
  /** The lowest position some sink still needs changes after; undefined when none needs any (nothing loaded yet). */
  startPosition(): Lsn | undefined;
  /** Hands the batch's changes to every sink; a throw leaves the batch unconfirmed. */
  apply(events: readonly ChangeEvent[]): Promise<void>;
}
