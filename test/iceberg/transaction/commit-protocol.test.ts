/**
 * The commit protocol judged by what it leaves: after a lost race and after a lost answer the table still scans
 * to exactly its rows, and no manifest list, manifest or data file is left that the table does not reference,
 * except what an attempt in an unknown state wrote (never deleted, because that attempt may have landed).
 * Races are forced with a gate on the contested metadata version, never hoped for.
 */
import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import type { WriteFileOptions } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import type { DataFile } from '../../../shared/iceberg/spec/manifest';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { Row } from '../../../shared/iceberg/spec/values';
import { fastAppend, overwrite } from '../../../shared/iceberg/transaction/table-operations';
import { TableWriter } from '../../../shared/iceberg/writer/table-writer';
import { checkTableIntegrity } from './table-integrity';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
]);
const id = { namespace: ['ns'], name: 't' };
const noSleep = { sleep: async () => undefined };

/** A promise with its resolver outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Memory storage whose exclusive create of one metadata version is contested on purpose: the first writer to
 * reach it is held until a second writer has created it, so the first always loses, whatever the scheduling.
 * Optionally fails exclusive writes (before or after they land) to simulate a lost request or a lost answer.
 */
class CommitLab extends MemoryFileIO {
  /** Resolves when the first contender is held at the contested version. */
  readonly firstArrived = deferred();
  private held: { promise: Promise<void>; resolve: () => void } | undefined;
  private contestOver = false;
  contested: string | undefined;
  /** Called around every exclusive write; may throw before or after calling `write`. */
  onExclusive: ((location: string, write: () => Promise<void>) => Promise<void>) | undefined;

  override async write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    if (!options?.exclusive) return super.write(location, data, options);
    const write = (): Promise<void> => super.write(location, data, options);
    if (this.contested !== undefined && !this.contestOver && location.endsWith(`/metadata/${this.contested}`)) {
      if (this.held === undefined) {
        this.held = deferred();
        this.firstArrived.resolve();
        await this.held.promise;
        return write();
      }
      this.contestOver = true;
      try {
        return await write();
      } finally {
        this.held.resolve();
      }
    }
    return this.onExclusive ? this.onExclusive(location, write) : write();
  }
}

async function setup(io: CommitLab): Promise<HadoopCatalog> {
  const catalog = new HadoopCatalog(io, 'memory://warehouse');
  await catalog.createTable(id, { schema });
  return catalog;
}

function rowsFrom(from: number, count: number): Row[] {
  return Array.from({ length: count }, (_, k) => [BigInt(from + k), `row ${from + k}`]);
}

/** Real Parquet data files of `rows`, written into the table's data folder. */
async function dataFiles(catalog: HadoopCatalog, rows: Row[]): Promise<DataFile[]> {
  const table = await catalog.loadTable(id);
  const writer = new TableWriter({ io: catalog.io, metadata: table.metadata });
  await writer.writeRows(rows);
  return writer.close();
}

function ids(rows: Row[]): bigint[] {
  return rows.map((r) => r[0] as bigint).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('after a lost race', () => {
  it('the losing append deletes its manifest list, retries, and the table scans to both appends', async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    io.contested = 'v2.metadata.json';
    const [first, second] = [await dataFiles(catalog, rowsFrom(0, 5)), await dataFiles(catalog, rowsFrom(100, 3))];
    const loser = fastAppend(catalog, id, { dataFiles: first, operationId: 'loser', ...noSleep });
    await io.firstArrived.promise;
    const winner = await fastAppend(catalog, id, { dataFiles: second, operationId: 'winner', ...noSleep });
    const lost = await loser;
    expect(winner.attempts).toBe(1);
    expect(lost.attempts, 'the first contender must have lost once').toBe(2);

    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems).toEqual([]);
    expect(ids(integrity.rows)).toEqual(ids([...rowsFrom(0, 5), ...rowsFrom(100, 3)]));
    expect((await catalog.loadTable(id)).metadata.snapshots).toHaveLength(2);
  });

  it('the losing overwrite deletes its manifest list and rewritten manifests, and re-plans on the new base', async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    const base = await dataFiles(catalog, rowsFrom(0, 4));
    await fastAppend(catalog, id, { dataFiles: base, operationId: 'base' });
    io.contested = 'v3.metadata.json';
    const replacement = await dataFiles(catalog, rowsFrom(10, 2));
    const appended = await dataFiles(catalog, rowsFrom(20, 1));
    const loser = overwrite(catalog, id, {
      deleteWhere: (file) => file.filePath === base[0]!.filePath,
      dataFiles: replacement,
      operationId: 'replace',
      ...noSleep,
    });
    await io.firstArrived.promise;
    await fastAppend(catalog, id, { dataFiles: appended, operationId: 'append', ...noSleep });
    expect((await loser).attempts).toBe(2);

    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems).toEqual([]);
    expect(ids(integrity.rows)).toEqual(ids([...rowsFrom(10, 2), ...rowsFrom(20, 1)]));
  });
});

