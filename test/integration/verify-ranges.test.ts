/**
 * Verification through the verifyDatabase orchestration, with a table's rows compared per key range: a
 * migration verifies itself (full) clean; then the source changes in different ranges, below the smallest key
 * and above the largest (the open-ended outer ranges), and every change is found, once, by key. A keyless table
 * and an int4-keyed one go through the same orchestration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { runVerification } from '../../cli/support/run-verification';
import type { VerificationStatus } from '../../shared/verify/status/verification-status';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SETUP_SQL = `
CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(14,2), note text, at timestamptz);
INSERT INTO ledger SELECT g, g % 97, (g * 7.31)::numeric(14,2), CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END,
       TIMESTAMPTZ '2024-03-01 00:00:00+00' + g * INTERVAL '1.000001 seconds'
  FROM generate_series(1, 6000) g;
CREATE TABLE small_keys (k int PRIMARY KEY, v text);
INSERT INTO small_keys SELECT g * 3, 'v' || g FROM generate_series(1, 2500) g;
CREATE TABLE loose (a int, b text);
INSERT INTO loose SELECT g % 50, 'b' || (g % 7) FROM generate_series(1, 3000) g;
ANALYZE;
`;

describe('verification by key range', () => {
  let pg: PostgresInstance;
  let dir: string;
  let url: string;
  let admin: Client;

  const verify = (n: number): Promise<VerificationStatus> =>
    runVerification({
      input: { sourceSchema: 'public', namespace: 'public', level: 'full', concurrency: 2, rowsPerRange: 1000, maxDifferences: 50 },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, `verify-state-${n}`),
    });

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('ranges');
    admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(SETUP_SQL);
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-verify-ranges-'));
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs after the migration and finds every table exact', async () => {
    const report = await runMigration({
      // Small partitions: several data files per table, so the key ranges are planned from the files' key bounds.
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 2, verify: 'full', partitionSizeInBytes: 64 * 1024 },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
    });
    expect(report.tables.failed).toBe(0);
    expect(report.verification, JSON.stringify(report)).toMatchObject({ level: 'full', status: 'ok', tables: { total: 3, done: 3, differing: 0, errors: 0 } });
    expect(report.details.map((d) => d.verified)).toEqual(['ok', 'ok', 'ok']);
  }, 120_000);

  it('splits the keyed tables into ranges and compares every row clean', async () => {
    const status = await verify(1);
    expect(
      status.ok,
      JSON.stringify(
        status.report?.tables.filter((t) => t.status !== 'ok'),
        null,
        2,
      ),
    ).toBe(true);
    const ranges = Object.fromEntries(status.details.map((d) => [d.table, d.ranges.total]));
    // At 1000 rows per range, ranges follow the data files: small_keys' 2500 rows lie in two files, so two
    // ranges (three of equal width would cut a file); the keyless table goes in one pass.
    expect(ranges).toEqual({ ledger: 6, small_keys: 2, loose: 0 });
    const tables = status.report!.tables;
    expect(Object.fromEntries(tables.map((t) => [t.table, t.rows?.compared]))).toEqual({
      'public.ledger': '6000',
      'public.small_keys': '2500',
      'public.loose': '3000',
    });
    // What the ranges gathered from the Iceberg side in the same read: rows read, aggregates, the table's 5 samples.
    expect(Object.fromEntries(tables.map((t) => [t.table, t.counts?.targetRead]))).toEqual({
      'public.ledger': '6000',
      'public.small_keys': '2500',
      'public.loose': '3000',
    });
    const ledger = tables.find((t) => t.table === 'public.ledger')!;
    expect(ledger.samples).toHaveLength(5);
    expect(ledger.samples.every((s) => s.target !== null && JSON.stringify(s.source) === JSON.stringify(s.target))).toBe(true);
    expect(ledger.aggregates.find((a) => a.column === 'amount' && a.aggregate === 'sum')).toMatchObject({ source: '131601930', target: '131601930', ok: true });
    expect(ledger.aggregates.find((a) => a.column === 'at' && a.aggregate === 'max')?.ok).toBe(true);
  }, 120_000);

  it('finds changes in several ranges and beyond both ends of the key span, each once', async () => {
    await admin.query("UPDATE ledger SET note = 'changed' WHERE id = 1500");
    await admin.query('UPDATE ledger SET amount = amount + 0.01 WHERE id = 5999');
    await admin.query('DELETE FROM ledger WHERE id = 3333');
    await admin.query("INSERT INTO ledger VALUES (-5, 1, 1.00, 'below', NULL), (99999, 1, 2.00, 'above', NULL)");
    await admin.query("UPDATE small_keys SET v = 'w' WHERE k = 7500");
    try {
      const status = await verify(2);
      expect(status.ok).toBe(false);
      const ledger = status.report!.tables.find((t) => t.table === 'public.ledger')!;
      expect(ledger.status).toBe('differs');
      expect(ledger.rows!.differing).toBe('5');
      // The aggregates merged from the ranges see the changes too.
      expect(ledger.aggregates.filter((a) => !a.ok).map((a) => `${a.column} ${a.aggregate}`)).toEqual(
        expect.arrayContaining(['id min', 'id max', 'amount sum', 'note count']),
      );
      const found = ledger.rows!.differences.map((d) => [d.key.id, d.kind, d.columns.map((c) => c.column).join(',')]).sort();
      expect(found).toEqual([
        ['-5', 'MISSING_IN_TARGET', 'id,account,amount,note,at'],
        ['1500', 'VALUE_MISMATCH', 'note'],
        ['3333', 'EXTRA_IN_TARGET', 'id,account,amount,note,at'],
        ['5999', 'VALUE_MISMATCH', 'amount'],
        ['99999', 'MISSING_IN_TARGET', 'id,account,amount,note,at'],
      ]);
      const amount = ledger.rows!.differences.find((d) => d.key.id === '5999')!.columns[0]!;
      // Canonical decimal text: exact, trailing fractional zeros dropped (5999 * 7.31 = 43852.69).
      expect([amount.source, amount.target]).toEqual(['43852.7', '43852.69']);
      const smallKeys = status.report!.tables.find((t) => t.table === 'public.small_keys')!;
      expect(smallKeys.rows!.differences).toMatchObject([
        { key: { k: '7500' }, kind: 'VALUE_MISMATCH', columns: [{ column: 'v', source: 'w', target: 'v2500' }] },
      ]);
      expect(status.report!.tables.find((t) => t.table === 'public.loose')!.status).toBe('ok');
    } finally {
      await admin.query('UPDATE ledger SET note = NULL WHERE id = 1500'); // 1500 % 5 = 0: its note was NULL
      await admin.query('UPDATE ledger SET amount = amount - 0.01 WHERE id = 5999');
      await admin.query(
        "INSERT INTO ledger SELECT 3333, 3333 % 97, (3333 * 7.31)::numeric(14,2), 'n3333', TIMESTAMPTZ '2024-03-01 00:00:00+00' + 3333 * INTERVAL '1.000001 seconds'",
      );
      await admin.query('DELETE FROM ledger WHERE id IN (-5, 99999)');
      await admin.query("UPDATE small_keys SET v = 'v2500' WHERE k = 7500");
    }
    // The undo is exact, so the same verification is clean again.
    const undone = await verify(3);
    expect(
      undone.ok,
      JSON.stringify(
        undone.report?.tables.filter((t) => t.status !== 'ok'),
        null,
        1,
      ),
    ).toBe(true);
  }, 180_000);

  it('verifies the ranges in this thread, with the same findings, when copy workers are off', async () => {
    await admin.query("UPDATE ledger SET note = 'changed in one thread' WHERE id = 2500");
    process.env.ICEBRIDGE_COPY_WORKERS = '0';
    try {
      const status = await verify(4);
      const ledger = status.report!.tables.find((t) => t.table === 'public.ledger')!;
      expect(Object.fromEntries(status.details.map((d) => [d.table, d.ranges.total])).ledger).toBe(6);
      expect(ledger.rows!.differences.map((d) => [d.key.id, d.kind, d.columns.map((c) => c.column).join(',')])).toEqual([['2500', 'VALUE_MISMATCH', 'note']]);
    } finally {
      delete process.env.ICEBRIDGE_COPY_WORKERS;
      await admin.query('UPDATE ledger SET note = NULL WHERE id = 2500'); // 2500 % 5 = 0: its note was NULL
    }
  }, 120_000);
});
