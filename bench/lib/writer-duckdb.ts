/**
 * Candidate: DuckDB through @duckdb/node-api. Rows enter through the appender as whole data chunks (the fastest
 * path the Node API offers without an Arrow scan), then `COPY ... TO` writes Parquet with FIELD_IDS and ZSTD.
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  LIST,
  TIMESTAMPTZ,
  UUID,
  VARCHAR,
  dateValue,
  decimalValue,
  listValue,
  timestampTZValue,
  uuidValue,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Candidate, TimedWrite } from './candidate';
import { AMOUNT_PRECISION, AMOUNT_SCALE, fieldIdOf, type OrdersData } from './orders-data';

/** DuckDB's vector size: an appended data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

const COLUMN_TYPES: DuckDBType[] = [
  BIGINT,
  UUID,
  INTEGER,
  DECIMAL(AMOUNT_PRECISION, AMOUNT_SCALE),
  VARCHAR,
  TIMESTAMPTZ,
  DATE,
  BOOLEAN,
  VARCHAR,
  LIST(VARCHAR),
  VARCHAR,
];

const CREATE_TABLE = `CREATE OR REPLACE TABLE orders (
  id BIGINT NOT NULL, order_uuid UUID NOT NULL, customer_id INTEGER NOT NULL,
  amount DECIMAL(${AMOUNT_PRECISION},${AMOUNT_SCALE}) NOT NULL, status VARCHAR NOT NULL,
  created_at TIMESTAMPTZ NOT NULL, shipped_on DATE, is_gift BOOLEAN NOT NULL, note VARCHAR, tags VARCHAR[],
  attrs VARCHAR)`;

/** The FIELD_IDS option: nested columns name their own id with __duckdb_field_id and their children by name. */
function fieldIdsOption(): string {
  const top = ['id', 'order_uuid', 'customer_id', 'amount', 'status', 'created_at', 'shipped_on', 'is_gift', 'note', 'attrs'].map(
    (name) => `${name}: ${fieldIdOf(name)}`,
  );
  top.push(`tags: {__duckdb_field_id: ${fieldIdOf('tags')}, element: ${fieldIdOf('tags.element')}}`);
  return `{${top.join(', ')}}`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The orders as DuckDB values, already cut into appender-sized chunks of columns. */
export function ordersToDuckDbChunks(data: OrdersData): DuckDBValue[][][] {
  const chunks: DuckDBValue[][][] = [];
  for (let start = 0; start < data.rows; start += CHUNK_ROWS) {
    const end = Math.min(start + CHUNK_ROWS, data.rows);
    const columns: DuckDBValue[][] = COLUMN_TYPES.map(() => []);
    for (let i = start; i < end; i++) {
      const c = columns;
      c[0]!.push(data.id[i]!);
      c[1]!.push(uuidValue(BigInt(`0x${data.orderUuidText[i]!.replace(/-/g, '')}`)));
      c[2]!.push(data.customerId[i]!);
      c[3]!.push(decimalValue(data.amountUnscaled[i]!, AMOUNT_PRECISION, AMOUNT_SCALE));
      c[4]!.push(data.status[i]!);
      c[5]!.push(timestampTZValue(data.createdAtMicros[i]!));
      const day = data.shippedOn[i];
      c[6]!.push(day === null || day === undefined ? null : dateValue(day));
      c[7]!.push(data.isGift[i]!);
      c[8]!.push(data.note[i] ?? null);
      c[9]!.push(listValue(data.tags[i]!));
      c[10]!.push(data.attrs[i]!);
    }
    chunks.push(columns);
  }
  return chunks;
}

/** DuckDB in memory: appender ingestion plus COPY TO Parquet, both timed. */
export async function createDuckDbCandidate(): Promise<Candidate> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  const threads = (await connection.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson()[0]?.t as string | number | undefined;
  return {
    note: `zstd at DuckDB default level; ${String(threads)} threads; ingestion through the appender is in the time`,
    prepare(data: OrdersData): Promise<TimedWrite> {
      const chunks = ordersToDuckDbChunks(data);
      const copyOptions = `FORMAT parquet, COMPRESSION zstd, FIELD_IDS ${fieldIdsOption()}`;
      return Promise.resolve<TimedWrite>(async (outputPath) => {
        const t0 = performance.now();
        await connection.run(CREATE_TABLE);
        const appender = await connection.createAppender('orders');
        for (const columns of chunks) {
          const chunk = DuckDBDataChunk.create(COLUMN_TYPES);
          chunk.setColumns(columns);
          appender.appendDataChunk(chunk);
        }
        appender.closeSync(); // flushes; rows are invisible to COPY until then
        const t1 = performance.now();
        await connection.run(`COPY orders TO ${sqlString(outputPath)} (${copyOptions})`);
        const phasesMs = { 'appender ingest': t1 - t0, 'COPY to parquet': performance.now() - t1 };
        await connection.run('DROP TABLE orders');
        return { paths: [outputPath], bytes: (await stat(outputPath)).size, phasesMs };
      });
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- async makes a failing close a rejection, which the runner ignores
    async close(): Promise<void> {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
