/**
 * The fan-out end to end on real parts: a shop migrated with change capture, its tables loaded into the event store
 * (PostgreSQL), ClickHouse (Debian's server) and Weaviate (the stand-in of test/support/weaviate-standin.ts: no
 * Weaviate server installs here), then a live writer's changes streamed by `icebridge sync --fanout` while
 * `icebridge outbox relay` publishes the events to Kafka (librdkafka's mock cluster, through kcat); both workers
 * are killed with SIGKILL in the middle and run again. The check across the six systems is exact; damage done to
 * each one afterwards (an event version gap, a Kafka message range missing from a fresh topic, a ClickHouse row, a
 * Weaviate object) is found and named by entity, key and system.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutputSink, outputSink } from '../support/output-sink';
import { fanoutCommand } from '../../cli/commands/fanout';
import { jobsCommand } from '../../cli/commands/jobs';
import type { JobResult } from '../../shared/run/job-results';
import { syncCommand } from '../../cli/commands/sync';
import { syncBatch } from '../../functions/activities/sync-activities';
import { SyncTableCache } from '../../functions/activities/sync-table-cache';
import { loadSettings } from '../../shared/config/settings';
import { environmentFromSettings } from '../../shared/run/environment';
import type { FanoutConsistencyReport } from '../../shared/fanout/consistency/check-fanout';
import { objectId } from '../../shared/fanout/identity';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';
import { openClickHouse, queryTexts } from '../../shared/clickhouse/clickhouse-connection';
import { type ClickHouseInstance, startClickHouse } from './support/clickhouse-server';
import { migrateCdc, waitFor } from './support/cdc-proof';
import { killGroup, startCli, withClient } from './support/migration-fixtures';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';
import { outboxCommand } from '../../cli/commands/outbox';
import { ACKS_ALL, connectKafka, connectProducer } from '../../shared/kafka/kafka-client';
import { kafkaSettingsFromEnv } from '../../shared/kafka/kafka-settings';
import { type TopicMessage, readTopic } from '../../shared/kafka/topic-reader';
import { type PostgresInstance, startPostgres } from './support/postgres';
import { startSync } from './support/sync-process';

let pg: PostgresInstance;
let url: string;
let workDir: string;
let warehouse: string;
let runId: string;
let weaviate: WeaviateStandin;
let clickhouse: ClickHouseInstance;
let kafka: KafkaMock;
const env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('fanshop');
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-fanout-e2e-'));
  warehouse = path.join(workDir, 'warehouse');
  weaviate = await startWeaviateStandin();
  clickhouse = await startClickHouse({ database: 'fanshop' });
  kafka = await startKafkaMock();
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text, joined_at timestamptz NOT NULL)');
    await client.query(
      'CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, amount numeric(10,2) NOT NULL, note text, placed_on date NOT NULL)',
    );
    await client.query(
      `INSERT INTO customer SELECT g, 'customer ' || g, 'c' || g || '@example.com', timestamptz '2024-01-01' + g * interval '1 hour' FROM generate_series(1, 300) g`,
    );
    await client.query(
      `INSERT INTO orders SELECT g, 1 + g % 300, (g % 997) * 1.01, 'order note ' || g, date '2024-01-01' + (g % 400) FROM generate_series(1, 3000) g`,
    );
    await migrateStateDatabase(client, { schema: 'icebridge' });
  });
  runId = await migrateCdc(url, 'public', ['customer', 'orders'], warehouse, workDir);
  Object.assign(env, {
    ICEBRIDGE_STATE_DATABASE_URL: url,
    ICEBRIDGE_WEAVIATE_URL: weaviate.url,
    ICEBRIDGE_CLICKHOUSE_URL: clickhouse.settings.url,
    ICEBRIDGE_CLICKHOUSE_USER: clickhouse.settings.user,
    ICEBRIDGE_CLICKHOUSE_PASSWORD: clickhouse.settings.password,
    ICEBRIDGE_CLICKHOUSE_DATABASE: clickhouse.settings.database,
    ICEBRIDGE_KAFKA_BROKERS: kafka.brokers.join(','),
    // Rows the killed relay had claimed are published again once their lease ends: short here, 300 s by default.
    ICEBRIDGE_OUTBOX_LEASE_SECONDS: '5',
  });
}, 300_000);

afterAll(async () => {
  await weaviate?.close();
  await clickhouse?.stop();
  await kafka?.stop();
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Output of an in-process command. */
function capture(): { stream: OutputSink; text(): string } {
  const stream = outputSink();
  return { stream, text: () => stream.text };
}

async function fanout(extra: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await fanoutCommand([...args, '--warehouse', warehouse, '--run', runId, '--source', url], out.stream, err.stream, {
    ...process.env,
    ...env,
    ...extra,
  });
  return { code, out: out.text(), err: err.text() };
}

