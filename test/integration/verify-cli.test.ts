/**
 * `icebridge verify` end to end: after a migration it exits 0 at full level and writes the HTML report; after
 * one value changes in the source it exits 1 and names the table, key and column.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../cli/commands/verify';
import { demoDatasetSql } from '../../cli/demo/demo-dataset';
import { runMigration } from '../../cli/support/run-migration';
import type { VerificationReport } from '../../shared/verify/contracts';
import { type PostgresInstance, startPostgres } from './support/postgres';

let stateDir: string | undefined;

/** Runs the command in-process, capturing what it prints. */
async function verify(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = { write: (t: string) => ((stdout += t), true), isTTY: false } as unknown as NodeJS.WriteStream;
  const err = { write: (t: string) => ((stderr += t), true), isTTY: false } as unknown as NodeJS.WriteStream;
  // History goes beside the test's warehouse, not into the working directory.
  const code = await verifyCommand(argv.includes('--source') && stateDir ? [...argv, '--state-dir', stateDir] : argv, out, err);
  return { code, stdout, stderr };
}

describe('icebridge verify', () => {
  let pg: PostgresInstance;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('shopv');
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(demoDatasetSql({ users: 300, customers: 200, products: 50, orders: 400, transactions: 500 }));
    await client.end();
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-verify-cli-'));
    stateDir = path.join(dir, 'verify-state');
    const report = await runMigration({
      input: { sourceSchema: 'shop', namespace: 'shop', concurrency: 2 },
      sourceUrl: url,
      warehouse: path.join(dir, 'warehouse'),
      stateDir: path.join(dir, 'state'),
    });
    expect(report.tables.failed).toBe(0);
  });
  afterAll(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verifies a fresh migration clean at full level and writes the HTML report', async () => {
    const html = path.join(dir, 'report.html');
    const { code, stdout, stderr } = await verify([
      '--source',
      url,
      '--warehouse',
      path.join(dir, 'warehouse'),
      '--schema',
      'shop',
      '--level',
      'full',
      '--json',
      '--report',
      html,
    ]);
    const report = JSON.parse(stdout) as VerificationReport;
    expect(
      code,
      stderr +
        JSON.stringify(
          report.tables.filter((t) => t.status !== 'ok'),
          null,
          2,
        ),
    ).toBe(0);
    expect(report.tables.map((t) => [t.table, t.status]).sort()).toEqual(
      ['customers', 'orders', 'products', 'transactions', 'users'].map((t) => [`shop.${t}`, 'ok']),
    );
    expect(JSON.stringify(report)).not.toContain(pg.password);
    const page = await readFile(html, 'utf8');
    expect(page.toLowerCase()).toContain('<!doctype html>');
    expect(page).toContain('shop.orders');
  });

  it('fails with the table, key and column after one source value changes, and on usage errors', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(`UPDATE shop.customers SET credit_limit = credit_limit + 0.01 WHERE id = 7`);
    // Inside a list of structs: one line item's price of one order.
    await client.query(`UPDATE shop.orders SET line_items[1].unit_price = (line_items[1]).unit_price + 0.01 WHERE id = 3`);
    await client.end();
    const { code, stdout } = await verify([
      '--source',
      url,
      '--warehouse',
      path.join(dir, 'warehouse'),
      '--schema',
      'shop',
      '--tables',
      'customers',
      '--level',
      'full',
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('customers');
    expect(stdout).toContain('credit_limit');
    const orders = await verify([
      '--source',
      url,
      '--warehouse',
      path.join(dir, 'warehouse'),
      '--schema',
      'shop',
      '--tables',
      'orders',
      '--level',
      'full',
      '--json',
    ]);
    expect(orders.code).toBe(1);
    const differences = (JSON.parse(orders.stdout) as VerificationReport).tables[0]!.rows!.differences;
    expect(differences.map((d) => [d.key, d.columns.map((c) => c.column)])).toEqual([[{ id: '3' }, ['line_items']]]);
    expect((await verify(['--source', url, '--warehouse', dir, '--level', 'deep'])).code).toBe(2);
    expect((await verify(['--source', url, '--warehouse', dir, '--schema', 'shop', '--tables', 'nope'])).code).toBe(2);
  });
});
