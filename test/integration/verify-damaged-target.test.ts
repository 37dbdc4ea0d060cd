/**
 * Verification against a damaged ICEBERG side (the source is left alone): a migrated table gets an extra data file
 * in its snapshot, a manifest whose record_count is wrong, or loses a data file from storage. Each damage must be
 * reported as the right kind of difference (or as an error naming the missing file), at both levels where it
 * applies and through the verifyDatabase orchestration with its rows in key ranges; each damage is undone before
 * the next, with a last run proving the undo.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigration } from '../../cli/support/run-migration';
import { runVerification } from '../../cli/support/run-verification';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO, localPath } from '../../shared/iceberg/io';
import { currentSnapshot } from '../../shared/iceberg/spec/table-metadata';
import { liveEntries, writeDataManifest } from '../../shared/iceberg/transaction/manifest-files';
import { rollbackTo } from '../../shared/iceberg/transaction/snapshot-management';
import { fastAppend, overwrite } from '../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../shared/iceberg/writer/table-writer';
import type { RunEnvironment } from '../../shared/run/environment';
import { connectPostgres } from '../../shared/postgres/connection';
import type { TableVerification, VerifyLevel } from '../../shared/verify/contracts';
import type { VerificationStatus } from '../../shared/verify/status/verification-status';
import { verifyTable } from '../../shared/verify/steps/verify-table';
import { type PostgresInstance, startPostgres } from './support/postgres';

const ROWS = 400;
const SETUP_SQL = `
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int);
INSERT INTO items SELECT g, 'item ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 17 END FROM generate_series(1, ${ROWS}) g;
`;
const ITEMS = { source: { schema: 'public', name: 'items' }, target: { namespace: ['public'], name: 'items' } };

let pg: PostgresInstance;
let dir: string;
let catalog: HadoopCatalog;
let env: RunEnvironment;
let migrated: bigint;
let sourceUrl: string;
let warehouse: string;
let orchestrated = 0;

/** The whole verifyDatabase orchestration through the local host, at the full level with the rows in key ranges. */
function verifyOrchestrated(): Promise<VerificationStatus> {
  return runVerification({
    input: { sourceSchema: 'public', namespace: 'public', tables: ['items'], level: 'full', concurrency: 1, rowsPerRange: 100 },
    sourceUrl,
    warehouse,
    // A state directory per call: each damage is a new verification, not a repeat of the last one.
    stateDir: path.join(dir, `verify-state-${++orchestrated}`),
  });
}

function verify(level: VerifyLevel): Promise<TableVerification> {
  return verifyTable(env, ITEMS, { level, maxDifferences: 20, samples: 3 });
}

async function liveFiles() {
  const table = await catalog.loadTable(ITEMS.target);
  return (await liveEntries(catalog.io, currentSnapshot(table.metadata))).map((e) => e.entry.dataFile);
}

/** Puts the migrated snapshot back as the current one. */
async function undo(): Promise<void> {
  await rollbackTo(catalog, ITEMS.target, migrated);
}

beforeAll(async () => {
  pg = await startPostgres();
  const url = await pg.createDatabase('damaged');
  sourceUrl = url;
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(SETUP_SQL);
  await client.end();
  dir = await mkdtemp(path.join(tmpdir(), 'icebridge-damaged-'));
  warehouse = path.join(dir, 'warehouse');
  const report = await runMigration({
    input: { sourceSchema: 'public', namespace: 'public', concurrency: 1, verify: 'none' },
    sourceUrl: url,
    warehouse,
    stateDir: path.join(dir, 'state'),
  });
  if (report.runtimeStatus !== 'Completed' || report.details.some((d) => d.status !== 'committed')) {
    throw new Error(`migration failed: ${report.lastError ?? ''} ${JSON.stringify(report.details)}`);
  }
  catalog = new HadoopCatalog(new LocalFileIO(), warehouse);
  env = { connectSource: () => connectPostgres(url), catalog };
  migrated = (await catalog.loadTable(ITEMS.target)).metadata['current-snapshot-id']!;
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an undamaged table', () => {
  it('verifies clean at both levels', async () => {
    for (const level of ['quick', 'full'] as const) {
      const result = await verify(level);
      expect(result.error).toBeUndefined();
      expect(result.status, `${level}: ${JSON.stringify(result.counts)}`).toBe('ok');
      expect(result.counts).toMatchObject({ source: String(ROWS), targetManifest: String(ROWS), ok: true });
    }
  });
});

