/**
 * The stream gives the values the copy gives, end to end: the copy's type matrix (every type it reads in binary:
 * integers, floats with NaN, ±Infinity and -0, numerics wide and narrow, dates and timestamps at their limits,
 * intervals, bytea, uuid, json, jsonb, bit varying, enums, domains, arrays of them, tsvector, char, name, oid, …)
 * is migrated once by the copy and once by the stream (inserted after the slot into a table migrated empty with
 * --cdc, then updated, TOASTed values left unchanged, and moved to another key and back), and the two Iceberg
 * tables must hold the same values, both equal to the source in the verifier's canonical forms. What the stream
 * cannot carry (a column the copy reads as text, a value no Iceberg type holds) stops the sync, named.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCommand } from '../../cli/commands/sync';
import { runMigration } from '../../cli/support/run-migration';
import type { Value } from '../../shared/iceberg/spec/values';
import { LocalFileIO } from '../../shared/iceberg/io';
import { scanToArray } from '../../shared/iceberg/scan/table-scan';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { describeTable } from '../../shared/postgres/introspect';
import { quoteIdent } from '../../shared/postgres/identifiers';
import { mapTable } from '../../shared/postgres/type-mapping';
import { EDGE, EDGE_SQL } from '../cdc/replication-harness';
import { expectExact, migrateCdc } from './support/cdc-proof';
import { localCatalog, withClient } from './support/migration-fixtures';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let url: string;
let workDir: string;

beforeAll(async () => {
  pg = await startPostgres({ logical: true });
  url = await pg.createDatabase('samevalues');
  // The edge-case fixture uses Pagila's domain; it is all this database needs of Pagila.
  await withClient(url, (client) => client.query(`CREATE DOMAIN public."bıgınt" AS bigint`));
  await pg.loadSqlFile('samevalues', EDGE_SQL);
  workDir = await mkdtemp(path.join(tmpdir(), 'icebridge-same-values-'));
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** A value as exact text: bigints, bytes, -0, NaN and nesting all visible, so equal text means equal value. */
function exact(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return `x${Buffer.from(value).toString('hex')}`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${exact(k)}:${exact(v)}`).join(',')}}`;
  return `[${value.map(exact).join(',')}]`;
}

/** The table's rows by key (the first column), each column as exact text. */
async function rowsOf(warehouse: string, name: string): Promise<{ columns: string[]; rows: Map<string, string[]> }> {
  const table = await localCatalog(warehouse).loadTable({ namespace: ['public'], name });
  const columns = currentSchema(table.metadata).fields.map((f) => f.name);
  const rows = new Map<string, string[]>();
  for (const row of await scanToArray(new LocalFileIO(), table.metadata)) {
    const key = exact(row[0] ?? null);
    if (rows.has(key)) throw new Error(`${name}: key ${key} twice`);
    rows.set(
      key,
      row.map((v) => exact(v ?? null)),
    );
  }
  return { columns, rows };
}

async function sync(runId: string, warehouse: string): Promise<{ status: number; err: string }> {
  const err: string[] = [];
  const status = await syncCommand(
    ['--run', runId, '--source', url, '--warehouse', warehouse, '--until-caught-up', '--flush-interval-ms', '100'],
    { write: () => undefined },
    { write: (t) => void err.push(t) },
    {},
  );
  return { status, err: err.join('') };
}

