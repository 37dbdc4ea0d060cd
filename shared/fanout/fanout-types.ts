/**
 * What the change feed hands every downstream system besides Iceberg (the event store, ClickHouse, Weaviate; Kafka
 * through the event store's outbox): row changes in the shared value representation, whole transactions at a
 * time, each change naming its source position. The historical load hands over the same shape (`origin: 'load'`).
 */
import type { Lsn } from '../cdc/lsn';
import type { IcebergType } from '../iceberg/spec/types';
import type { Value } from '../iceberg/spec/values';

/** A source table as the downstream systems see it. */
export interface FanoutTable {
  /** Exact catalog names of the source table. */
  schema: string;
  name: string;
  /** What events, topics, analytics tables and classes are named from: `film_actor` -> `FilmActor` unless configured. */
  entity: string;
  /** The migrated columns, in order, with the Iceberg type the copy gave each. */
  columns: FanoutColumn[];
  /** Key column names (primary key or replica identity), in key order. */
  key: string[];
  /** Foreign keys whose referenced table is fanned out too (its key columns, in order): cross-references. */
  references: FanoutReference[];
}

/** One column of a fanned-out table. */
export interface FanoutColumn {
  name: string;
  type: IcebergType;
  nullable: boolean;
  /** The PostgreSQL type as declared (for documentation and reports only). */
  sourceType: string;
}

/** A foreign key to another fanned-out table: `columns` of this table hold the referenced table's key. */
export interface FanoutReference {
  name: string;
  columns: string[];
  table: { schema: string; name: string };
}

/** One row change of the feed or of the historical load. */
export interface FanoutChange {
  table: FanoutTable;
  op: 'insert' | 'update' | 'delete';
  /** Key values, in `table.key` order. */
  key: Value[];
  /** The whole row after the change, in `table.columns` order; undefined for a delete. */
  row: Value[] | undefined;
  /** Source position: the end LSN of the change's transaction, or the historical load's snapshot position. */
  position: Lsn;
  /** The change's place within its transaction (from 0); with the table, key and position it names the change. */
  index: number;
  /** Commit time of the transaction, or the start of the historical load (ms since the Unix epoch). */
  committedAt: number;
  origin: 'load' | 'stream';
}

/** Changes of whole transactions in commit order. */
export interface FanoutBatch {
  /**
   * The position every change up to which the sink holds once the batch is applied: its new checkpoint. Undefined
   * for a chunk of the historical load, which moves no checkpoint (a load that stops is run again, idempotently).
   */
  through: Lsn | undefined;
  changes: FanoutChange[];
}

/** The systems the consistency check compares. */
export type SystemName = 'postgres' | 'iceberg' | 'event-store' | 'kafka' | 'clickhouse' | 'weaviate';

/** A downstream system fed by the change feed. Applying is idempotent: after a crash a batch is applied again. */
export interface FanoutSink {
  readonly system: Exclude<SystemName, 'postgres' | 'iceberg' | 'kafka'>;
  /** Creates what the tables need in the system (tables, views, classes); idempotent. */
  prepare(tables: readonly FanoutTable[]): Promise<void>;
  /** The position the sink holds every change up to; 0n when it holds none. */
  checkpoint(): Promise<Lsn>;
  /**
   * Applies the changes whose position is past `checkpoint()` (a load chunk: all of them), then records
   * `batch.through` (when set) as the checkpoint. A throw leaves the checkpoint where it was.
   */
  apply(batch: FanoutBatch): Promise<void>;
  close(): Promise<void>;
}

/** What one system holds of one table, for the consistency check. */
export interface SystemInventory {
  system: SystemName;
  /** `schema.name` of the source table. */
  table: string;
  /**
   * Aggregate id (`aggregateId`) of every live row the system holds -> the source position of the newest change
   * it applied for that key (0n where the system keeps no position: PostgreSQL, Iceberg).
   */
  live: Map<string, Lsn>;
  /** The newest source position the system holds for the table (freshness); undefined when it keeps none. */
  newest: Lsn | undefined;
  /** Problems inside the system itself, each naming the key: a version gap, events out of order, a missing vector. */
  findings: SystemFinding[];
  /** System-specific figures for the report (embeddings complete, embeddings_version, messages, ...). */
  figures: Record<string, number | string>;
}

/** One problem a system has on its own, named by key. */
export interface SystemFinding {
  key: string;
  problem: string;
}
