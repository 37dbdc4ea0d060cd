/**
 * Verification of tables split into scan ranges (heap page ranges against groups of data files): a threshold
 * far below the tables' size splits them, and the report must be the one the single pass gives, clean and with
 * changes; a keyless table at the full level finds a duplicated and a changed row; a partitioned table is cut
 * leaf by leaf.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { runVerification } from '../../cli/support/run-verification';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io';
import { type RunEnvironment, withSource } from '../../shared/run/environment';
import { connectPostgres } from '../../shared/postgres/connection';
import { describeTable } from '../../shared/postgres/introspect';
import type { TableVerification, VerifyLevel } from '../../shared/verify/contracts';
import { planTableScanRanges } from '../../shared/verify/steps/plan-verification';
import { scanRangesBetween } from '../../shared/verify/ranges/scan-ranges';
import { mergeScanRanges } from '../../shared/verify/status/table-status';
import { searchTableRows, verifyScanRange } from '../../shared/verify/steps/verify-scan-range';
import { type VerifyTableRequest, verifyTable } from '../../shared/verify/steps/verify-table';
import type { VerificationStatus } from '../../shared/verify/status/verification-status';
import { type PostgresInstance, startPostgres } from './support/postgres';

const SETUP_SQL = `
CREATE TABLE readings (sensor int NOT NULL, kind text, value numeric(10,2), note text, at timestamptz);
INSERT INTO readings SELECT g % 37, (ARRAY['temp','hum','wind','rain'])[1 + g % 4], (g * 1.37)::numeric(10,2),
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'reading ' || g END, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 minute'
  FROM generate_series(1, 4000) g;
CREATE TABLE events (id int NOT NULL, tag text, amount float8) PARTITION BY RANGE (id);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (MINVALUE) TO (2001);
CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (2001) TO (MAXVALUE);
INSERT INTO events SELECT g, 'tag' || (g % 3), g / 7.0 FROM generate_series(1, 4000) g;
ANALYZE;
`;

/** Bytes per scan range far below the tables' heaps: each is cut into several ranges. */
const SMALL_RANGES = 32 * 1024;