async function check(extra: NodeJS.ProcessEnv = {}): Promise<FanoutConsistencyReport> {
  const dir = path.join(workDir, `report-${Date.now()}`);
  const result = await fanout(extra, 'check', '--json', '--report-dir', dir);
  expect(result.err).toBe('');
  const report = JSON.parse(result.out) as FanoutConsistencyReport;
  expect(JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8'))).toMatchObject({ differenceCount: report.differenceCount });
  return report;
}

/** Orders and customers written, changed and deleted in small transactions until stopped. */
function startWriter(): { stop(): Promise<number> } {
  let running = true;
  let rounds = 0;
  const done = withClient(url, async (client) => {
    while (running) {
      const n = rounds++;
      await client.query('BEGIN');
      await client.query(`INSERT INTO customer VALUES ($1, $2, NULL, now())`, [10_000 + n, `new customer ${n}`]);
      await client.query(`INSERT INTO orders VALUES ($1, $2, 12.34, 'new', current_date)`, [100_000 + n, 10_000 + n]);
      await client.query(`UPDATE orders SET amount = amount + 1, note = note || '+' WHERE id = $1`, [1 + (n % 3000)]);
      await client.query(`DELETE FROM orders WHERE id = $1`, [3000 - (n % 1000)]);
      await client.query('COMMIT');
    }
  });
  return {
    stop: async () => {
      running = false;
      await done;
      return rounds;
    },
  };
}

async function publishedCount(): Promise<number> {
  return withClient(url, async (client) =>
    Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM icebridge.outbox WHERE status = 'published'")).rows[0]!.n),
  );
}

async function eventCount(): Promise<number> {
  return withClient(url, async (client) => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM icebridge.event_store')).rows[0]!.n));
}

describe('the fan-out end to end', () => {
  it('loads, streams through a SIGKILL, and every system agrees exactly', async () => {
    const loaded = await fanout({}, 'load');
    expect(loaded.code, loaded.err).toBe(0);
    expect(await eventCount()).toBe(3300);
    // The similarity smoke check follows the load: each sampled object finds itself first.
    expect(loaded.out).toMatch(/weaviate similarity public\.customer \(Customer\): 5 of 5 sampled objects found themselves first/);

    const writer = startWriter();
    Object.assign(process.env, env);
    const run = startSync(['--warehouse', warehouse, '--run', runId, '--source', url, '--fanout', '--flush-interval-ms', '100']);
    const relay = startCli(['outbox', 'relay', '--batch', '200'], env);
    // Both workers killed once the sinks hold some of the stream and Kafka some of the events: wherever they are.
    await waitFor('the sinks to take streamed changes', async () => ((await eventCount()) > 3400 ? true : undefined), 180_000, 100);
    await waitFor('the relay to publish', async () => ((await publishedCount()) > 1000 ? true : undefined), 180_000, 100);
    killGroup(run);
    killGroup(relay);
    await Promise.all([run.exited, relay.exited]);
    const rounds = await writer.stop();
    expect(rounds).toBeGreaterThan(10);

    const out = capture();
    const err = capture();
    const status = await syncCommand(['--warehouse', warehouse, '--run', runId, '--source', url, '--fanout', '--until-caught-up'], out.stream, err.stream, {
      ...process.env,
      ...env,
    });
    expect(status, err.text()).toBe(0);
    // Drained by a relay run to the end, again until the rows the killed relay held come due.
    const events = await eventCount();
    await waitFor(
      'every event published',
      async () => {
        const drained = capture();
        expect(await outboxCommand(['relay', '--once'], drained.stream, drained.stream, { ...process.env, ...env }), drained.text()).toBe(0);
        return (await publishedCount()) === events ? true : undefined;
      },
      120_000,
      1_000,
    );

    const report = await check();
    expect(report.systems).toEqual(['postgres', 'iceberg', 'event-store', 'kafka', 'clickhouse', 'weaviate']);
    expect(report.differenceCount, JSON.stringify(report.tables.map((t) => t.differences.slice(0, 5)))).toBe(0);
    for (const table of report.tables) {
      const counts = Object.values(table.counts);
      expect(new Set(counts).size, table.table).toBe(1);
    }
  }, 600_000);

  it('the orchestrated sync feeds the systems too when the app is set to', async () => {
    await withClient(url, async (client) => {
      await client.query(`INSERT INTO customer VALUES (20000, 'from the app', NULL, now())`);
      await client.query(`UPDATE orders SET note = 'changed by the app' WHERE id = 42`);
      await client.query(`UPDATE orders SET note = 'changed by the app again' WHERE id = 42`);
      await client.query(`DELETE FROM orders WHERE id = 43`);
    });
    const environment = environmentFromSettings(loadSettings({ ICEBRIDGE_SOURCE_URL: url, ICEBRIDGE_WAREHOUSE: warehouse }));
    const input = { syncId: 'app-sync', runId, namespace: 'public', flushIntervalMs: 100, batchSeconds: 60 };
    const result = await syncBatch(environment, input, new SyncTableCache(), { ...process.env, ...env, ICEBRIDGE_SYNC_FANOUT: 'true' });
    expect(result.outcome).toBe('caught-up');
    const drained = capture();
    expect(await outboxCommand(['relay', '--once'], drained.stream, drained.stream, { ...process.env, ...env }), drained.text()).toBe(0);
    const report = await check();
    expect(report.differenceCount, JSON.stringify(report.tables.map((t) => t.differences.slice(0, 5)))).toBe(0);
    expect(report.tables.find((t) => t.table === 'public.customer')!.counts.weaviate).toBe(
      report.tables.find((t) => t.table === 'public.customer')!.counts.postgres,
    );
  }, 300_000);

  it('names the damage done to each system', async () => {
    // An event version gap: a middle event of an order's stream removed (its outbox row first); order 42 has at
    // least three events (loaded, then changed twice by the orchestrated sync's test).
    await withClient(url, async (client) => {
      await client.query(
        `WITH victim AS (SELECT id FROM icebridge.event_store WHERE aggregate_type = 'Orders' AND aggregate_id = '42' AND version = 2)
         , gone AS (DELETE FROM icebridge.outbox WHERE event_id IN (SELECT id FROM victim))
         DELETE FROM icebridge.event_store WHERE id IN (SELECT id FROM victim)`,
      );
    });
    // A ClickHouse row removed (a mutation, applied in the background).
    const connection = openClickHouse(clickhouse.settings);
    try {
      await connection.command('ALTER TABLE fanshop.public__orders DELETE WHERE id = 11');
      await waitFor('the mutation', async () =>
        (await queryTexts(connection, 'SELECT count() FROM system.mutations WHERE is_done = 0'))[0]![0] === '0' ? true : undefined,
      );
    } finally {
      await connection.close();
    }
    // A range of Kafka messages missing: the topics copied to fresh ones without it, and the check pointed there.
    const topics = connectKafka(kafkaSettingsFromEnv({ ...env })!);
    const producer = await connectProducer(topics);
    try {
      for (const entity of ['Customer', 'Orders']) {
        const messages: TopicMessage[] = [];
        await readTopic(topics, `icebridge.${entity}`, (m) => messages.push(m));
        const kept = messages.filter((m) => entity !== 'Orders' || m.partition !== 0 || m.offset < 100n || m.offset >= 150n);
        for (let i = 0; i < kept.length; i += 500)
          await producer.send({
            topic: `damaged.${entity}`,
            acks: ACKS_ALL,
            messages: kept.slice(i, i + 500).map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: m.partition })),
          });
      }
    } finally {
      await producer.disconnect();
    }
    const damaged = await check({ ICEBRIDGE_EVENTS_TOPIC_PREFIX: 'damaged.' });
    const kafkaDifferences = damaged.tables.flatMap((t) => t.differences).filter((d) => d.systems.includes('kafka'));
    expect(kafkaDifferences.length).toBeGreaterThan(0);
    expect(kafkaDifferences.every((d) => d.entity === 'Orders' && /^\d+$/.test(d.key))).toBe(true);
    // A Weaviate object removed.
    weaviate.objects.get('Customer')!.delete(objectId({ schema: 'public', name: 'customer' }, [7]));
    const report = await check();
    const differences = report.tables.flatMap((t) => t.differences.map((d) => [d.entity, d.key, d.kind, d.systems.join(',')]));
    expect(differences).toEqual(
      expect.arrayContaining([
        ['Orders', '42', 'finding', 'event-store'],
        ['Customer', '7', 'missing', 'weaviate'],
        ['Orders', '11', 'missing', 'clickhouse'],
      ]),
    );
    expect(report.exact).toBe(false);
  }, 300_000);

  it('the nightly consistency job runs the same check and reports the damage', async () => {
    const out = capture();
    const err = capture();
    const status = await jobsCommand(
      ['run', 'consistency', '--warehouse', warehouse, '--source', url, '--state-dir', path.join(workDir, 'jobs'), '--json'],
      out.stream,
      err.stream,
      { ...process.env, ...env },
    );
    expect(status, err.text()).toBe(1);
    const result = JSON.parse(out.text()) as JobResult;
    expect(result.figures.fanoutDifferences).toBe(3);
    expect(result.summary).toMatch(/fan-out of run .*: 3 differences/);
    const html = await readFile(path.join(result.reports!, `fanout-${runId}`, 'report.html'), 'utf8');
    expect(html).toContain('Customer');
  }, 300_000);
});
