/**
 * The sample databases ship inside the repository and load from there: every fixture is within the size limit for
 * tracked files and carries its license, and a damaged .sql.gz fails its load without leaving half a database
 * behind, with psql and without it.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHINOOK_SQL, DATASETS_DIR, PAGILA_SQL, type PostgresInstance, startPostgres } from './support/postgres';

const REPO = path.resolve(__dirname, '../..');
const MAX_TRACKED_FILE_BYTES = 5 * 1024 * 1024;

let pg: PostgresInstance;
let dir: string;
let truncated: string;

async function relationsIn(database: string): Promise<number> {
  const client = new Client({ connectionString: pg.urlFor(database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_catalog.pg_class WHERE relnamespace = 'public'::regnamespace`);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  pg = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-datasets-load-'));
  truncated = path.join(dir, 'truncated.sql.gz');
  // Complete statements in a first gzip member, then a second member cut short: the statements arrive whole
  // before the damage shows, so a load that committed what it had read would leave the table behind.
  // Random comment lines make the member larger than a read chunk, so its text reaches the loader first.
  const filler = Array.from({ length: 4_000 }, () => `-- ${randomBytes(48).toString('hex')}\n`).join('');
  const whole = gzipSync(Buffer.from(`CREATE TABLE half_loaded (x int);\nINSERT INTO half_loaded VALUES (1);\n${filler}`));
  const cut = gzipSync(Buffer.from('INSERT INTO half_loaded VALUES (2);\n'.repeat(100)));
  await writeFile(truncated, Buffer.concat([whole, cut.subarray(0, cut.length - 12)]));
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the shipped datasets', () => {
  it('live inside the repository, within the size limit for tracked files, with their license', () => {
    expect(path.relative(REPO, DATASETS_DIR).startsWith('..')).toBe(false);
    for (const file of [PAGILA_SQL, CHINOOK_SQL]) expect(path.dirname(file)).toBe(DATASETS_DIR);
    const names = readdirSync(DATASETS_DIR).sort();
    expect(names).toEqual(['LICENSE-postgres-sample-dbs', 'README.md', 'chinook.sql.gz', 'pagila.sql.gz']);
    for (const name of names) expect(statSync(path.join(DATASETS_DIR, name)).size, name).toBeLessThanOrEqual(MAX_TRACKED_FILE_BYTES);
  });

  it('are pg_dump scripts once decompressed', async () => {
    for (const file of [PAGILA_SQL, CHINOOK_SQL]) {
      const text = gunzipSync(await readFile(file)).toString('utf8');
      expect(text, file).toMatch(/PostgreSQL database dump/);
      expect(text, file).toMatch(/COPY .+ FROM stdin;/);
    }
  });
});

describe('a damaged .sql.gz', () => {
  it.each([
    { loader: 'psql', noPsql: undefined },
    { loader: 'COPY streams', noPsql: '1' },
  ])('fails to load through $loader and commits nothing', async ({ loader, noPsql }) => {
    const database = `broken_${loader === 'psql' ? 'psql' : 'copy'}`;
    await pg.createDatabase(database);
    const previous = process.env.ICEBRIDGE_TEST_NO_PSQL;
    if (noPsql === undefined) delete process.env.ICEBRIDGE_TEST_NO_PSQL;
    else process.env.ICEBRIDGE_TEST_NO_PSQL = noPsql;
    try {
      await expect(pg.loadSqlFile(database, truncated)).rejects.toThrow(/unexpected end of file/);
    } finally {
      if (previous === undefined) delete process.env.ICEBRIDGE_TEST_NO_PSQL;
      else process.env.ICEBRIDGE_TEST_NO_PSQL = previous;
    }
    expect(await relationsIn(database), 'relations left behind by the failed load').toBe(0);
  });
});
