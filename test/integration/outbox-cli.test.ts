/**
 * `icebridge outbox status` and `icebridge outbox relay --once` against a real PostgreSQL and the mock Kafka
 * cluster: status counts the pending rows, the relay publishes them and stops, status then counts them published.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputSink } from '../support/output-sink';
import { outboxCommand } from '../../cli/commands/outbox';
import { connectPostgres } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { insertOutboxRows } from '../kafka/outbox-fixtures';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let mock: KafkaMock;
let url: string;
let client: Client;

beforeAll(async () => {
  [pg, mock] = await Promise.all([startPostgres(), startKafkaMock()]);
  url = await pg.createDatabase('state');
  client = await connectPostgres(url);
  await migrateStateDatabase(client, { schema: 'icebridge' });
}, 180_000);

afterAll(async () => {
  await client?.end().catch(() => undefined);
  await Promise.all([pg?.stop(), mock?.stop()]);
});

describe('icebridge outbox', () => {
  it('counts, relays once and counts again', async () => {
    await insertOutboxRows(client, { schema: 'icebridge', topic: 'films', keys: 30, versions: 5 });
    const before = outputSink();
    expect(await outboxCommand(['status', '--database', url, '--json'], before, outputSink(), {})).toBe(0);
    expect(JSON.parse(before.text)).toEqual([expect.objectContaining({ topic: 'films', pending: 150, published: 0, failed: 0 })]);

    const out = outputSink();
    const err = outputSink();
    const code = await outboxCommand(['relay', '--once', '--batch', '40', '--database', url, '--brokers', mock.brokers.join(',')], out, err, {});
    expect({ code, err: err.text }).toEqual({ code: 0, err: '' });
    expect(out.text).toMatch(/150 published in 4 round\(s\), 0 failed send\(s\), 0 row\(s\) marked failed; stopped: drained/);

    const after = outputSink();
    expect(await outboxCommand(['status', '--database', url], after, outputSink(), {})).toBe(0);
    expect(after.text).toMatch(/films\s+0\s+150\s+0\s+0 s\s+0/);
  }, 120_000);
});
