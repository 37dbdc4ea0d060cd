/**
 * The event store as a fan-out sink: each batch of changes becomes domain events in `event_store`, one outbox row
 * per new event (for the relay to Kafka), a snapshot of the aggregate every N versions, and the sink's checkpoint,
 * all in ONE PostgreSQL transaction, so the outbox never holds an event the store lacks and a crash leaves either
 * the whole batch or none of it.
 *
 * Idempotent: an event's id is derived from its change (table, key, position, place), events already stored are
 * left as they are (a replayed event keeps its version), and changes at or before the checkpoint are skipped.
 * Versions count per aggregate from 1 without gaps: each new event gets the aggregate's highest stored version plus
 * its place among the batch's new events of that aggregate, computed set-based in SQL (a few statements per batch,
 * not one per event). A transaction-level advisory lock per state schema serialises writers, so two workers never
 * number the same aggregate at once; the second sees the first's events and checkpoint once it holds the lock.
 */
import type { Client } from 'pg';
import { type Lsn, formatLsn, parseLsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { FanoutBatch, FanoutSink, FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { stringifyJson } from '../iceberg/spec/json';
import { connectPostgres } from '../postgres/connection';
import { DEFAULT_STATE_SCHEMA, quotedStateSchema } from '../state-db/state-schema';
import type { StateDatabaseSettings } from '../state-db/state-settings';
import { type DomainEvent, toDomainEvent } from './domain-event';
import { DEFAULT_EVENT_SETTINGS, type EventSettings, MAX_TOPIC_LENGTH, TOPIC_CHARACTERS } from './event-settings';

/** The consumer and subject of the sink's row in `migration_checkpoints`. */
export const EVENT_STORE_CHECKPOINT = { consumer: 'event-store', subject: 'feed' } as const;

/** Events per INSERT statement: bounds one statement's parameters and memory; a batch may take several. */
const EVENTS_PER_STATEMENT = 5_000;

/** Options of the event store sink. */
export interface EventStoreSinkOptions {
  /** Opens a connection to the state database; the sink keeps one for its life and ends it on `close`. */
  connect: () => Promise<Client>;
  /** The state schema holding the event tables (default `icebridge`). */
  schema?: string;
  /** The migration whose feed this is; recorded in every event's metadata. */
  migrationId: string;
  /** The outbox topic of an entity; default `<topicPrefix><Entity>`. */
  topic?: (entity: string) => string;
  /** Prefix of the default topic rule (default `icebridge.`). */
  topicPrefix?: string;
  /** A snapshot is written at every multiple of this version (default 100). */
  snapshotInterval?: number;
}

/** What one `apply` wrote, for logs and tests. */
export interface EventStoreApplyResult {
  /** Changes past the checkpoint (a load chunk: all of them). */
  considered: number;
  /** New events stored (and outbox rows written). */
  events: number;
  snapshots: number;
}

/** The event store sink over the state database. */
export class EventStoreSink implements FanoutSink {
  readonly system = 'event-store' as const;
  private readonly schema: string;
  private readonly quoted: string;
  private readonly topic: (entity: string) => string;
  private readonly snapshotInterval: number;
  private connection: Promise<Client> | undefined;
  /** What the last `apply` wrote. */
  lastApply: EventStoreApplyResult = { considered: 0, events: 0, snapshots: 0 };

  constructor(private readonly options: EventStoreSinkOptions) {
    this.schema = options.schema ?? DEFAULT_STATE_SCHEMA;
    this.quoted = quotedStateSchema(this.schema);
    const prefix = options.topicPrefix ?? DEFAULT_EVENT_SETTINGS.topicPrefix;
    this.topic = options.topic ?? ((entity) => `${prefix}${entity}`);
    this.snapshotInterval = options.snapshotInterval ?? DEFAULT_EVENT_SETTINGS.snapshotInterval;
    if (!Number.isSafeInteger(this.snapshotInterval) || this.snapshotInterval < 1)
      throw new ValidationError('the snapshot interval must be a whole number from 1');
  }

  /** Checks that the event tables exist (they come with the state migrations) and that every table's topic is a valid Kafka name. */
  async prepare(tables: readonly FanoutTable[]): Promise<void> {
    for (const table of tables) this.topicOf(table);
    const client = await this.client();
    const found = await client.query<{ missing: string[] }>(
      `SELECT array_agg(name) FILTER (WHERE pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.' || name) IS NULL) AS missing
         FROM unnest(ARRAY['event_store', 'event_snapshots', 'outbox', 'migration_checkpoints']) AS name`,
      [this.schema],
    );
    const missing = found.rows[0]?.missing ?? null;
    if (missing !== null && missing.length > 0) {
      throw new ValidationError(`event-store: the state schema ${this.schema} has no ${missing.join(', ')}: run icebridge db migrate`);
    }
  }

  /** The position every stored event is up to; 0n before the first batch with a position. */
  async checkpoint(): Promise<Lsn> {
    return this.readCheckpoint(await this.client());
  }

  /** Stores the batch's events past the checkpoint, their outbox rows and snapshots, and the new checkpoint, in one transaction. */
  async apply(batch: FanoutBatch): Promise<void> {
    // Encoded before the transaction: a value that cannot be stored fails the batch without holding the lock.
    const events = batch.changes.map((change) => ({
      position: change.position,
      event: toDomainEvent(change, this.options.migrationId),
      topic: this.topicOf(change.table),
    }));
    const client = await this.client();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 0))', [`icebridge.event-store:${this.schema}`]);
      const checkpoint = batch.through === undefined ? undefined : await this.readCheckpoint(client);
      const seen = new Set<string>();
      const fresh = events.filter(({ position, event }) => {
        if (checkpoint !== undefined && position <= checkpoint) return false;
        if (seen.has(event.id)) return false;
        seen.add(event.id);
        return true;
      });
      const result: EventStoreApplyResult = { considered: fresh.length, events: 0, snapshots: 0 };
      for (let at = 0; at < fresh.length; at += EVENTS_PER_STATEMENT) {
        const written = await this.insertEvents(client, fresh.slice(at, at + EVENTS_PER_STATEMENT));
        result.events += written.events;
        result.snapshots += written.snapshots;
      }
      if (batch.through !== undefined) await this.writeCheckpoint(client, batch.through);
      await client.query('COMMIT');
      this.lastApply = result;
    } catch (error) {
      // A connection that cannot even roll back is dropped; the next call opens a new one.
      await client.query('ROLLBACK').catch(() => this.discard());
      throw error;
    }
  }

  /** Ends the sink's connection. */
  async close(): Promise<void> {
    await this.discard();
  }

  private topicOf(table: FanoutTable): string {
    const topic = this.topic(table.entity);
    if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH || !TOPIC_CHARACTERS.test(topic) || topic === '.' || topic === '..') {
      throw new ValidationError(
        `event-store: table ${qualifiedName(table)}: its topic ${JSON.stringify(topic.slice(0, 300))} is not a Kafka topic name (letters, digits, '.', '_', '-', at most ${MAX_TOPIC_LENGTH}): configure the entity name or the topic rule`,
      );
    }
    return topic;
  }

  private client(): Promise<Client> {
    this.connection ??= this.options.connect().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  private async discard(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) await (await connection.catch(() => undefined))?.end().catch(() => undefined);
  }

  private async readCheckpoint(client: Client): Promise<Lsn> {
    const found = await client.query<{ lsn: string | null }>(
      `SELECT lsn::text AS lsn FROM ${this.quoted}.migration_checkpoints WHERE consumer = $1 AND subject = $2`,
      [EVENT_STORE_CHECKPOINT.consumer, EVENT_STORE_CHECKPOINT.subject],
    );
    const lsn = found.rows[0]?.lsn ?? null;
    return lsn === null ? 0n : parseLsn(lsn);
  }

  private async writeCheckpoint(client: Client, through: Lsn): Promise<void> {
    // GREATEST: a checkpoint never moves back, whatever order two workers commit in.
    await client.query(
      `INSERT INTO ${this.quoted}.migration_checkpoints AS c (consumer, subject, lsn, status) VALUES ($1, $2, $3::pg_lsn, 'running')
       ON CONFLICT (consumer, subject) DO UPDATE SET lsn = GREATEST(c.lsn, EXCLUDED.lsn), updated_at = now()`,
      [EVENT_STORE_CHECKPOINT.consumer, EVENT_STORE_CHECKPOINT.subject, formatLsn(through)],
    );
  }

  private async insertEvents(client: Client, batch: ReadonlyArray<{ event: DomainEvent; topic: string }>): Promise<{ events: number; snapshots: number }> {
    const s = this.quoted;
    const columns: string[][] = [[], [], [], [], [], [], [], [], []];
    for (const { event, topic } of batch) {
      const values = [
        event.id,
        event.aggregateType,
        event.aggregateId,
        event.eventType,
        stringifyJson(event.data),
        stringifyJson(event.metadata),
        event.metadata.sourceLsn,
        topic,
        event.kind === 'Deleted' ? 't' : 'f',
      ];
      values.forEach((value, i) => columns[i]!.push(value));
    }
    // Versions: the aggregate's highest stored version plus the event's place among the new events of that
    // aggregate in change order. Events already stored (a replay) are left out before numbering, so they keep theirs.
    const result = await client.query<{ events: string; snapshots: string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::pg_lsn[], $8::text[], $9::boolean[])
           WITH ORDINALITY AS t(id, aggregate_type, aggregate_id, event_type, data, metadata, source_lsn, topic, deleted, ord)
       ), fresh AS (
         SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM ${s}.event_store e WHERE e.id = i.id)
       ), numbered AS (
         SELECT f.*, coalesce(m.version, 0) + row_number() OVER (PARTITION BY f.aggregate_type, f.aggregate_id ORDER BY f.ord) AS version
           FROM fresh f
           LEFT JOIN LATERAL (SELECT max(e.version) AS version FROM ${s}.event_store e
                               WHERE e.aggregate_type = f.aggregate_type AND e.aggregate_id = f.aggregate_id) m ON true
       ), inserted AS (
         INSERT INTO ${s}.event_store (id, aggregate_type, aggregate_id, event_type, version, data, metadata, source_lsn)
         SELECT id, aggregate_type, aggregate_id, event_type, version, data::jsonb, metadata::jsonb, source_lsn FROM numbered ORDER BY ord
         ON CONFLICT (id) DO NOTHING
         RETURNING id, aggregate_type, aggregate_id, event_type, version, data, metadata
       ), outboxed AS (
         INSERT INTO ${s}.outbox (event_id, topic, message_key, payload, headers)
         SELECT i.id, n.topic, i.aggregate_id,
                jsonb_build_object('id', i.id, 'aggregateType', i.aggregate_type, 'aggregateId', i.aggregate_id, 'eventType', i.event_type,
                                   'version', i.version, 'data', i.data, 'metadata', i.metadata),
                jsonb_build_object('eventId', i.id::text, 'eventType', i.event_type, 'version', i.version::text,
                                   'correlationId', i.metadata ->> 'correlationId', 'causationId', i.metadata ->> 'causationId')
           FROM inserted i JOIN numbered n ON n.id = i.id
          ORDER BY n.ord
         RETURNING 1
       ), snapshots AS (
         INSERT INTO ${s}.event_snapshots (aggregate_type, aggregate_id, version, state)
         SELECT i.aggregate_type, i.aggregate_id, i.version, CASE WHEN n.deleted THEN 'null'::jsonb ELSE i.data END
           FROM inserted i JOIN numbered n ON n.id = i.id
          WHERE i.version % $10 = 0
         ON CONFLICT DO NOTHING
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM outboxed) AS events, (SELECT count(*) FROM snapshots) AS snapshots`,
      [...columns, this.snapshotInterval],
    );
    const row = result.rows[0]!;
    return { events: Number(row.events), snapshots: Number(row.snapshots) };
  }
}

/** An event store sink on the configured state database, with the configured event settings. */
export function eventStoreSinkFromSettings(database: StateDatabaseSettings, settings: EventSettings, migrationId: string): EventStoreSink {
  return new EventStoreSink({
    // No statement limit short enough to cut a 50,000-event batch; the lock wait stays bounded (60 s).
    connect: () => connectPostgres(database.url, { applicationName: 'icebridge-event-store', statementTimeoutInMs: 10 * 60_000 }),
    schema: database.schema,
    migrationId,
    topicPrefix: settings.topicPrefix,
    snapshotInterval: settings.snapshotInterval,
  });
}