describe('verification in scan ranges', () => {
  let pg: PostgresInstance;
  let dir: string;
  let url: string;
  let admin: Client;
  let run = 0;

  const verify = (level: VerifyLevel, options: { bytesPerScanRange?: number; samples?: number } = {}): Promise<VerificationStatus> =>
    runVerification({
      input: { sourceSchema: 'public', namespace: 'public', level, concurrency: 2, maxDifferences: 50, samples: options.samples ?? 0, ...options },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, `verify-state-${run++}`),
    });

  /** A report's tables without what may differ between two runs: durations, and the aggregates' order. */
  const comparable = (status: VerificationStatus): TableVerification[] =>
    status.report!.tables.map((t) => ({
      ...t,
      durationMs: 0,
      aggregates: [...t.aggregates].sort((a, b) => `${a.column}\u0000${a.aggregate}`.localeCompare(`${b.column}\u0000${b.aggregate}`)),
    }));
  const rangesOf = (status: VerificationStatus) => Object.fromEntries(status.details.map((d) => [d.table, d.ranges.total]));

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('scanranges');
    admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(SETUP_SQL);
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-verify-scan-ranges-'));
    const report = await runMigration({
      // Small partitions: several data files per table, so the file groups differ from one range to the next.
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 2, partitionSizeInBytes: 64 * 1024 },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
    });
    expect(report.tables.failed).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await admin?.end();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports a clean table split into ranges exactly as the single pass does, at both levels', async () => {
    for (const level of ['quick', 'full'] as const) {
      const whole = await verify(level);
      const split = await verify(level, { bytesPerScanRange: SMALL_RANGES });
      expect(rangesOf(whole)).toEqual({ readings: 0, events: 0 });
      const ranges = rangesOf(split);
      expect(ranges.readings).toBeGreaterThan(2);
      // Both leaves of the partitioned table are cut: more ranges than leaves.
      expect(ranges.events).toBeGreaterThan(2);
      expect(
        split.ok,
        JSON.stringify(
          split.report?.tables.filter((t) => t.status !== 'ok'),
          null,
          1,
        ),
      ).toBe(true);
      expect(comparable(split)).toEqual(comparable(whole));
      const readings = split.report!.tables.find((t) => t.table === 'public.readings')!;
      expect(readings.counts).toEqual({ source: '4000', targetManifest: '4000', targetRead: '4000', ok: true });
      // The low-cardinality column keeps its exact group counts.
      expect(
        readings.aggregates
          .filter((a) => a.column === 'kind' && a.aggregate.startsWith('group:'))
          .map((a) => [a.aggregate, a.source, a.ok])
          .sort(),
      ).toEqual([
        ['group:hum', '1000', true],
        ['group:rain', '1000', true],
        ['group:temp', '1000', true],
        ['group:wind', '1000', true],
      ]);
    }
  }, 300_000);

  it("finds each sample's Iceberg row in whichever range reads it", async () => {
    const split = await verify('quick', { bytesPerScanRange: SMALL_RANGES, samples: 6 });
    for (const table of split.report!.tables) {
      expect(table.samples).toHaveLength(6);
      expect(
        table.samples.every((s) => s.target !== null && JSON.stringify(s.source) === JSON.stringify(s.target)),
        JSON.stringify(table.samples),
      ).toBe(true);
    }
  }, 120_000);

  it('finds the same aggregate differences as the single pass after a change, a delete, an insert and a NULL', async () => {
    await admin.query("UPDATE readings SET value = value + 0.01 WHERE note = 'reading 1001'");
    await admin.query("DELETE FROM readings WHERE note = 'reading 2002'");
    await admin.query("INSERT INTO readings VALUES (99, 'snow', 1.00, 'extra', NULL)");
    await admin.query("UPDATE readings SET note = NULL WHERE note = 'reading 3001'");
    await admin.query('UPDATE events SET amount = -1 WHERE id = 3500');
    try {
      const whole = await verify('quick');
      const split = await verify('quick', { bytesPerScanRange: SMALL_RANGES });
      expect(rangesOf(split).readings).toBeGreaterThan(2);
      expect(comparable(split)).toEqual(comparable(whole));
      const readings = split.report!.tables.find((t) => t.table === 'public.readings')!;
      expect(readings.status).toBe('differs');
      expect(readings.counts).toMatchObject({ source: '4000', targetManifest: '4000', ok: true });
      expect(
        readings.aggregates
          .filter((a) => !a.ok)
          .map((a) => `${a.column} ${a.aggregate}`)
          .sort(),
      ).toEqual(expect.arrayContaining(['kind group:snow', 'note count', 'note nulls', 'sensor max', 'value sum']));
      const events = split.report!.tables.find((t) => t.table === 'public.events')!;
      expect(events.aggregates.filter((a) => !a.ok).map((a) => `${a.column} ${a.aggregate}`)).toEqual(['amount min']);
    } finally {
      await admin.query("DELETE FROM readings WHERE note = 'extra'");
      await admin.query(
        "INSERT INTO readings SELECT 2002 % 37, (ARRAY['temp','hum','wind','rain'])[1 + 2002 % 4], (2002 * 1.37)::numeric(10,2), 'reading 2002', TIMESTAMPTZ '2024-01-01 00:00:00+00' + 2002 * INTERVAL '1 minute'",
      );
      await admin.query("UPDATE readings SET value = value - 0.01 WHERE note = 'reading 1001'");
      await admin.query("UPDATE readings SET note = 'reading 3001' WHERE at = TIMESTAMPTZ '2024-01-01 00:00:00+00' + 3001 * INTERVAL '1 minute'");
      await admin.query('UPDATE events SET amount = 3500 / 7.0 WHERE id = 3500');
    }
    const undone = await verify('quick', { bytesPerScanRange: SMALL_RANGES });
    expect(
      undone.ok,
      JSON.stringify(
        undone.report?.tables.filter((t) => t.status !== 'ok'),
        null,
        1,
      ),
    ).toBe(true);
  }, 300_000);

  it('finds a duplicated row and a changed row of a keyless table at full', async () => {
    await admin.query("INSERT INTO readings SELECT * FROM readings WHERE note = 'reading 777'");
    await admin.query("UPDATE readings SET sensor = 36 WHERE note = 'reading 1555'");
    try {
      const split = await verify('full', { bytesPerScanRange: SMALL_RANGES });
      expect(rangesOf(split).readings).toBeGreaterThan(2);
      const readings = split.report!.tables.find((t) => t.table === 'public.readings')!;
      expect(readings.status).toBe('differs');
      expect(readings.counts).toMatchObject({ source: '4001', targetManifest: '4000', targetRead: '4000', ok: false });
      expect(readings.rows!.compared).toBe('4001');
      expect(readings.rows!.rangesNotExamined).toBeUndefined();
      const found = readings.rows!.differences.map((d) => [d.kind, (JSON.parse(d.key['(row)']!) as unknown[])[0]]).sort();
      // The duplicate is one row the target lacks; the changed row is missing with its new sensor and extra with its old one.
      expect(found).toEqual(
        [
          ['EXTRA_IN_TARGET', String(1555 % 37)],
          ['MISSING_IN_TARGET', '36'],
          ['MISSING_IN_TARGET', String(777 % 37)],
        ].sort(),
      );
      expect(split.report!.tables.find((t) => t.table === 'public.events')!.status).toBe('ok');
    } finally {
      await admin.query("DELETE FROM readings WHERE ctid = (SELECT max(ctid) FROM readings WHERE note = 'reading 777')");
      await admin.query("UPDATE readings SET sensor = 1555 % 37 WHERE note = 'reading 1555'");
    }
  }, 300_000);

  it('reports a difference of a table too large for the row search by its counts and figures only', async () => {
    const env: RunEnvironment = { connectSource: () => connectPostgres(url), catalog: new HadoopCatalog(new LocalFileIO(), path.join(dir, 'warehouse')) };
    const request: VerifyTableRequest = { source: { schema: 'public', name: 'readings' }, target: { namespace: ['public'], name: 'readings' } };
    await admin.query("UPDATE readings SET note = 'changed' WHERE note = 'reading 999'");
    try {
      const table = await withSource(env, (client) => describeTable(client, 'public', 'readings'));
      const plan = (await planTableScanRanges(env, request, table, SMALL_RANGES))!;
      expect(plan.snapshotId).toMatch(/^\d+$/);
      const ranges = scanRangesBetween(plan, 0, plan.pages.length + 1);
      expect(ranges.length).toBe(plan.pages.length);
      expect(ranges.length).toBeGreaterThan(2);
      const checks = await verifyTable(env, request, { level: 'full', samples: 2, scanRanges: true });
      const results = [];
      for (const range of ranges) results.push(await verifyScanRange(env, request, range, { level: 'full', samples: checks.samples }));
      // Each range reads a share of the rows on each side, and the shares add up to the table.
      expect(Math.max(...results.map((r) => Number(r.sourceRows)))).toBeLessThan(4000);
      expect(Math.max(...results.map((r) => Number(r.targetRows)))).toBeLessThan(4000);
      const merged = mergeScanRanges(checks, results);
      expect(merged.counts).toEqual({ source: '4000', targetManifest: '4000', targetRead: '4000', ok: true });
      // Same counts, different rows: only the hash sums tell, and without a row search the difference stays unexamined.
      expect(merged.rows).toEqual({ compared: '4000', differing: '0', differences: [], rangesNotExamined: '1' });
      expect(merged.status).toBe('differs');
      expect(merged.samples.every((s) => s.target !== null)).toBe(true);
      expect(await searchTableRows(env, request, { maxBytes: 1 })).toBeUndefined();
      const searched = await searchTableRows(env, request, {});
      expect(searched?.differences.map((d) => d.kind).sort()).toEqual(['EXTRA_IN_TARGET', 'MISSING_IN_TARGET']);
    } finally {
      await admin.query("UPDATE readings SET note = 'reading 999' WHERE note = 'changed'");
    }
  }, 300_000);
});
