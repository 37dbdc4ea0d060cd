/**
 * What the server spends to emit the raw COPY, column by column: the server CPU of
 * `COPY (SELECT <column> FROM ONLY bench.orders) TO STDOUT (FORMAT binary)` read into a discarding sink, less that
 * of the same COPY with no column at all (the scan, and COPY's framing of each row). It shows what the raw COPY
 * baseline (r) is made of; the copy's COPY asks the server for the same bytes, so the server's half of the copy's
 * CPU is this too, whatever icebridge does with them.
 */
import type { Client } from 'pg';
import { CopyOutQuery } from '../../shared/postgres/copy-out-query';
import { quoteIdent, quoteQualified } from '../../shared/postgres/identifiers';
import { median } from './measure';
import { type BenchPostgres, ORDERS } from './migrate-postgres';

/** A column's share of the server's CPU for the COPY. */
export interface ServerColumnCost {
  column: string;
  /** The column's type as PostgreSQL formats it. */
  type: string;
  /** Server CPU of the COPY of this column alone, less the framing's, median of the runs. */
  serverCpuMs: number;
}

/** Server CPU of the COPY of the orders table: of no column, of each column alone, of every column. */
export interface ServerColumnCosts {
  /** The COPY of no column: the scan and each row's framing. */
  framingMs: number;
  columns: ServerColumnCost[];
  /** The COPY of every column (SELECT *), as the copy and r read them. */
  wholeRowMs: number;
}

/** Measures ServerColumnCosts with `runs` COPYs of each, one after another on one connection. */
export async function serverColumnCosts(postgres: BenchPostgres, runs: number): Promise<ServerColumnCosts> {
  const client = await postgres.connect();
  try {
    const { rows } = await client.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [quoteQualified(ORDERS.schema, ORDERS.table)],
    );
    const table = quoteQualified(ORDERS.schema, ORDERS.table);
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
    for (const column of rows) columns.push({ column: column.name, type: column.type, serverCpuMs: (await serverMs(quoteIdent(column.name))) - framingMs });
    return { framingMs, columns, wholeRowMs: await serverMs('*') };
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
  const perMillion = (ms: number): string => `${((ms / 1000) * (1e6 / rows)).toFixed(2)} s`.padStart(8);
  const share = (ms: number): string => `${Math.round((100 * ms) / costs.wholeRowMs)}%`.padStart(5);
  const line = (label: string, ms: number): string => `  ${label.padEnd(44)} ${perMillion(ms)} ${share(ms)}`;
  return [
    line("the scan and each row's framing (no column)", costs.framingMs),
    ...costs.columns.map((c) => line(`${c.column} ${c.type}`, c.serverCpuMs)),
    line('every column (SELECT *)', costs.wholeRowMs),
  ];
}
