/**
 * The event store sink and its inventory on a real PostgreSQL: a batch applied twice stores once, versions run
 * 1..n per aggregate across batches (a deletion and a re-insert included), the checkpoint skips what it covers,
 * two sinks released at the same moment on overlapping batches leave no duplicate and no gap, every new event has
 * its outbox row and every Nth version its snapshot, and every value of every type comes back exactly from jsonb.
 * The inventory finds a gap made by deleting an event and an order problem made by moving one back.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventData } from '../../shared/events/domain-event';
import { eventStoreInventory } from '../../shared/events/event-inventory';
import { EventStoreSink, eventStoreSinkFromSettings } from '../../shared/events/event-store-sink';
import { eventSettingsFromEnv } from '../../shared/events/event-settings';
import type { FanoutBatch, FanoutChange } from '../../shared/fanout/fanout-types';
import { parseJson } from '../../shared/iceberg/spec/json';
import type { Value } from '../../shared/iceberg/spec/values';
import { connectPostgres } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { ALL_TYPES, FILM, HOSTILE, filmChange } from '../events/event-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let admin: Client;
let schemas = 0;
const sinks: EventStoreSink[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('events');
  admin = await connectPostgres(url);
}, 120_000);

afterAll(async () => {
  for (const sink of sinks) await sink.close();
  await admin?.end().catch(() => undefined);
  await pg?.stop();
});

/** A state schema of its own, migrated, for one test. */
async function freshSchema(): Promise<string> {
  const schema = `events_${++schemas}`;
  await migrateStateDatabase(admin, { schema });
  return schema;
}

function sinkOn(schema: string, snapshotInterval = 3): EventStoreSink {
  const sink = new EventStoreSink({ connect: () => connectPostgres(url), schema, migrationId: 'migration-1', snapshotInterval });
  sinks.push(sink);
  return sink;
}

interface StoredEvent {
  aggregate_id: string;
  event_type: string;
  version: string;
  source_lsn: string;
}

async function events(schema: string): Promise<StoredEvent[]> {
  const result = await admin.query<StoredEvent>(
    `SELECT aggregate_id, event_type, version::text, source_lsn::text FROM ${schema}.event_store ORDER BY aggregate_id, version`,
  );
  return result.rows;
}

