/**
 * Big values stay out of history: a table with a 64 MB bytea and a 1 MB text migrates and verifies (full and
 * quick) exactly, while the orchestration history in the state folder stays small, because results, outputs and
 * statuses carry bounded values (a prefix, the full length and a hash), never whole ones. A differing long value
 * is reported bounded, and two long values with the same prefix are still reported as different.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { runVerification } from '../../cli/support/run-verification';
import { SHOWN_CHARACTERS, boundedText, boundedTextSql, parseBoundedText } from '../../shared/text/bounded-text';
import type { VerificationReport } from '../../shared/verify/contracts';
import { type PostgresInstance, startPostgres } from './support/postgres';

const BYTEA_BYTES = 64 * 1024 * 1024;
const TEXT_CHARACTERS = 1024 * 1024;
/** The state folder of a run with these values stays under this size (whole values would be hundreds of MB). */
const STATE_LIMIT_BYTES = 5 * 1024 * 1024;

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(full) : (await stat(full)).size;
  }
  return total;
}

/** Every value a report shows, as strings. */
function shownValues(report: VerificationReport): string[] {
  const out: string[] = [];
  const add = (v: string | null | undefined): void => void (typeof v === 'string' && out.push(v));
  for (const t of report.tables) {
    for (const a of t.aggregates) {
      add(a.source);
      add(a.target);
      add(a.aggregate);
    }
    for (const s of t.samples) for (const r of [s.key, s.source ?? {}, s.target ?? {}]) Object.values(r).forEach(add);
    for (const d of t.rows?.differences ?? []) {
      Object.values(d.key).forEach(add);
      for (const c of d.columns) {
        add(c.source);
        add(c.target);
      }
    }
  }
  return out;
}