describe('after a lost answer', () => {
  it('a commit that landed is found by its operation id, and its manifest list is kept: the table still scans', async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    const files = await dataFiles(catalog, rowsFrom(0, 7));
    let faults = 0;
    io.onExclusive = async (_location, write) => {
      await write();
      if (faults++ === 0) throw new Error('connection reset by peer');
    };
    const result = await fastAppend(catalog, id, { dataFiles: files, operationId: 'lost-answer', ...noSleep });
    expect(faults).toBe(1);
    expect(result.attempts).toBe(1);

    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems).toEqual([]);
    expect(ids(integrity.rows)).toEqual(ids(rowsFrom(0, 7)));
    const table = await catalog.loadTable(id);
    expect(table.version).toBe(2);
    expect(table.metadata.snapshots).toHaveLength(1);
  });

  it('a lost answer on a later table keeps the earlier snapshots readable too', async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    await fastAppend(catalog, id, { dataFiles: await dataFiles(catalog, rowsFrom(0, 2)), operationId: 'first' });
    const files = await dataFiles(catalog, rowsFrom(50, 2));
    let faults = 0;
    io.onExclusive = async (_location, write) => {
      await write();
      if (faults++ === 0) throw new Error('ETIMEDOUT');
    };
    await fastAppend(catalog, id, { dataFiles: files, operationId: 'second', ...noSleep });
    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems).toEqual([]);
    expect(ids(integrity.rows)).toEqual(ids([...rowsFrom(0, 2), ...rowsFrom(50, 2)]));
  });

  it("a commit that did not land is retried once; the unknown attempt's manifest list is the only file left over", async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    const files = await dataFiles(catalog, rowsFrom(0, 3));
    let faults = 0;
    io.onExclusive = async (_location, write) => {
      if (faults++ === 0) throw new Error('socket hang up');
      await write();
    };
    const result = await fastAppend(catalog, id, { dataFiles: files, operationId: 'retried', ...noSleep });
    expect(result.attempts).toBe(2);
    const integrity = await checkTableIntegrity(catalog, id, {});
    expect(ids(integrity.rows)).toEqual(ids(rowsFrom(0, 3)));
    // While the outcome was unknown the attempt might have landed, so its files are never deleted.
    expect(integrity.orphans).toHaveLength(1);
    expect(integrity.orphans[0]).toMatch(/^metadata\/snap-\d+-1-[0-9a-f-]+\.avro$/);
    expect(integrity.problems).toEqual([`orphaned file: ${integrity.orphans[0]}`]);
  });
});

describe('the integrity check itself', () => {
  it('names an orphaned manifest list and a referenced file that is missing', async () => {
    const io = new CommitLab();
    const catalog = await setup(io);
    const files = await dataFiles(catalog, rowsFrom(0, 2));
    await fastAppend(catalog, id, { dataFiles: files, operationId: 'one' });
    await io.write('memory://warehouse/ns/t/metadata/snap-1-1-stray.avro', new Uint8Array(3));
    await io.delete(files[0]!.filePath);
    const integrity = await checkTableIntegrity(catalog, id);
    expect(integrity.problems.join('\n')).toMatch(/cannot be scanned/);
    expect(integrity.problems).toContain('orphaned file: metadata/snap-1-1-stray.avro');
    expect(integrity.problems.some((p) => p.startsWith('referenced but missing: data/'))).toBe(true);
  });
});
