/**
 * The topic inventory and consumer-group rollback against librdkafka's mock cluster: the inventory finds a range
 * of keys missing from a fresh topic, a version gap, events out of order, counts a redelivered event as a
 * duplicate and stops at the watermarks it took at the start while a producer goes on; a group's offsets reset to
 * a time move it back (the dry run first changes nothing), are refused while a member is active, and are audited.
 */
import type { Consumer, Message, Producer } from 'kafkajs';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLsn } from '../../shared/cdc/lsn';
import type { FanoutTable } from '../../shared/fanout/fanout-types';
import { uuidV5 } from '../../shared/fanout/identity';
import { resetConsumerOffsets } from '../../shared/kafka/consumer-offsets';
import { EVENT_HEADERS } from '../../shared/kafka/event-headers';
import { type KafkaConnection, connectKafka, connectProducer, ensureTopics } from '../../shared/kafka/kafka-client';
import { ConflictError } from '../../shared/kafka/offsets-errors';
import { topicInventory } from '../../shared/kafka/topic-inventory';
import { topicWatermarks } from '../../shared/kafka/topic-reader';
import { connectPostgres } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { listActions } from '../../shared/state-db/transaction-log';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';
import { type PostgresInstance, startPostgres } from './support/postgres';

const TABLE: FanoutTable = { schema: 'public', name: 'film', entity: 'Film', columns: [], key: ['film_id'], references: [] };
const SCHEMA = 'icebridge';

let mock: KafkaMock;
let pg: PostgresInstance;
let url: string;
let client: Client;
let kafka: KafkaConnection;
let producer: Producer;
const consumers: Consumer[] = [];

beforeAll(async () => {
  [pg, mock] = await Promise.all([startPostgres(), startKafkaMock()]);
  url = await pg.createDatabase('state');
  client = await connectPostgres(url);
  await migrateStateDatabase(client, { schema: SCHEMA });
  kafka = connectKafka({ brokers: mock.brokers, clientId: 'icebridge-test', ssl: false, partitions: 4, idempotent: false });
  producer = await connectProducer(kafka);
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await client?.end().catch(() => undefined);
  await Promise.all([pg?.stop(), mock?.stop()]);
});

function event(key: number, version: number, type = version === 1 ? 'FilmCreated' : 'FilmUpdated'): Message {
  return {
    key: String(key),
    value: JSON.stringify({ film_id: key, version }),
    headers: {
      [EVENT_HEADERS.eventId]: uuidV5(JSON.stringify(['inventory', key, version])),
      [EVENT_HEADERS.eventType]: type,
      [EVENT_HEADERS.aggregateType]: 'Film',
      [EVENT_HEADERS.aggregateId]: String(key),
      [EVENT_HEADERS.version]: String(version),
      [EVENT_HEADERS.sourceLsn]: formatLsn(BigInt(version * 1_000 + key)),
    },
  };
}