describe('the stream and the copy', () => {
  it('give the same value for every type the copy reads in binary', async () => {
    const matrix = await withClient(url, (client) => describeTable(client, EDGE, 'Order'));
    // Columns the copy reads as PostgreSQL text are refused by the stream (the last test); generated ones are not published.
    const mapping = mapTable(matrix);
    const dropped = [
      ...mapping.columns.filter((c) => c.transfer === 'text').map((c) => c.name),
      ...matrix.columns.filter((c) => c.generated !== undefined).map((c) => c.name),
    ];
    expect(mapping.columns.length - dropped.length).toBeGreaterThan(30);
    const edge = quoteIdent(EDGE);
    await withClient(url, async (client) => {
      for (const name of ['matrix_copied', 'matrix_streamed']) {
        // LIKE keeps the key, domains, enums and typmods; the dropped columns stay in the catalog as dropped ones.
        await client.query(`CREATE TABLE public.${name} (LIKE ${edge}."Order" INCLUDING ALL)`);
        for (const column of dropped) await client.query(`ALTER TABLE public.${name} DROP COLUMN ${quoteIdent(column)}`);
      }
      const columns = mapping.columns.filter((c) => !dropped.includes(c.name)).map((c) => quoteIdent(c.name));
      await client.query(`INSERT INTO public.matrix_copied (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${edge}."Order"`);
      // Values stored out of line (TOAST): an update that leaves them alone does not send them.
      await client.query(
        `INSERT INTO public.matrix_copied ("select", "a""b;DROP TABLE x", b, jb, ta)
         SELECT 7, string_agg(md5(g::text), ''), decode(string_agg(md5(g::text), ''), 'hex'),
                jsonb_build_object('big', string_agg(md5((g * 3)::text), '')), array_agg(md5((g * 5)::text))
         FROM generate_series(1, 6000) g`,
      );
    });
    const copiedWarehouse = path.join(workDir, 'copied');
    const copied = await runMigration({
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, tables: ['matrix_copied'], verify: 'none' },
      sourceUrl: url,
      warehouse: copiedWarehouse,
      stateDir: path.join(workDir, 'state-copied'),
    });
    expect(copied.runtimeStatus, copied.lastError).toBe('Completed');

    const streamedWarehouse = path.join(workDir, 'streamed');
    const runId = await migrateCdc(url, 'public', ['matrix_streamed'], streamedWarehouse, workDir);
    await withClient(url, async (client) => {
      await client.query(`INSERT INTO public.matrix_streamed SELECT * FROM public.matrix_copied`);
      // Every row through an update that leaves its TOASTed values unchanged, then to another key and back.
      await client.query(`UPDATE public.matrix_streamed SET i2 = i2`);
      await client.query(`UPDATE public.matrix_streamed SET "select" = "select" + 100`);
      await client.query(`UPDATE public.matrix_streamed SET "select" = "select" - 100`);
    });
    const synced = await sync(runId, streamedWarehouse);
    expect(synced.status, synced.err).toBe(0);

    const [a, b] = await Promise.all([rowsOf(copiedWarehouse, 'matrix_copied'), rowsOf(streamedWarehouse, 'matrix_streamed')]);
    expect(b.columns).toEqual(a.columns);
    expect([...b.rows.keys()].sort()).toEqual([...a.rows.keys()].sort());
    expect(a.rows.size).toBe(7);
    const differing: string[] = [];
    for (const [key, row] of a.rows) {
      const other = b.rows.get(key)!;
      a.columns.forEach((column, i) => {
        if (row[i] !== other[i]) differing.push(`row ${key}, ${column}: copy ${row[i]!.slice(0, 120)} stream ${other[i]!.slice(0, 120)}`);
      });
    }
    expect(differing).toEqual([]);
    await expectExact(url, copiedWarehouse, 'public', 'matrix_copied');
    await expectExact(url, streamedWarehouse, 'public', 'matrix_streamed');
  }, 300_000);

  it('stops the sync, named, at a column read as text and at a value no Iceberg type holds', async () => {
    await withClient(url, async (client) => {
      await client.query(`CREATE TABLE public.hosts (id int PRIMARY KEY, ip inet)`);
      await client.query(`CREATE TABLE public.amounts (id int PRIMARY KEY, amount numeric(10, 2))`);
      await client.query(`CREATE TABLE public.moments (id int PRIMARY KEY, at timestamptz)`);
    });
    for (const [table, insert, message] of [
      ['hosts', `INSERT INTO public.hosts VALUES (1, '10.0.0.1')`, /column ip of public\.hosts \(inet\) is copied as PostgreSQL's text output/],
      ['amounts', `INSERT INTO public.amounts VALUES (1, 'NaN')`, /table public\.amounts, column amount.*"NaN" cannot be stored exactly/],
      ['moments', `INSERT INTO public.moments VALUES (1, 'infinity')`, /table public\.moments, column at.*"infinity" cannot be stored exactly/],
    ] as const) {
      const warehouse = path.join(workDir, `refused-${table}`);
      const runId = await migrateCdc(url, 'public', [table], warehouse, workDir);
      await withClient(url, (client) => client.query(insert));
      const synced = await sync(runId, warehouse);
      expect(synced.status, synced.err).toBe(1);
      expect(synced.err).toMatch(message);
    }
  }, 300_000);
});
