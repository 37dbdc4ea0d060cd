/**
 * The outbox relay timer on the local host, with the app's own function modules: registered on its schedule when
 * Kafka brokers are set, and firing it publishes the due outbox rows to the mock cluster.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { appHostJson, loadFunctionModules } from '../../cli/support/local-run';
import { connectPostgres } from '../../shared/postgres/connection';
import { migrateStateDatabase } from '../../shared/state-db/migration-runner';
import { insertOutboxRows } from '../kafka/outbox-fixtures';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let mock: KafkaMock;
let client: Client;
let host: LocalHost;
let workDir: string;
const saved = { ...process.env };

beforeAll(async () => {
  [pg, mock] = await Promise.all([startPostgres(), startKafkaMock()]);
  const url = await pg.createDatabase('state');
  client = await connectPostgres(url);
  await migrateStateDatabase(client, { schema: 'icebridge' });
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-outbox-timer-'));
  process.env.ICEBRIDGE_WAREHOUSE = path.join(workDir, 'warehouse');
  process.env.ICEBRIDGE_STATE_DATABASE_URL = url;
  process.env.ICEBRIDGE_KAFKA_BROKERS = mock.brokers.join(',');
  process.env.ICEBRIDGE_OUTBOX_RELAY_SCHEDULE = '0 */5 * * * *';
  host = await LocalHost.load(loadFunctionModules, { stateDir: path.join(workDir, 'state'), hostJson: appHostJson(), log: silentHostLog });
}, 300_000);

afterAll(async () => {
  await host?.close();
  await client?.end().catch(() => undefined);
  await Promise.all([pg?.stop(), mock?.stop()]);
  process.env = saved;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the outbox relay timer', () => {
  it('is registered on its schedule and publishes the due rows when it fires', async () => {
    expect(host.functions.get('outboxRelayTimer')?.trigger.schedule).toBe('0 */5 * * * *');
    await insertOutboxRows(client, { schema: 'icebridge', topic: 'films', keys: 10, versions: 3 });
    await host.fireTimer('outboxRelayTimer');
    const { rows } = await client.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM icebridge.outbox GROUP BY status`);
    expect(rows).toEqual([{ status: 'published', n: 30 }]);
  }, 120_000);
});
