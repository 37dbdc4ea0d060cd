/**
 * POST /api/clickhouse/tables/{table}/restore over real HTTP on the local host, against the real ClickHouse
 * server: a dry run, a restore, and the refusals (no operator token, bad body, unknown table, month without backup).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost, type LocalHostListener, silentHostLog } from '../../cli/local-host';
import { openClickHouse, queryTexts } from '../../shared/clickhouse/clickhouse-connection';
import { ClickHouseSink } from '../../shared/clickhouse/clickhouse-sink';
import { backupPartitions, resolveAnalyticsTable } from '../../shared/clickhouse/partition-restore';
import { ORDERS, change, micros } from '../clickhouse/fixtures';
import { type ClickHouseInstance, startClickHouse } from './support/clickhouse-server';

const TOKEN = 'local-test-token';
const SETTINGS = ['ICEBRIDGE_CLICKHOUSE_URL', 'ICEBRIDGE_CLICKHOUSE_PASSWORD', 'ICEBRIDGE_CLICKHOUSE_DATABASE', 'ICEBRIDGE_LOCAL_TOKEN'];
const saved = { ...process.env };
let server: ClickHouseInstance;
let host: LocalHost;
let listener: LocalHostListener;

beforeAll(async () => {
  server = await startClickHouse({ database: 'http_test' });
  Object.assign(process.env, {
    ICEBRIDGE_CLICKHOUSE_URL: server.settings.url,
    ICEBRIDGE_CLICKHOUSE_PASSWORD: server.settings.password,
    ICEBRIDGE_CLICKHOUSE_DATABASE: 'http_test',
    ICEBRIDGE_LOCAL_TOKEN: TOKEN,
  });
  const sink = ClickHouseSink.open(server.settings);
  try {
    await sink.prepare([ORDERS]);
    await sink.apply({ through: 5n, changes: [change(ORDERS, 'insert', [1n, micros('2024-07-01T00:00:00Z'), 100n, 'a'], 5n)] });
  } finally {
    await sink.close();
  }
  const connection = openClickHouse(server.settings);
  try {
    await backupPartitions(connection, await resolveAnalyticsTable(connection, 'shop.orders'), { actor: 'test', audit: { database: null } });
    await connection.command('TRUNCATE TABLE http_test.shop__orders');
  } finally {
    await connection.close();
  }
  host = await LocalHost.load(
    async () => {
      await import('../../functions/http/clickhouse.js');
    },
    { log: silentHostLog },
  );
  listener = await host.listen(0);
}, 120_000);

afterAll(async () => {
  await listener?.close();
  await host?.close();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await server?.stop();
});

async function post(table: string, body: unknown, token = TOKEN): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${listener.url}/api/clickhouse/tables/${encodeURIComponent(table)}/restore`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-icebridge-actor': 'alice' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('POST /api/clickhouse/tables/{table}/restore', () => {
  it('dry-runs, then restores a backed-up month', async () => {
    expect(await post('shop.orders', { partitions: ['202407'], reason: 'emptied by mistake', dryRun: true })).toEqual({
      status: 200,
      body: { table: 'shop__orders', dryRun: true, partitions: [{ partition: '202407', rowsNow: 0, rowsAfter: 1 }] },
    });
    const done = await post('shop.orders', { partitions: ['202407'], reason: 'emptied by mistake' });
    expect(done).toEqual({ status: 200, body: { table: 'shop__orders', dryRun: false, partitions: [{ partition: '202407', rowsNow: 0, rowsAfter: 1 }] } });
    const connection = openClickHouse(server.settings);
    try {
      expect(await queryTexts(connection, 'SELECT id FROM http_test.shop__orders FINAL FORMAT TabSeparated')).toEqual([['1']]);
    } finally {
      await connection.close();
    }
  });

  it('refuses without an operator, a bad body, an unknown table and a month without a backup', async () => {
    expect((await post('shop.orders', { partitions: ['202407'], reason: 'x' }, 'wrong')).status).toBe(401);
    expect((await post('shop.orders', { partitions: ['2024-07'], reason: 'x' })).status).toBe(400);
    expect((await post('shop.orders', { partitions: ['202407'] })).status).toBe(400);
    expect((await post('shop.nothing', { partitions: ['202407'], reason: 'x' })).status).toBe(404);
    expect((await post('shop.orders', { partitions: ['209912'], reason: 'x' })).status).toBe(404);
  });
});
