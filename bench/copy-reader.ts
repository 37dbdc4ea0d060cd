/**
 * Decode throughput of the COPY reader against raw `COPY ... TO STDOUT (FORMAT binary)` into a null sink, on the
 * migration benchmark's generated `orders` table in embedded PostgreSQL. A program that prints figures, not a test:
 *
 *     npx tsx bench/copy-reader.ts [--rows 1000000] [--runs 5]      (or: npm run bench -- --copy-reader [...])
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { connectPostgres } from '../shared/postgres/connection';
import { readRows } from '../shared/postgres/copy-reader';
import { describeTable } from '../shared/postgres/introspect';
import { withSnapshotTransaction } from '../shared/postgres/snapshot-transaction';
import { mapTable } from '../shared/postgres/type-mapping';
import { findPsql, startPostgres } from '../test/integration/support/postgres';
import { median } from './lib/measure';
import { ORDERS, createOrdersTable } from './lib/migrate-postgres';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const ROWS = argument('rows', 1_000_000);
const RUNS = argument('runs', 5);

const SQL = `COPY ${ORDERS.schema}.${ORDERS.table} TO STDOUT (FORMAT binary)`;

async function timed(fn: () => Promise<number>): Promise<{ ms: number; count: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const count = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { ms, count, cpuMs: (used.user + used.system) / 1000 };
}

function psqlToDevNull(psql: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(psql, ['--no-psqlrc', '-q', '-d', url, '-c', SQL], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(0) : reject(new Error(`psql exited with ${code}`))));
  });
}

async function nodeToNullSink(client: Client): Promise<number> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  await pipeline(client.query(copyTo(SQL)), sink);
  return bytes;
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('bench');
    const client = await connectPostgres(url, { statementTimeoutInMs: 0 });
    process.stdout.write(`generating ${ROWS.toLocaleString('en-US')} rows... `);
    await createOrdersTable(client, ROWS);
    const size = await client.query<{ size: string }>('SELECT pg_size_pretty(pg_relation_size($1::regclass)) AS size', [`${ORDERS.schema}.${ORDERS.table}`]);
    console.log(`done (${size.rows[0]!.size} heap)`);
    const table = await describeTable(client, ORDERS.schema, ORDERS.table);
    const mapping = mapTable(table);
    const psql = findPsql();

    const results: Record<string, number[]> = { psql: [], nodeRaw: [], nodeRawCpu: [], reader: [], readerCpu: [] };
    let copyBytes = 0;
    for (let run = 0; run <= RUNS; run++) {
      // Run 0 warms caches and the JIT and is not counted.
      const raw = psql === undefined ? undefined : await timed(() => psqlToDevNull(psql, url));
      const nodeRaw = await timed(() => nodeToNullSink(client));
      const reader = await timed(() =>
        withSnapshotTransaction(client, async () => {
          let rows = 0;
          for await (const batch of readRows(client, table, mapping)) rows += batch.length;
          return rows;
        }),
      );
      if (reader.count !== ROWS) throw new Error(`reader returned ${reader.count} rows, expected ${ROWS}`);
      copyBytes = nodeRaw.count;
      if (run === 0) continue;
      if (raw !== undefined) results.psql!.push(raw.ms);
      results.nodeRaw!.push(nodeRaw.ms);
      results.nodeRawCpu!.push(nodeRaw.cpuMs);
      results.reader!.push(reader.ms);
      results.readerCpu!.push(reader.cpuMs);
    }
    await client.end();

    const rate = (ms: number): string => Math.round(ROWS / (ms / 1000)).toLocaleString('en-US');
    const mb = (ms: number): string => (copyBytes / 1e6 / (ms / 1000)).toFixed(1);
    console.log(`\nnode ${process.version}, ${ROWS.toLocaleString('en-US')} rows, ${(copyBytes / 1e6).toFixed(1)} MB of binary COPY, median of ${RUNS} runs\n`);
    console.log('| path | median ms | rows/s | MB/s | vs psql raw |');
    console.log('|---|---|---|---|---|');
    const base = results.psql!.length > 0 ? median(results.psql!) : median(results.nodeRaw!);
    const line = (name: string, ms: number): void => console.log(`| ${name} | ${Math.round(ms)} | ${rate(ms)} | ${mb(ms)} | ${(base / ms).toFixed(2)}x |`);
    if (results.psql!.length > 0) line('raw COPY (FORMAT binary) via psql to /dev/null', median(results.psql!));
    line('raw COPY (FORMAT binary) via pg-copy-streams to a null sink', median(results.nodeRaw!));
    line('readRows: decoded Row batches', median(results.reader!));
    console.log(
      `\nclient CPU (median): ${Math.round(median(results.nodeRawCpu!))} ms receiving raw COPY, ${Math.round(median(results.readerCpu!))} ms receiving and decoding`,
    );
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
