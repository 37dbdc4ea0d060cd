/**
 * What the server spends to emit the raw COPY, column by column: the server CPU of
 * `COPY (SELECT <the first k columns> FROM ONLY bench.orders) TO STDOUT (FORMAT binary)` read into a discarding
 * sink, for k from none (the scan, and COPY's framing of each row) to every column; a column's cost is what adding
 * it to the columns before it added. The parts add up to the whole row, which a column measured alone would not
 * (each such COPY pays for projecting its column out of the row on top). It shows what the raw COPY baseline (r)
 * is made of; the copy's COPY asks the server for the same bytes, so the server's half of the copy's CPU is this
 * too, whatever icebridge does with them.
 */
import type { Client } from 'pg';
import { CopyOutQuery } from '../../shared/postgres/copy-out-query';
import { quoteIdent, quoteQualified } from '../../shared/postgres/identifiers';
import { median } from './measure';
import { type BenchPostgres, ORDERS } from './migrate-postgres';
import { secondsPerMillionRows } from './migrate-report';

/** A column's share of the server's CPU for the COPY. */
export interface ServerColumnCost {
  column: string;
  /** The column's type as PostgreSQL formats it. */
  type: string;
  /** What adding this column to the columns before it added to the COPY's server CPU (medians of the runs). */
  serverCpuMs: number;
}

/** Server CPU of the COPY of the orders table: of no column, what each column adds, of every column. */
export interface ServerColumnCosts {
  /** The COPY of no column: the scan and each row's framing. */
  framingMs: number;
  columns: ServerColumnCost[];
  /** The COPY of every column, as the copy and r read them: the framing plus every column's part. */
  wholeRowMs: number;
}

/** Measures ServerColumnCosts with `runs` COPYs of each, one after another on one connection. */
export async function serverColumnCosts(postgres: BenchPostgres, runs: number): Promise<ServerColumnCosts> {
  const table = quoteQualified(ORDERS.schema, ORDERS.table);
  const client = await postgres.connect();
  try {
    const { rows } = await client.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [table],
    );
    const serverMs = async (selectList: string): Promise<number> => {
      const spent: number[] = [];
      for (let run = 0; run < runs; run++) {
        const before = await postgres.cpuMs();
        await copyToNowhere(client, `COPY (SELECT ${selectList} FROM ONLY ${table}) TO STDOUT (FORMAT binary)`);
        spent.push((await postgres.cpuMs()) - before);
      }
      return median(spent);
    };
    const framingMs = await serverMs('');
    const columns: ServerColumnCost[] = [];
    let before = framingMs;
    for (let k = 1; k <= rows.length; k++) {
      const spent = await serverMs(
        rows
          .slice(0, k)
          .map((c) => quoteIdent(c.name))
          .join(', '),
      );
      columns.push({ column: rows[k - 1]!.name, type: rows[k - 1]!.type, serverCpuMs: spent - before });
      before = spent;
    }
    return { framingMs, columns, wholeRowMs: before };
  } finally {
    await client.end();
  }
}

/** Runs a COPY TO STDOUT and drops its bytes. */
function copyToNowhere(client: Client, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    void client.query(new CopyOutQuery(sql, { data: () => undefined, end: resolve, error: reject }));
  });
}

/** The costs as lines of seconds per million rows, with each column's share of the whole row. */
export function serverColumnLines(costs: ServerColumnCosts, rows: number): string[] {
  const perMillion = (ms: number): string => `${secondsPerMillionRows(ms, rows)} s`.padStart(8);
  const share = (ms: number): string => `${Math.round((100 * ms) / costs.wholeRowMs)}%`.padStart(5);
  const line = (label: string, ms: number): string => `  ${label.padEnd(44)} ${perMillion(ms)} ${share(ms)}`;
  return [
    line("the scan and each row's framing (no column)", costs.framingMs),
    ...costs.columns.map((c) => line(`${c.column} ${c.type}`, c.serverCpuMs)),
    line('every column', costs.wholeRowMs),
  ];
}