async function count(schema: string, table: string): Promise<number> {
  return Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`)).rows[0]!.n);
}

/** Changes at positions from..to (one a transaction) over 40 film aggregates, each first inserted, then updated. */
function filmHistory(from: number, to: number): FanoutChange[] {
  const changes: FanoutChange[] = [];
  const seen = new Set<number>();
  for (let p = from; p <= to; p++) {
    const id = (p * 7) % 40;
    changes.push(filmChange(seen.has(id) ? 'update' : 'insert', id, BigInt(p), 0, `v${p}`));
    seen.add(id);
  }
  return changes;
}

/** Every aggregate's versions are exactly 1..n. */
function expectContiguous(rows: StoredEvent[]): void {
  const byAggregate = new Map<string, StoredEvent[]>();
  for (const row of rows) byAggregate.set(row.aggregate_id, [...(byAggregate.get(row.aggregate_id) ?? []), row]);
  for (const [id, list] of byAggregate) {
    expect(
      list.map((r) => Number(r.version)),
      `versions of ${id}`,
    ).toEqual(list.map((_, i) => i + 1));
  }
}

describe('the event store sink', () => {
  it('stores a batch once however often it is applied, with an outbox row per event', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema);
    await sink.prepare([FILM]);
    const batch: FanoutBatch = {
      through: 0x10n,
      changes: [filmChange('insert', 1, 0x10n, 0), filmChange('insert', 2, 0x10n, 1), filmChange('update', 1, 0x10n, 2)],
    };
    await sink.apply(batch);
    expect(sink.lastApply).toEqual({ considered: 3, events: 3, snapshots: 0 });
    await sink.apply(batch);
    expect(sink.lastApply.considered).toBe(0);
    // A checkpoint behind what is stored (a load chunk has none): the ids alone keep the replay from storing twice.
    await sink.apply({ through: undefined, changes: batch.changes });
    await admin.query(`DELETE FROM ${schema}.migration_checkpoints`);
    await sink.apply(batch);
    expect(sink.lastApply).toEqual({ considered: 3, events: 0, snapshots: 0 });
    expect(await events(schema)).toEqual([
      { aggregate_id: '1', event_type: 'FilmCreated', version: '1', source_lsn: '0/10' },
      { aggregate_id: '1', event_type: 'FilmUpdated', version: '2', source_lsn: '0/10' },
      { aggregate_id: '2', event_type: 'FilmCreated', version: '1', source_lsn: '0/10' },
    ]);
    const outbox = await admin.query<{
      topic: string;
      message_key: string;
      payload: { version: number; eventType: string; data: unknown };
      headers: Record<string, string>;
    }>(`SELECT o.topic, o.message_key, o.payload, o.headers FROM ${schema}.outbox o JOIN ${schema}.event_store e ON e.id = o.event_id ORDER BY o.id`);
    expect(outbox.rows.map((r) => [r.topic, r.message_key, r.payload.eventType, r.payload.version])).toEqual([
      ['icebridge.Film', '1', 'FilmCreated', 1],
      ['icebridge.Film', '2', 'FilmCreated', 1],
      ['icebridge.Film', '1', 'FilmUpdated', 2],
    ]);
    expect(outbox.rows[2]!.headers).toMatchObject({ eventType: 'FilmUpdated', version: '2' });
    expect(outbox.rows[2]!.headers.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outbox.rows[2]!.payload.data).toEqual({ film_id: 1, title: 'film 1' });
  });

  it('keeps the versions of stored events in a replay that also brings new ones, and numbers the new ones after them', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema);
    await sink.apply({ through: undefined, changes: [filmChange('insert', 1, 0x10n)] });
    await sink.apply({ through: undefined, changes: [filmChange('insert', 1, 0x10n), filmChange('update', 1, 0x20n), filmChange('insert', 2, 0x20n, 1)] });
    expect(sink.lastApply).toEqual({ considered: 3, events: 2, snapshots: 0 });
    expect((await events(schema)).map((r) => `${r.aggregate_id}:${r.version}:${r.event_type}`)).toEqual([
      '1:1:FilmCreated',
      '1:2:FilmUpdated',
      '2:1:FilmCreated',
    ]);
  });

  it('numbers versions without gaps across batches, a deletion and a re-insert included, with a snapshot every N versions', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema, 3);
    await sink.apply({ through: 0x100n, changes: [filmChange('insert', 1, 0x100n), filmChange('insert', 2, 0x100n, 1)] });
    await sink.apply({ through: 0x200n, changes: [filmChange('update', 1, 0x180n, 0, 'renamed'), filmChange('delete', 1, 0x200n)] });
    await sink.apply({ through: 0x300n, changes: [filmChange('insert', 1, 0x300n, 0, 'back'), filmChange('update', 2, 0x300n, 1)] });
    const rows = await events(schema);
    expectContiguous(rows);
    expect(rows.filter((r) => r.aggregate_id === '1').map((r) => `${r.version}:${r.event_type}`)).toEqual([
      '1:FilmCreated',
      '2:FilmUpdated',
      '3:FilmDeleted',
      '4:FilmCreated',
    ]);
    const snapshots = await admin.query<{ aggregate_id: string; version: string; state: unknown }>(
      `SELECT aggregate_id, version::text, state FROM ${schema}.event_snapshots`,
    );
    expect(snapshots.rows).toEqual([{ aggregate_id: '1', version: '3', state: null }]);
    expect(await sink.checkpoint()).toBe(0x300n);

    const inventory = await eventStoreInventory(admin, schema, FILM);
    expect([...inventory.live]).toEqual(
      expect.arrayContaining([
        ['1', 0x300n],
        ['2', 0x300n],
      ]),
    );
    expect(inventory.newest).toBe(0x300n);
    expect(inventory.findings).toEqual([]);
    expect(inventory.figures).toMatchObject({ events: 6, aggregates: 2, liveAggregates: 2 });
  });

  it('skips the changes its checkpoint covers', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema);
    expect(await sink.checkpoint()).toBe(0n);
    await sink.apply({ through: 0x200n, changes: [filmChange('insert', 1, 0x200n)] });
    await sink.apply({ through: 0x300n, changes: [filmChange('insert', 2, 0x150n), filmChange('insert', 3, 0x250n)] });
    expect((await events(schema)).map((r) => r.aggregate_id)).toEqual(['1', '3']);
    expect(await sink.checkpoint()).toBe(0x300n);
    // A batch through an older position moves nothing back.
    await sink.apply({ through: 0x100n, changes: [] });
    expect(await sink.checkpoint()).toBe(0x300n);
  });

  it('leaves nothing behind and the checkpoint in place when a value cannot be stored', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema);
    await sink.apply({ through: 0x10n, changes: [filmChange('insert', 1, 0x10n)] });
    const bad = filmChange('insert', 2, 0x20n, 1, 'nul \u0000 inside');
    await expect(sink.apply({ through: 0x20n, changes: [filmChange('update', 1, 0x20n), bad] })).rejects.toThrow(
      /^event-store: table public\.film, column title, key "2"/,
    );
    expect(await count(schema, 'event_store')).toBe(1);
    expect(await sink.checkpoint()).toBe(0x10n);
  });

  it('gives two sinks released at once on overlapping batches no duplicate and no gap', async () => {
    const schema = await freshSchema();
    const [first, second] = [sinkOn(schema), sinkOn(schema)];
    const changes = filmHistory(1, 180);
    // Chunks without a checkpoint overlap by their ids alone, and number the same aggregates from different places.
    await releasedTogether(schema, [
      () => first.apply({ through: undefined, changes: changes.slice(0, 60) }),
      () => second.apply({ through: undefined, changes: changes.slice(30, 90) }),
    ]);
    expect(await count(schema, 'event_store')).toBe(90);
    expectContiguous(await events(schema));
    // Stream batches: the larger covers the smaller, whichever commits first.
    await releasedTogether(schema, [
      () => first.apply({ through: 150n, changes: changes.slice(90, 150) }),
      () => second.apply({ through: 180n, changes: changes.slice(90) }),
    ]);
    const rows = await events(schema);
    expect(rows.length).toBe(180);
    expect(await count(schema, 'outbox')).toBe(180);
    expectContiguous(rows);
    expect(await sinkOn(schema).checkpoint()).toBe(180n);
  });

  it('is built from the settings, and refuses a schema without the event tables or an entity Kafka cannot name a topic after', async () => {
    const schema = await freshSchema();
    const sink = eventStoreSinkFromSettings(
      { url, schema, migrateOnStart: false },
      eventSettingsFromEnv({ ICEBRIDGE_EVENTS_TOPIC_PREFIX: 'shop-' }),
      'migration-2',
    );
    sinks.push(sink);
    await sink.prepare([FILM]);
    await sink.apply({ through: 0x10n, changes: [filmChange('insert', 1, 0x10n)] });
    const topics = await admin.query<{ topic: string }>(`SELECT topic FROM ${schema}.outbox`);
    expect(topics.rows).toEqual([{ topic: 'shop-Film' }]);
    await expect(sink.prepare([{ ...FILM, entity: 'Fïlm' }])).rejects.toThrow(
      /^event-store: table public\.film: its topic "shop-Fïlm" is not a Kafka topic name/,
    );
    await admin.query('CREATE SCHEMA bare');
    await expect(sinkOn('bare').prepare([FILM])).rejects.toThrow(
      'event-store: the state schema bare has no event_store, event_snapshots, outbox, migration_checkpoints: run icebridge db migrate',
    );
  });

  it('brings every value of every type back exactly from jsonb', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema);
    const width = Math.max(...Object.values(HOSTILE).map((values) => values.length));
    const rows: Value[][] = [];
    for (let i = 0; i < width; i++) rows.push(ALL_TYPES.columns.map((c, j) => (j === 0 ? BigInt(i) : HOSTILE[c.name]![i % HOSTILE[c.name]!.length]!)));
    await sink.prepare([ALL_TYPES]);
    await sink.apply({
      through: 0x500n,
      changes: rows.map((row, i) => ({ table: ALL_TYPES, op: 'insert', key: [row[0]!], row, position: 0x500n, index: i, committedAt: 0, origin: 'stream' })),
    });
    const stored = await admin.query<{ data: string; big: string; price: string }>(
      `SELECT data::text AS data, data ->> 'big' AS big, data ->> 'price' AS price FROM ${schema}.event_store ORDER BY (data ->> 'id')::bigint`,
    );
    expect(stored.rows.map((r) => decodeEventData(ALL_TYPES, parseJson(r.data), 'Created'))).toEqual(rows);
    // numeric keeps every digit of a 64-bit integer: the JSON number is not a double anywhere on the way.
    expect(stored.rows.map((r) => r.big)).toContain('9223372036854775807');
    expect(stored.rows.map((r) => r.price)).toContain('9999999999999999999999999999.9999999999');
  });
});

describe('the event store inventory', () => {
  it('finds a gap where an event row was deleted and an order problem where one was moved back, by key', async () => {
    const schema = await freshSchema();
    const sink = sinkOn(schema, 1000);
    const changes: FanoutChange[] = [];
    for (let p = 1; p <= 4; p++) for (let id = 1; id <= 9; id++) changes.push(filmChange(p === 1 ? 'insert' : 'update', id, BigInt(p * 0x100), id));
    changes.push(filmChange('delete', 9, 0x500n));
    await sink.apply({ through: 0x500n, changes });

    const clean = await eventStoreInventory(admin, schema, FILM);
    // Read three aggregates at a time (9 of them: the last page is full, then an empty one), the same inventory.
    const paged = await eventStoreInventory(admin, schema, FILM, { pageRows: 3 });
    expect(paged).toEqual(clean);
    expect(clean.findings).toEqual([]);
    expect(clean.live.size).toBe(8);
    expect(clean.live.has('9')).toBe(false);
    expect(clean.newest).toBe(0x500n);

    await admin.query(`DELETE FROM ${schema}.outbox WHERE event_id IN (SELECT id FROM ${schema}.event_store WHERE aggregate_id = '5' AND version = 2)`);
    await admin.query(`DELETE FROM ${schema}.event_store WHERE aggregate_id = '5' AND version = 2`);
    await admin.query(`UPDATE ${schema}.event_store SET source_lsn = '0/50' WHERE aggregate_id = '7' AND version = 3`);
    const damaged = await eventStoreInventory(admin, schema, FILM);
    expect(damaged.findings).toEqual([
      { key: '5', problem: expect.stringMatching(/^version gap: 3 events up to version 4, the run 1\.\.n breaks at version 3/) as string },
      { key: '7', problem: expect.stringMatching(/^events out of order: version 3 comes from an earlier source position/) as string },
    ]);
    expect(damaged.figures).toMatchObject({ aggregatesWithGaps: 1, aggregatesOutOfOrder: 1, events: 36 });
  });
});

/**
 * Runs `applies` at once and releases them together: event_store is locked here until every one waits on a lock
 * (seen in pg_locks: the table's, or the sinks' own advisory lock), so the transactions really contend, whatever
 * the machine's load, and the barrier works the same with or without the sinks' serialisation.
 */
async function releasedTogether(schema: string, applies: Array<() => Promise<void>>): Promise<void> {
  const holder = await connectPostgres(url);
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${schema}.event_store IN ACCESS EXCLUSIVE MODE`);
    const running = applies.map((apply) => apply());
    for (;;) {
      const waiting = await holder.query<{ n: string }>('SELECT count(DISTINCT pid) AS n FROM pg_locks WHERE NOT granted');
      if (Number(waiting.rows[0]!.n) >= applies.length) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await holder.query('COMMIT');
    await Promise.all(running);
  } finally {
    await holder.end();
  }
}