describe('big values', () => {
  let pg: PostgresInstance;
  let url: string;
  let dir: string;
  const warehouse = (): string => path.join(dir, 'warehouse');

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('bigvalues');
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA big;
      CREATE TABLE big.blobs (id int PRIMARY KEY, payload bytea, note text);
      INSERT INTO big.blobs SELECT i, decode(lpad(to_hex(i), 8, '0'), 'hex'), 'row ' || i FROM generate_series(1, 5) AS i;
      -- 64 MB of bytes that do not repeat in a short period, so the value is not trivially compressible either.
      INSERT INTO big.blobs SELECT 6, string_agg(decode(md5(i::text), 'hex'), ''::bytea ORDER BY i), 'the big one' FROM generate_series(1, ${BYTEA_BYTES / 16}) AS i;
      INSERT INTO big.blobs VALUES (7, '\\x00', 'zz ' || repeat('lorem ipsum ', ${Math.floor(TEXT_CHARACTERS / 12)}) || 'end');
      -- Keyless: rows are matched by their whole text, which is long.
      CREATE TABLE big.notes (note text, n int);
      INSERT INTO big.notes VALUES (repeat('keyless ', 40000), 1), ('short', 2), (repeat('keyless ', 40000), 1);
      ANALYZE big.blobs, big.notes;`);
    await client.end();
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-big-values-'));
  });
  afterAll(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('bounds a text in SQL exactly as in JavaScript', async () => {
    const texts = [
      '',
      'short',
      'x'.repeat(SHOWN_CHARACTERS),
      'x'.repeat(SHOWN_CHARACTERS + 1),
      `"\\\n\u0001é${'😀'.repeat(300)}`,
      '😀'.repeat(SHOWN_CHARACTERS),
      `${'a'.repeat(255)}😀${'b'.repeat(2_000_000)}`,
    ];
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ shown: string | null }>(
        `SELECT ${boundedTextSql('t.v')} AS shown FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY t.i`,
        [texts],
      );
      expect(rows.map((r) => r.shown)).toEqual(texts.map(boundedText));
      const {
        rows: [none],
      } = await client.query<{ shown: string | null }>(`SELECT ${boundedTextSql('NULL::text')} AS shown`);
      expect(none!.shown).toBeNull();
    } finally {
      await client.end();
    }
  });

  it('migrates and verifies at full level exactly, with a small state folder', async () => {
    // Peak RSS of this process (copies run on worker threads of it), printed as figures, not asserted: first
    // after a copy alone, then after the migration verified at full level.
    const peak = (): string => `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`;
    console.log(`big values: peak RSS ${peak()} before migrating`);
    const copy = await runMigration({
      input: { sourceSchema: 'big', namespace: 'copied', concurrency: 1, verify: 'none' },
      sourceUrl: url,
      warehouse: warehouse(),
      stateDir: path.join(dir, 'copy-state'),
    });
    expect(copy.tables.failed).toBe(0);
    console.log(`big values: peak RSS ${peak()} after copying`);
    const stateDir = path.join(dir, 'migrate-state');
    const report = await runMigration({
      input: { sourceSchema: 'big', namespace: 'big', concurrency: 1, verify: 'full' },
      sourceUrl: url,
      warehouse: warehouse(),
      stateDir,
    });
    console.log(`big values: peak RSS ${peak()} after migrating and verifying at full level`);
    expect(report.tables.failed, JSON.stringify(report.failures)).toBe(0);
    expect(report.verification?.status, JSON.stringify(report.verification).slice(0, 2000)).toBe('ok');
    const bytes = await folderBytes(stateDir);
    console.log(`big values: state folder of the migration ${bytes} bytes`);
    expect(bytes).toBeLessThan(STATE_LIMIT_BYTES);
  }, 600_000);

  it('verifies quick exactly, with a small state folder, and shows long values bounded', async () => {
    const stateDir = path.join(dir, 'quick-state');
    const status = await runVerification({
      input: { sourceSchema: 'big', namespace: 'big', level: 'quick', concurrency: 1, samples: 7 },
      sourceUrl: url,
      warehouse: warehouse(),
      stateDir,
    });
    expect(status.ok, JSON.stringify(status.report?.tables.map((t) => [t.status, t.error]))).toBe(true);
    const table = status.report!.tables.find((t) => t.table === 'big.blobs')!;
    // The long values are there (as samples, min/max and a group), bounded.
    const long = shownValues(status.report!).filter((v) => [...v].length > SHOWN_CHARACTERS);
    expect(long.length).toBeGreaterThan(0);
    for (const v of long) expect(v.length, v.slice(0, 80)).toBeLessThan(SHOWN_CHARACTERS * 2);
    const bytea = table.samples.find((s) => s.key.id === '6')!;
    const shown = parseBoundedText(bytea.source!.payload!)!;
    expect(shown.length).toBe(BYTEA_BYTES * 2);
    expect(bytea.target!.payload).toBe(bytea.source!.payload);
    expect(await folderBytes(stateDir)).toBeLessThan(STATE_LIMIT_BYTES);
  }, 600_000);

  it('reports a differing long value bounded, and two long values with one prefix as different', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    // Only the last character changes: the first SHOWN_CHARACTERS are the same on both sides.
    await client.query(`UPDATE big.blobs SET note = 'zz ' || repeat('lorem ipsum ', ${Math.floor(TEXT_CHARACTERS / 12)}) || 'END' WHERE id = 7`);
    await client.query(`UPDATE big.notes SET n = 4 WHERE ctid = (SELECT min(ctid) FROM big.notes WHERE n = 1)`);
    await client.end();
    const stateDir = path.join(dir, 'differ-state');
    const status = await runVerification({
      input: { sourceSchema: 'big', namespace: 'big', level: 'full', concurrency: 1 },
      sourceUrl: url,
      warehouse: warehouse(),
      stateDir,
    });
    expect(status.ok).toBe(false);
    const table = status.report!.tables.find((t) => t.table === 'big.blobs')!;
    // Keyless rows are keyed by their (long, bounded) row text: of two equal long rows one changed, one still matches.
    const notes = status.report!.tables.find((t) => t.table === 'big.notes')!;
    expect(notes.rows?.differences.map((d) => d.kind).sort()).toEqual(['EXTRA_IN_TARGET', 'MISSING_IN_TARGET']);
    const [missing, extra] = ['MISSING_IN_TARGET', 'EXTRA_IN_TARGET'].map((kind) =>
      parseBoundedText(notes.rows!.differences.find((d) => d.kind === kind)!.key['(row)']!)!,
    );
    expect(missing!.prefix).toBe(extra!.prefix);
    expect(missing!.md5).not.toBe(extra!.md5);
    expect(table.rows?.differing).toBe('1');
    const difference = table.rows!.differences[0]!;
    expect(difference.key).toEqual({ id: '7' });
    expect(difference.columns.map((c) => c.column)).toEqual(['note']);
    const [source, target] = [difference.columns[0]!.source!, difference.columns[0]!.target!];
    expect(source).not.toBe(target);
    const [s, t] = [parseBoundedText(source)!, parseBoundedText(target)!];
    expect(s.prefix).toBe(t.prefix);
    expect([...s.prefix]).toHaveLength(SHOWN_CHARACTERS);
    expect(s.length).toBe(t.length);
    expect(s.md5).not.toBe(t.md5);
    // The max of the text column differs too, and is shown bounded.
    const max = table.aggregates.find((a) => a.column === 'note' && a.aggregate === 'max')!;
    expect(max.ok).toBe(false);
    expect(parseBoundedText(max.source!)?.md5).toBe(s.md5);
    expect(await folderBytes(stateDir)).toBeLessThan(STATE_LIMIT_BYTES);
  }, 600_000);

  it('names a long key and value bounded when a migration refuses a row', async () => {
    const key = `${'k'.repeat(2_000)}1`;
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA refused; CREATE TABLE refused.items (k text PRIMARY KEY, v numeric(10, 2));
      INSERT INTO refused.items VALUES ($$${key}$$, 'NaN'), ('short', 1);`);
    await client.end();
    const report = await runMigration({
      input: { sourceSchema: 'refused', namespace: 'refused', concurrency: 1, verify: 'none' },
      sourceUrl: url,
      warehouse: warehouse(),
      stateDir: path.join(dir, 'refused-state'),
    });
    expect(report.tables.failed).toBe(1);
    const reason = report.failures[0]!.reason;
    expect(reason).toContain(`row (k)=(${boundedText(key)}): value "NaN" cannot be stored exactly`);
    expect(reason.length).toBeLessThan(1_000);
  }, 300_000);
});