describe('the topic inventory', () => {
  it('finds a missing range of keys, a version gap, events out of order and a deletion; a redelivery is a duplicate', async () => {
    await ensureTopics(kafka, ['films-inventory']);
    const messages: Message[] = [];
    for (let key = 1; key <= 100; key++) {
      if (key >= 40 && key <= 49) continue; // the range a restore of the topic lost
      if (key === 7) messages.push(event(7, 1), event(7, 3));
      else if (key === 8) messages.push(event(8, 1), event(8, 2), event(8, 3, 'FilmDeleted'));
      else if (key === 9) messages.push(event(9, 1), event(9, 2), event(9, 3), event(9, 3));
      else if (key === 10) messages.push(event(10, 1), event(10, 3), event(10, 2));
      else messages.push(event(key, 1), event(key, 2), event(key, 3));
    }
    await producer.send({ topic: 'films-inventory', acks: -1, messages });

    const inventory = await topicInventory(kafka, TABLE, { topic: 'films-inventory' });
    expect(inventory.system).toBe('kafka');
    expect(inventory.table).toBe('public.film');
    const expectedLive = Array.from({ length: 100 }, (_, i) => String(i + 1)).filter((k) => !(Number(k) >= 40 && Number(k) <= 49) && k !== '8');
    expect([...inventory.live.keys()].sort()).toEqual(expectedLive.sort());
    expect(inventory.live.get('1')).toBe(3_001n);
    expect(inventory.live.get('7')).toBe(3_007n);
    expect(inventory.newest).toBe(3_100n);
    const findings = inventory.findings.map((f) => `${f.key}: ${f.problem}`).sort();
    expect(findings).toHaveLength(3);
    expect(findings[0]).toMatch(/^10: version 2 comes after version 3: out of order/);
    expect(findings[1]).toMatch(/^10: versions 2 to 2 are missing/);
    expect(findings[2]).toMatch(/^7: versions 2 to 2 are missing between version 1 and 3/);
    expect(inventory.figures).toMatchObject({ messages: messages.length, duplicates: 1, keys: 90, deletedKeys: 1, partitions: 4 });
  });

  it('stops at the high watermarks taken at the start while a producer goes on', async () => {
    await ensureTopics(kafka, ['films-busy']);
    await producer.send({ topic: 'films-busy', acks: -1, messages: Array.from({ length: 500 }, (_, i) => event(i + 1, 1)) });
    let writing = true;
    let version = 2;
    const writer = (async () => {
      while (writing) {
        await producer.send({ topic: 'films-busy', acks: -1, messages: Array.from({ length: 50 }, (_, i) => event(i + 1, version)) });
        version++;
        // A steady trickle, not a flood: the point is writes during the read, on a machine the read shares.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const inventory = await topicInventory(kafka, TABLE, { topic: 'films-busy' });
    writing = false;
    await writer;
    const highs = String(inventory.figures.highWatermarks)
      .split(',')
      .map((p) => Number(p.split(':')[1]));
    const read = highs.reduce((a, b) => a + b, 0);
    // Exactly what was there when the read began: no message past a watermark, none short of it.
    expect(inventory.figures.messages).toBe(read);
    expect(read).toBeGreaterThanOrEqual(500);
    expect(inventory.findings).toEqual([]);
    // The producer went on writing during the read: the topic holds more than was read.
    const total = (await topicWatermarks(kafka, 'films-busy')).reduce((sum, w) => sum + Number(w.high), 0);
    expect(total).toBeGreaterThan(read);
  }, 180_000);
});

describe('resetting a consumer group to a time', () => {
  const OLD = Date.UTC(2026, 0, 1, 10, 0, 0);
  const NEW = Date.UTC(2026, 0, 1, 12, 0, 0);

  async function consumeAll(group: string, topic: string, count: number): Promise<string[]> {
    const consumer = kafka.kafka.consumer({ groupId: group });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const keys: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          keys.push(message.key!.toString());
          if (keys.length >= count) resolve();
        },
      });
    });
    await consumer.disconnect();
    return keys;
  }

  async function committed(group: string, topic: string): Promise<Record<number, string>> {
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return Object.fromEntries(offsets!.partitions.map((p) => [p.partition, p.offset]));
    } finally {
      await admin.disconnect();
    }
  }

  it('moves a real group back (the dry run first changes nothing) and refuses while a member is active', async () => {
    const topic = 'orders';
    await ensureTopics(kafka, [topic]);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 40 }, (_, i) => ({ ...event(i + 1, 1), timestamp: String(OLD) })) });
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ ...event(i + 1, 2), timestamp: String(NEW) })) });
    expect(await consumeAll('billing', topic, 60)).toHaveLength(60);
    const before = await committed('billing', topic);
    expect(Object.values(before).reduce((sum, o) => sum + Number(o), 0)).toBe(60);

    const audit = { database: { url, schema: SCHEMA, migrateOnStart: false } };
    const to = new Date(NEW - 60_000);
    const plan = await resetConsumerOffsets(kafka, { group: 'billing', topic, to, dryRun: true, actor: 'test', audit });
    expect(plan.applied).toBe(false);
    expect(plan.partitions.reduce((sum, p) => sum + p.reconsumed, 0)).toBe(20);
    expect(plan.messages).toHaveLength(20);
    expect(plan.messages.every((m) => m.timestamp === new Date(NEW).toISOString())).toBe(true);
    expect(await committed('billing', topic)).toEqual(before);
    expect(await listActions({ kind: 'kafka.offsets.reset' }, audit.database)).toEqual([]);

    const reset = await resetConsumerOffsets(kafka, { group: 'billing', topic, to, dryRun: false, actor: 'test', reason: 'replay billing', audit });
    expect(reset.applied).toBe(true);
    expect(await committed('billing', topic)).toEqual(Object.fromEntries(plan.partitions.map((p) => [p.partition, p.target])));
    // The group consumes again exactly the messages from the time on.
    const again = await consumeAll('billing', topic, 20);
    expect(again.sort()).toEqual(plan.messages.map((m) => m.key!).sort());
    const [action] = await listActions({ kind: 'kafka.offsets.reset' }, audit.database);
    expect(action).toMatchObject({ actor: 'test', reason: 'replay billing', subject: `billing/${topic}` });

    // A member still consuming: the reset is refused and the offsets stay.
    await consumeAll('shipping', topic, 60);
    const shippingBefore = await committed('shipping', topic);
    const active = kafka.kafka.consumer({ groupId: 'shipping' });
    consumers.push(active);
    await active.connect();
    await active.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      active.on(active.events.GROUP_JOIN, () => resolve());
      void active.run({ eachMessage: async () => undefined });
    });
    await expect(
      resetConsumerOffsets(kafka, { group: 'shipping', topic, to, dryRun: false, actor: 'test', audit, joinTimeoutInMs: 20_000 }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await committed('shipping', topic)).toEqual(shippingBefore);
    await active.disconnect();
  }, 300_000);
});
