/**
 * `icebridge clickhouse backup|restore` against the real server, and the ClickHouse password and URL as secrets:
 * a canary password is used for real (the server's password is the canary: positive control), then every failure
 * reachable here (refused password, closed port, credentials in the URL, the CLI failing) must show it in no form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseCommand } from '../../cli/commands/clickhouse';
import { freePort } from '../../cli/support/free-port';
import { openClickHouse, queryTexts } from '../../shared/clickhouse/clickhouse-connection';
import { ClickHouseSink } from '../../shared/clickhouse/clickhouse-sink';
import { clickHouseFromEnv } from '../../shared/clickhouse/clickhouse-settings';
import { ORDERS, change, micros } from '../clickhouse/fixtures';
import { type Output, captureProcessOutput, describeThrown, findCanary, makeCanary } from '../security/canary';
import { type ClickHouseInstance, startClickHouse } from './support/clickhouse-server';

const CANARY = makeCanary();
const outputs: Output[] = [];
let server: ClickHouseInstance;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startClickHouse({ database: 'cli_test', password: CANARY });
  env = {
    ICEBRIDGE_CLICKHOUSE_URL: server.settings.url,
    ICEBRIDGE_CLICKHOUSE_PASSWORD: CANARY,
    ICEBRIDGE_CLICKHOUSE_DATABASE: 'cli_test',
  };
  const sink = ClickHouseSink.open(clickHouseFromEnv(env)!);
  try {
    await sink.prepare([ORDERS]);
    await sink.apply({ through: 5n, changes: [change(ORDERS, 'insert', [1n, micros('2024-05-01T00:00:00Z'), 100n, 'a'], 5n)] });
  } finally {
    await sink.close();
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function run(argv: string[], withEnv: NodeJS.ProcessEnv): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await clickhouseCommand(argv, { write: (t: string) => ((out += t), true) }, { write: (t: string) => ((err += t), true) }, withEnv);
  outputs.push({ where: `icebridge clickhouse ${argv.join(' ')}`, text: out + err });
  return { status, out, err };
}

async function failure(where: string, work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    const text = describeThrown(error);
    outputs.push({ where, text });
    return text;
  }
  throw new Error(`${where}: expected a failure`);
}

describe('icebridge clickhouse', () => {
  it('backs up, dry-runs and restores a month', async () => {
    const backup = await run(['backup', '--table', 'shop.orders', '--json'], env);
    expect(backup.status, backup.err).toBe(0);
    expect(JSON.parse(backup.out)).toEqual({ table: 'shop__orders', partitions: [{ partition: '202405', rows: 1 }] });
    const connection = openClickHouse(server.settings);
    try {
      await connection.command('TRUNCATE TABLE cli_test.shop__orders');
      const dry = await run(['restore', '--table', 'shop.orders', '--partition', '202405', '--dry-run'], env);
      expect(dry).toMatchObject({ status: 0, out: 'shop__orders: dry run, nothing changed\n  202405: 0 live rows now, 1 after\n' });
      const done = await run(['restore', '--table', 'shop.orders', '--partition', '202405', '--reason', 'test'], env);
      expect(done.status, done.err).toBe(0);
      expect(await queryTexts(connection, 'SELECT id, amount FROM cli_test.shop__orders FINAL FORMAT TabSeparated')).toEqual([['1', '1.00']]);
    } finally {
      await connection.close();
    }
  });

  it('answers usage errors with status 2', async () => {
    expect((await run(['restore', '--table', 'shop.orders'], env)).status).toBe(2);
    expect((await run(['restore', '--table', 'shop.nothing', '--partition', '202401'], env)).status).toBe(2);
    expect((await run(['backup', '--table', 'shop.orders'], {})).err).toMatch(/not configured/);
  });
});

describe('the ClickHouse password and URL', () => {
  it('are used for real and never shown when a call fails', async () => {
    const capture = captureProcessOutput();
    try {
      // Positive control: the canary is the server's password, and it works.
      const connection = openClickHouse(clickHouseFromEnv(env)!);
      expect(await queryTexts(connection, 'SELECT 1 FORMAT TabSeparated')).toEqual([['1']]);
      await connection.close();

      const wrong = openClickHouse({ ...server.settings, password: `${CANARY}x` });
      const refused = await failure('a refused password', () => queryTexts(wrong, 'SELECT 1 FORMAT TabSeparated'));
      expect(refused).toMatch(/password|authenticat/i);
      await wrong.close();

      const closed = openClickHouse({ ...server.settings, url: `http://127.0.0.1:${await freePort()}` });
      await failure('a closed port', () => queryTexts(closed, 'SELECT 1 FORMAT TabSeparated'));
      await closed.close();

      const inUrl = new URL(server.settings.url);
      inUrl.username = 'default';
      inUrl.password = CANARY;
      await failure('credentials in the URL', async () => clickHouseFromEnv({ ...env, ICEBRIDGE_CLICKHOUSE_URL: inUrl.toString() }));
      await failure('a malformed URL', async () => clickHouseFromEnv({ ...env, ICEBRIDGE_CLICKHOUSE_URL: `ht!tp://${CANARY}` }));

      const cli = await run(['backup', '--table', 'shop.orders'], { ...env, ICEBRIDGE_CLICKHOUSE_PASSWORD: `${CANARY}y` });
      expect(cli.status).toBe(1);
    } finally {
      capture.stop();
      outputs.push(...capture.outputs);
    }
    expect(findCanary(CANARY, outputs)).toEqual([]);
  });
});