describe('a damaged Iceberg table fails verification', () => {
  it('an extra data file in the snapshot: more rows in the manifests, each extra row named at the full level', async () => {
    const table = await catalog.loadTable(ITEMS.target);
    const writer = new TableWriter({ io: catalog.io, metadata: table.metadata, filePrefix: 'intruder' });
    await writer.writeRows([
      [100_001, 'intruder 1', 1],
      [100_002, 'intruder 2', null],
      [7, 'item 7', 7],
    ]);
    await fastAppend(catalog, ITEMS.target, { dataFiles: await writer.close(), operationId: 'damage-extra-file' });
    try {
      const quick = await verify('quick');
      expect(quick.status).toBe('differs');
      expect(quick.counts).toMatchObject({ source: String(ROWS), targetManifest: String(ROWS + 3), ok: false });

      const full = await verify('full');
      expect(full.status).toBe('differs');
      expect(full.counts).toEqual({ source: String(ROWS), targetManifest: String(ROWS + 3), targetRead: String(ROWS + 3), ok: false });
      // Row 7 now exists twice in the target: the second copy is extra too, never absorbed by its twin.
      expect((full.rows?.differences ?? []).map((d) => [d.kind, d.key.id]).sort()).toEqual([
        ['EXTRA_IN_TARGET', '100001'],
        ['EXTRA_IN_TARGET', '100002'],
        ['EXTRA_IN_TARGET', '7'],
      ]);
      expect(full.rows?.differing).toBe('3');

      // The same through the orchestration, its rows compared range by range.
      const status = await verifyOrchestrated();
      expect(status.runtimeStatus, status.lastError ?? '').toBe('Completed');
      expect(status.ok).toBe(false);
      expect(status.tables).toMatchObject({ total: 1, done: 1, differing: 1, errors: 0 });
      expect(status.details[0]!.ranges.total, 'key ranges compared').toBeGreaterThan(1);
      const table = status.report!.tables[0]!;
      expect(table.status).toBe('differs');
      expect((table.rows?.differences ?? []).map((d) => [d.kind, d.key.id]).sort()).toEqual([
        ['EXTRA_IN_TARGET', '100001'],
        ['EXTRA_IN_TARGET', '100002'],
        ['EXTRA_IN_TARGET', '7'],
      ]);
    } finally {
      await undo();
    }
  });

  it('a manifest with a wrong record_count: the manifests disagree with the source and with the rows read', async () => {
    const [file, ...others] = await liveFiles();
    expect(others, 'one data file migrated').toEqual([]);
    const table = await catalog.loadTable(ITEMS.target);
    const lying = await writeDataManifest(catalog.io, table.metadata, [{ ...file!, recordCount: file!.recordCount + 5n }]);
    await overwrite(catalog, ITEMS.target, { deleteWhere: (f) => f.filePath === file!.filePath, manifests: [lying], operationId: 'damage-record-count' });
    expect((await liveFiles()).map((f) => [f.filePath, f.recordCount])).toEqual([[file!.filePath, BigInt(ROWS + 5)]]);
    try {
      const quick = await verify('quick');
      expect(quick.status).toBe('differs');
      expect(quick.counts).toMatchObject({ source: String(ROWS), targetManifest: String(ROWS + 5), ok: false });

      const full = await verify('full');
      expect(full.status).toBe('differs');
      // The rows themselves are all there: only the metadata lies, and the count check says so.
      expect(full.counts).toEqual({ source: String(ROWS), targetManifest: String(ROWS + 5), targetRead: String(ROWS), ok: false });
      expect(full.rows?.differences).toEqual([]);
    } finally {
      await undo();
    }
  });

  it('a data file missing from storage: an error naming the file, not a clean or partial result', async () => {
    const [file] = await liveFiles();
    const location = localPath(file!.filePath);
    const bytes = await readFile(location);
    await rm(location);
    try {
      for (const level of ['quick', 'full'] as const) {
        const result = await verify(level);
        expect(result.status, `${level}: ${JSON.stringify(result.counts)}`).toBe('error');
        expect(result.error, level).toContain(path.basename(location));
        expect(result.error, level).toMatch(/does not exist|not found|no such file/i);
      }
      const status = await verifyOrchestrated();
      expect(status.ok).toBe(false);
      expect(status.tables.errors, JSON.stringify(status.details)).toBe(1);
      expect(JSON.stringify(status.report ?? status.lastError ?? '')).toContain(path.basename(location));
    } finally {
      await writeFile(location, bytes);
    }
  });

  it('verifies clean again once every damage is undone', async () => {
    const result = await verify('full');
    expect(result.status).toBe('ok');
    expect(result.counts).toEqual({ source: String(ROWS), targetManifest: String(ROWS), targetRead: String(ROWS), ok: true });
  });
});
