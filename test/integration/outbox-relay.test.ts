/**
 * The outbox relay against librdkafka's mock cluster (three brokers) and a real PostgreSQL: three relays at once
 * publish each of 10,000 rows exactly once, every key's events in version order; a dead broker puts rows back with
 * a backoff, counts attempts, marks them failed after the last one with a bounded, secret-free error, and holds
 * back a key's later rows; service_tracking shows each relay.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/support/free-port';
import { EVENT_HEADERS } from '../../shared/kafka/event-headers';
import { type KafkaConnection, connectKafka } from '../../shared/kafka/kafka-client';
import type { KafkaSettings } from '../../shared/kafka/kafka-settings';
import { readTopic } from '../../shared/kafka/topic-reader';
import { relayOutbox } from '../../shared/outbox/outbox-relay';
import { outboxStatus } from '../../shared/outbox/outbox-status';
import { connectPostgres } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { insertOutboxRows } from '../kafka/outbox-fixtures';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SCHEMA = 'icebridge';
const SETTINGS = { batch: 250, maxAttempts: 3, leaseInMs: 120_000, backoffBaseInMs: 60_000, backoffMaxInMs: 600_000 };

let pg: PostgresInstance;
let url: string;
let client: Client;
let mock: KafkaMock;
let kafka: KafkaConnection;

function kafkaSettings(brokers: string[], extra: Partial<KafkaSettings> = {}): KafkaSettings {
  return { brokers, clientId: 'icebridge-test', ssl: false, partitions: 4, idempotent: false, ...extra };
}

beforeAll(async () => {
  [pg, mock] = await Promise.all([startPostgres(), startKafkaMock()]);
  url = await pg.createDatabase('state');
  client = await connectPostgres(url);
  await migrateStateDatabase(client, { schema: SCHEMA });
  kafka = connectKafka(kafkaSettings(mock.brokers));
}, 180_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await Promise.all([pg?.stop(), mock?.stop()]);
});

describe('three relays at once', () => {
  it('publish each of 10,000 rows exactly once, every key in version order', async () => {
    const events = await insertOutboxRows(client, { schema: SCHEMA, topic: 'films', keys: 500, versions: 20 });
    expect(events).toHaveLength(10_000);

    const relays = await Promise.all(
      ['a', 'b', 'c'].map((name) => relayOutbox({ database: { url, schema: SCHEMA }, kafka, settings: SETTINGS, once: true, instance: `relay-${name}` })),
    );
    expect(relays.reduce((sum, r) => sum + r.published, 0)).toBe(10_000);
    expect(relays.every((r) => r.failedSends === 0)).toBe(true);

    const seen = new Map<string, number>();
    const versionsByKey = new Map<string, number[]>();
    const partitionOfKey = new Map<string, number>();
    await readTopic(kafka, 'films', (m) => {
      const id = m.headers[EVENT_HEADERS.eventId]!;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const key = m.key!;
      expect(partitionOfKey.get(key) ?? m.partition).toBe(m.partition);
      partitionOfKey.set(key, m.partition);
      versionsByKey.set(key, [...(versionsByKey.get(key) ?? []), Number(m.headers[EVENT_HEADERS.version])]);
      expect(JSON.parse(m.value!.toString('utf8'))).toMatchObject({ key });
      // jsonb's numbers reach Kafka digit for digit: the payload is PostgreSQL's text, never a parsed double.
      expect(m.value!.toString('utf8')).toContain('12345678901234567890');
    });
    expect(seen.size).toBe(10_000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    for (const e of events) expect(seen.has(e.eventId)).toBe(true);
    const inOrder = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const [key, versions] of versionsByKey) expect({ key, versions }).toEqual({ key, versions: inOrder });

    const status = await outboxStatus(client, SCHEMA);
    expect(status).toEqual([{ topic: 'films', pending: 0, published: 10_000, failed: 0, oldestPendingSeconds: 0, blockedKeys: 0 }]);
    const tracked = await client.query<{ instance: string; status: string; published: number }>(
      `SELECT instance, status, (detail->>'published')::int AS published FROM ${SCHEMA}.service_tracking WHERE service = 'outbox-relay' ORDER BY instance`,
    );
    expect(tracked.rows.map((r) => [r.instance, r.status])).toEqual([
      ['relay-a', 'stopped'],
      ['relay-b', 'stopped'],
      ['relay-c', 'stopped'],
    ]);
    expect(tracked.rows.map((r) => r.published)).toEqual(relays.map((r) => r.published));
  }, 300_000);
});

describe('a broker that cannot be reached', () => {
  it('backs off, counts attempts, marks rows failed after the last one, and holds back the key', async () => {
    await client.query(`TRUNCATE ${SCHEMA}.outbox, ${SCHEMA}.event_store CASCADE`);
    await insertOutboxRows(client, { schema: SCHEMA, topic: 'dead', keys: 2, versions: 2, label: 'dead' });
    const canary = `canary${Date.now()}secret`;
    const dead = connectKafka(kafkaSettings([`127.0.0.1:${await freePort()}`], { sasl: { mechanism: 'plain', username: 'relay', password: canary } }), {
      retries: 0,
      connectionTimeoutInMs: 1_000,
      requestTimeoutInMs: 2_000,
    });
    const logged: string[] = [];
    type Row = { message_key: string; attempts: number; status: string; last_error: string | null; wait: number };
    const rows = async (): Promise<Row[]> =>
      (
        await client.query<Row>(
          `SELECT message_key, attempts, status, last_error, extract(epoch FROM next_attempt_at - now())::float8 AS wait FROM ${SCHEMA}.outbox ORDER BY id`,
        )
      ).rows;

    const first = await relayOutbox({ database: { url, schema: SCHEMA }, kafka: dead, settings: SETTINGS, once: true, log: (l) => logged.push(l) });
    expect(first).toMatchObject({ published: 0, failedSends: 1, failed: 0 });
    const afterOne = await rows();
    // Each key's first row was tried (one attempt, due again after at least half the 60 s base); its second row
    // was given back untried: it may not go before the first.
    expect(afterOne.map((r) => [r.message_key, r.attempts, r.status])).toEqual([
      ['1', 1, 'pending'],
      ['2', 1, 'pending'],
      ['1', 0, 'pending'],
      ['2', 0, 'pending'],
    ]);
    for (const r of afterOne.slice(0, 2)) {
      expect(r.wait).toBeGreaterThan(25);
      expect(r.wait).toBeLessThanOrEqual(60);
      expect(r.last_error).toMatch(/ECONNREFUSED|connect|Connection/i);
    }

    // The due rows come round again (made due now instead of waiting) until the last attempt fails them.
    for (let attempt = 2; attempt <= SETTINGS.maxAttempts; attempt++) {
      await client.query(`UPDATE ${SCHEMA}.outbox SET next_attempt_at = now() WHERE status = 'pending' AND attempts > 0`);
      await relayOutbox({ database: { url, schema: SCHEMA }, kafka: dead, settings: SETTINGS, once: true, log: (l) => logged.push(l) });
    }
    const final = await rows();
    expect(final.map((r) => [r.message_key, r.attempts, r.status])).toEqual([
      ['1', 3, 'failed'],
      ['2', 3, 'failed'],
      ['1', 0, 'pending'],
      ['2', 0, 'pending'],
    ]);
    // The failed rows hold their keys: the relay claims nothing even with a live broker.
    const live = await relayOutbox({ database: { url, schema: SCHEMA }, kafka, settings: SETTINGS, once: true });
    expect(live).toMatchObject({ published: 0, rounds: 0 });
    expect(await outboxStatus(client, SCHEMA)).toEqual([expect.objectContaining({ topic: 'dead', pending: 2, failed: 2, blockedKeys: 2 })]);
    // An operator sets the failed rows back: everything goes out, in order.
    await client.query(`UPDATE ${SCHEMA}.outbox SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE status = 'failed'`);
    const retried = await relayOutbox({ database: { url, schema: SCHEMA }, kafka, settings: SETTINGS, once: true });
    expect(retried.published).toBe(4);

    const texts = [...logged, ...final.map((r) => r.last_error ?? '')].join('\n');
    expect(texts).not.toContain(canary);
    expect(texts.length).toBeGreaterThan(0);
  }, 180_000);
});

describe('a relay that keeps running', () => {
  it('waits for new rows, publishes them, and stops on its signal; a deadline stops it before a round', async () => {
    await client.query(`TRUNCATE ${SCHEMA}.outbox, ${SCHEMA}.event_store CASCADE`);
    const stop = new AbortController();
    const running = relayOutbox({ database: { url, schema: SCHEMA }, kafka, settings: SETTINGS, pollInMs: 50, signal: stop.signal, instance: 'relay-long' });
    await insertOutboxRows(client, { schema: SCHEMA, topic: 'later', keys: 5, versions: 2, label: 'later', aggregateType: 'Later' });
    for (;;) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE status = 'published'`);
      if (rows[0]!.n === 10) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop.abort();
    expect(await running).toMatchObject({ published: 10, stoppedBy: 'signal' });
    const { rows } = await client.query<{ status: string }>(`SELECT status FROM ${SCHEMA}.service_tracking WHERE instance = 'relay-long'`);
    expect(rows).toEqual([{ status: 'stopped' }]);

    await insertOutboxRows(client, { schema: SCHEMA, topic: 'later', keys: 1, versions: 1, label: 'deadline', aggregateType: 'Deadline' });
    const late = await relayOutbox({ database: { url, schema: SCHEMA }, kafka, settings: SETTINGS, deadline: Date.now() - 1 });
    expect(late).toMatchObject({ published: 0, rounds: 0, stoppedBy: 'deadline' });
  }, 120_000);
});
