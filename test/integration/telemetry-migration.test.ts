/**
 * A migration on the local host, with in-memory OpenTelemetry exporters installed: every orchestration instance
 * is one trace holding its activities' spans (ids derived from the instance id, so no span is made in orchestrator
 * code), the spans carry table, partition, run and instance, and the copy metrics add up to the tables' rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { MetricNames as M } from '../../shared/telemetry/names';
import { instanceSpanContext } from '../../shared/telemetry/tracing';
import { type TelemetryCapture, captureTelemetry } from '../telemetry/support/telemetry-capture';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = { orders: 6000, customers: 250 };

describe('telemetry of a migration', () => {
  let pg: PostgresInstance;
  let dir: string;
  let url: string;
  let capture: TelemetryCapture;

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('traced');
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
                          INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, ${ROWS.customers}) g;
                          CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, note text);
                          INSERT INTO orders SELECT g, 1 + g % ${ROWS.customers}, repeat('x', 200) FROM generate_series(1, ${ROWS.orders}) g;
                          ANALYZE;`);
    } finally {
      await client.end();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-telemetry-'));
    capture = captureTelemetry();
  });
  afterAll(async () => {
    await capture?.stop();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes one trace per orchestration instance, with attributed activity spans, and counts every row copied', async () => {
    const report = await runMigration({
      // Small partitions, so a table is copied by several copyPartition activities.
      input: { sourceSchema: 'public', namespace: 'public', concurrency: 2, partitionSizeInBytes: 256 * 1024, verify: 'quick' },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
    });
    expect(report.details.map((t) => [t.table, t.status])).toEqual([
      ['customers', 'committed'],
      ['orders', 'committed'],
    ]);

    const spans = capture.spans();
    const byTrace = new Map<string, typeof spans>();
    for (const span of spans) byTrace.set(span.spanContext().traceId, [...(byTrace.get(span.spanContext().traceId) ?? []), span]);
    const instances = new Set(spans.map((s) => s.attributes['icebridge.instance_id'] as string));
    // The run, its two tables, the verification and its two tables: six instances, six traces.
    expect(instances.size).toBe(6);
    expect(byTrace.size).toBe(instances.size);
    for (const [traceId, members] of byTrace) {
      const ids = new Set(members.map((s) => s.attributes['icebridge.instance_id']));
      expect(ids.size).toBe(1);
      const parent = instanceSpanContext([...ids][0] as string);
      expect(traceId).toBe(parent.traceId);
      for (const span of members) expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
    }

    const runId = [...instances].find((id) => !id.includes(':'))!;
    const copies = spans.filter((s) => s.name === 'activity copyPartition');
    expect(copies.length).toBeGreaterThan(2);
    for (const span of copies) {
      expect(span.attributes['icebridge.run_id']).toBe(runId);
      expect(typeof span.attributes['icebridge.partition']).toBe('number');
      expect(span.attributes['icebridge.instance_id']).toMatch(new RegExp(`^${runId}:table:\\d+$`));
    }
    const orderCopies = copies.filter((s) => s.attributes['icebridge.table'] === 'orders');
    expect(new Set(orderCopies.map((s) => s.attributes['icebridge.partition'])).size).toBe(orderCopies.length);
    expect(orderCopies.length).toBeGreaterThan(1);
    expect(new Set(orderCopies.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(spans.filter((s) => s.name === 'activity planMigration').map((s) => s.attributes['icebridge.instance_id'])).toEqual([runId]);
    expect(
      spans
        .filter((s) => s.name === 'activity commitTable')
        .map((s) => s.attributes['icebridge.table'])
        .sort(),
    ).toEqual(['customers', 'orders']);

    for (const [table, rows] of Object.entries(ROWS)) {
      expect(await capture.sum(M.rowsCopied, { 'icebridge.table': table })).toBe(rows);
      expect(await capture.sum(M.bytesCopied, { 'icebridge.table': table })).toBeGreaterThan(0);
    }
    const durations = await capture.histogram(M.partitionDuration);
    expect(durations.count).toBe(copies.length);
    expect((await capture.histogram(M.rowsPerSecond)).count).toBe(copies.length);
    expect(await capture.sum(M.tablesVerified, { 'icebridge.status': 'ok' })).toBe(2);
    expect(await capture.points(M.verificationDifferences)).toEqual([]);
    expect(await capture.sum(M.errors)).toBe(0);
  });
});
