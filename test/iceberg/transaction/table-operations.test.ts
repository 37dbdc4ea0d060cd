import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, CommitConflictError, CommitStateUnknownError, ValidationError } from '../../../shared/errors';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import type { FileIO, WriteFileOptions } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { type DataFile, DataFileContent, ManifestEntryStatus } from '../../../shared/iceberg/spec/manifest';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { currentSchema, defaultSpec } from '../../../shared/iceberg/spec/table-metadata';
import { liveEntries, manifestEntries, snapshotManifests, writeDataManifest } from '../../../shared/iceberg/transaction/manifest-files';
import { expireSnapshots, rollbackTo, setCurrentSnapshot } from '../../../shared/iceberg/transaction/snapshot-management';
import { OPERATION_ID_PROPERTY } from '../../../shared/iceberg/transaction/snapshot-producer';
import { setPartitionSpec, updateSchema } from '../../../shared/iceberg/transaction/table-evolution';
import { fastAppend, overwrite } from '../../../shared/iceberg/transaction/table-operations';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
]);
const id = { namespace: ['ns'], name: 't' };
const noSleep = { sleep: async () => undefined };

async function setup(io: FileIO = new MemoryFileIO()) {
  const catalog = new HadoopCatalog(io, 'memory://warehouse');
  await catalog.createTable(id, { schema });
  return catalog;
}

let counter = 0;
async function dataFile(io: FileIO, records = 10n): Promise<DataFile> {
  const filePath = `memory://warehouse/ns/t/data/file-${++counter}.parquet`;
  await io.write(filePath, new Uint8Array(100));
  return { content: DataFileContent.Data, filePath, fileFormat: 'PARQUET', partition: [], recordCount: records, fileSizeInBytes: 100n };
}

async function livePaths(catalog: HadoopCatalog): Promise<string[]> {
  const table = await catalog.loadTable(id);
  const snapshot = table.metadata.snapshots.find((s) => s['snapshot-id'] === table.metadata['current-snapshot-id']);
  return (await liveEntries(catalog.io, snapshot)).map((e) => e.entry.dataFile.filePath).sort();
}

/** Forwards to a FileIO but lets a test intercept exclusive (commit) writes. */
class FaultyIO extends MemoryFileIO {
  onExclusive?: (location: string, write: () => Promise<void>) => Promise<void>;
  override async write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    if (options?.exclusive && this.onExclusive) {
      const hook = this.onExclusive;
      return hook(location, () => super.write(location, data, options));
    }
    return super.write(location, data, options);
  }
}

describe('catalog and commits', () => {
  // What every catalog does (create, load, list, drop, requirements) is in test/iceberg/catalog/catalog-contract.ts.
  it('lays a new table out as version 1 at metadata/v1.metadata.json', async () => {
    const catalog = await setup();
    const table = await catalog.loadTable(id);
    expect(table.version).toBe(1);
    expect(table.metadataLocation).toBe('memory://warehouse/ns/t/metadata/v1.metadata.json');
  });

  it('turns a lost race for the next version into a commit conflict', async () => {
    const catalog = await setup();
    const base = await catalog.loadTable(id);
    await catalog.commit(base, [], [{ action: 'set-properties', updates: { a: '1' } }]);
    await expect(catalog.commit(base, [], [{ action: 'set-properties', updates: { a: '2' } }])).rejects.toBeInstanceOf(CommitConflictError);
    expect((await catalog.loadTable(id)).metadata.properties.a).toBe('1');
  });

  it('commits the version after the one its base names, whatever else the base carries', async () => {
    const catalog = await setup();
    // A base as any Catalog hands it out: no version member, only the metadata file it came from.
    const { version: _version, ...base } = await catalog.loadTable(id);
    const committed = await catalog.commit(base, [], [{ action: 'set-properties', updates: { a: '1' } }]);
    expect(committed.version).toBe(2);
    expect(committed.metadataLocation).toBe('memory://warehouse/ns/t/metadata/v2.metadata.json');
    const foreign = { ...committed, metadataLocation: 'memory://warehouse/ns/t/metadata/00002-abc.metadata.json' };
    await expect(catalog.commit(foreign, [], [])).rejects.toBeInstanceOf(ValidationError);
    expect((await catalog.loadTable(id)).version).toBe(2);
  });

  it('finds versions past a stale or missing version hint', async () => {
    const catalog = await setup();
    await catalog.commit(await catalog.loadTable(id), [], [{ action: 'set-properties', updates: { a: '1' } }]);
    await catalog.io.write('memory://warehouse/ns/t/metadata/version-hint.text', Buffer.from('1'));
    expect((await catalog.loadTable(id)).version).toBe(2);
    await catalog.io.delete('memory://warehouse/ns/t/metadata/version-hint.text');
    expect((await catalog.loadTable(id)).version).toBe(2);
    await catalog.io.write('memory://warehouse/ns/t/metadata/version-hint.text', Buffer.from('7'));
    expect((await catalog.loadTable(id)).version).toBe(2);
  });
});

describe('fast append', () => {
  it('adds files in one snapshot with summary totals and is idempotent per operation id', async () => {
    const catalog = await setup();
    const files = [await dataFile(catalog.io, 10n), await dataFile(catalog.io, 5n)];
    const first = await fastAppend(catalog, id, { dataFiles: files, operationId: 'run-1', properties: { 'icebridge.run-id': 'r1' } });
    expect(first.created).toBe(true);
    const snapshot = first.table.metadata.snapshots[0]!;
    expect(snapshot.summary).toMatchObject({
      operation: 'append',
      'added-data-files': '2',
      'added-records': '15',
      'total-records': '15',
      'total-data-files': '2',
      'added-files-size': '200',
      [OPERATION_ID_PROPERTY]: 'run-1',
      'icebridge.run-id': 'r1',
    });
    expect(snapshot['sequence-number']).toBe(1n);
    const again = await fastAppend(catalog, id, { dataFiles: files, operationId: 'run-1' });
    expect(again.created).toBe(false);
    expect(again.snapshotId).toBe(first.snapshotId);
    expect((await catalog.loadTable(id)).metadata.snapshots).toHaveLength(1);
  });

  it('appends manifests written beforehand by parallel workers, inheriting the snapshot id and sequence number', async () => {
    const catalog = await setup();
    const start = await catalog.loadTable(id);
    const manifests = await Promise.all([1, 2, 3].map(async () => writeDataManifest(catalog.io, start.metadata, [await dataFile(catalog.io)])));
    const result = await fastAppend(catalog, id, { manifests, operationId: 'fan-in' });
    const listed = await snapshotManifests(catalog.io, result.table.metadata.snapshots[0]);
    expect(listed).toHaveLength(3);
    for (const m of listed) {
      expect(m.addedSnapshotId).toBe(result.snapshotId);
      expect(m.sequenceNumber).toBe(1n);
      const [entry] = await manifestEntries(catalog.io, m);
      expect(entry).toMatchObject({ snapshotId: result.snapshotId, sequenceNumber: 1n, fileSequenceNumber: 1n, status: ManifestEntryStatus.Added });
    }
  });

  it('concurrent appenders all land: one snapshot each, every file exactly once', async () => {
    const catalog = await setup();
    const files = await Promise.all(Array.from({ length: 8 }, () => dataFile(catalog.io)));
    await Promise.all(files.map((file, i) => fastAppend(catalog, id, { dataFiles: [file], operationId: `w${i}`, maxAttempts: 30, baseDelayInMs: 1 })));
    const table = await catalog.loadTable(id);
    expect(table.metadata.snapshots).toHaveLength(8);
    expect(table.metadata.snapshots.map((s) => s['sequence-number']).sort()).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    expect(await livePaths(catalog)).toEqual(files.map((f) => f.filePath).sort());
  });

  it('a commit whose write landed but whose answer was lost counts as done, not done twice', async () => {
    const io = new FaultyIO();
    const catalog = await setup(io);
    let faults = 0;
    io.onExclusive = async (_location, write) => {
      await write();
      if (faults++ === 0) throw new Error('connection reset by peer');
    };
    const result = await fastAppend(catalog, id, { dataFiles: [await dataFile(io)], operationId: 'lost-answer', ...noSleep });
    expect(faults).toBe(1);
    expect(result.table.metadata.snapshots).toHaveLength(1);
    expect((await catalog.loadTable(id)).version).toBe(2);
  });

  it('a commit that failed before writing is retried after the look-up finds nothing', async () => {
    const io = new FaultyIO();
    const catalog = await setup(io);
    let faults = 0;
    io.onExclusive = async (_location, write) => {
      if (faults++ === 0) throw new Error('socket hang up');
      await write();
    };
    const result = await fastAppend(catalog, id, { dataFiles: [await dataFile(io)], operationId: 'retry', ...noSleep });
    expect(result.table.metadata.snapshots).toHaveLength(1);
  });

  it('the catalog reports an ambiguous write as commit state unknown', async () => {
    const io = new FaultyIO();
    const catalog = await setup(io);
    io.onExclusive = async () => {
      throw new Error('timeout');
    };
    await expect(catalog.commit(await catalog.loadTable(id), [], [])).rejects.toBeInstanceOf(CommitStateUnknownError);
  });

  it('gives up after the attempt bound with a conflict error', async () => {
    const io = new FaultyIO();
    const catalog = await setup(io);
    const file = await dataFile(io);
    io.onExclusive = async (location) => {
      throw new AlreadyExistsError(location);
    };
    await expect(fastAppend(catalog, id, { dataFiles: [file], maxAttempts: 3, ...noSleep })).rejects.toThrow(/after 3 attempts/);
  });
});

describe('overwrite, rollback and expiry', () => {
  it('replaces files and keeps sequence numbers of the survivors', async () => {
    const catalog = await setup();
    const [a, b] = [await dataFile(catalog.io), await dataFile(catalog.io)];
    await fastAppend(catalog, id, { dataFiles: [a!, b!] });
    const c = await dataFile(catalog.io, 3n);
    const result = await overwrite(catalog, id, { deleteWhere: (f) => f.filePath === a!.filePath, dataFiles: [c] });
    const snapshot = result.table.metadata.snapshots[1]!;
    expect(snapshot.summary).toMatchObject({
      operation: 'overwrite',
      'deleted-data-files': '1',
      'added-data-files': '1',
      'total-records': '13',
      'total-data-files': '2',
    });
    const live = await liveEntries(catalog.io, snapshot);
    expect(live.map((e) => [e.entry.dataFile.filePath, e.entry.sequenceNumber]).sort()).toEqual(
      [
        [b!.filePath, 1n],
        [c.filePath, 2n],
      ].sort(),
    );
  });

  it('rolls back to an ancestor, refuses a non-ancestor, and sets any snapshot current', async () => {
    const catalog = await setup();
    const s1 = (await fastAppend(catalog, id, { dataFiles: [await dataFile(catalog.io)] })).snapshotId;
    const s2 = (await fastAppend(catalog, id, { dataFiles: [await dataFile(catalog.io)] })).snapshotId;
    let table = await rollbackTo(catalog, id, s1);
    expect(table.metadata['current-snapshot-id']).toBe(s1);
    expect(await livePaths(catalog)).toHaveLength(1);
    await expect(rollbackTo(catalog, id, s2)).rejects.toBeInstanceOf(ValidationError);
    table = await setCurrentSnapshot(catalog, id, s2);
    expect(table.metadata['current-snapshot-id']).toBe(s2);
    expect(await livePaths(catalog)).toHaveLength(2);
  });

  it('sets table properties in the same commit that rolls back', async () => {
    const catalog = await setup();
    const s1 = (await fastAppend(catalog, id, { dataFiles: [await dataFile(catalog.io)] })).snapshotId;
    await fastAppend(catalog, id, { dataFiles: [await dataFile(catalog.io)] });
    const before = await catalog.loadTable(id);
    const table = await rollbackTo(catalog, id, s1, { tableProperties: { 'icebridge.cdc.stopped.slot': '{"lsn":"0/1"}' } });
    expect(table.metadata['current-snapshot-id']).toBe(s1);
    expect(table.metadata.properties['icebridge.cdc.stopped.slot']).toBe('{"lsn":"0/1"}');
    // One new metadata version: no reader sees the table moved without its properties.
    expect((await catalog.loadTable(id)).version).toBe(before.version + 1);
  });

  it('expires snapshots and deletes only files no remaining snapshot references', async () => {
    const catalog = await setup();
    const [a, b] = [await dataFile(catalog.io), await dataFile(catalog.io)];
    const s1 = (await fastAppend(catalog, id, { dataFiles: [a!] })).snapshotId;
    await fastAppend(catalog, id, { dataFiles: [b!] });
    await overwrite(catalog, id, { deleteWhere: (f) => f.filePath === a!.filePath });
    const beforeList = (await catalog.loadTable(id)).metadata.snapshots[0]!['manifest-list'];
    const result = await expireSnapshots(catalog, id, { snapshotIds: [s1] });
    expect(result.expiredSnapshotIds).toEqual([s1]);
    expect(result.deletedFiles).toContain(beforeList);
    // a was deleted by the overwrite but still live in s2, which remains: nothing of it may go yet.
    expect(result.deletedFiles).not.toContain(a!.filePath);
    expect(await catalog.io.stat(a!.filePath)).toBeDefined();
    const s2 = (await catalog.loadTable(id)).metadata.snapshots[0]!['snapshot-id'];
    const second = await expireSnapshots(catalog, id, { snapshotIds: [s2] });
    expect(second.deletedFiles).toContain(a!.filePath);
    expect(await catalog.io.stat(a!.filePath)).toBeUndefined();
    expect(await catalog.io.stat(b!.filePath)).toBeDefined();
    expect(await livePaths(catalog)).toEqual([b!.filePath]);
    await expect(expireSnapshots(catalog, id, { snapshotIds: [(await catalog.loadTable(id)).metadata['current-snapshot-id']!] })).rejects.toThrow(
      /current or referenced/,
    );
  });
});

describe('evolution commits', () => {
  it('evolves the schema and the partition spec, reusing partition field ids', async () => {
    const catalog = await setup();
    let table = await updateSchema(catalog, id, (u) => u.addColumn('created_at', 'timestamptz').renameColumn('name', 'full_name'));
    expect(currentSchema(table.metadata).fields.map((f) => f.name)).toEqual(['id', 'full_name', 'created_at']);
    expect(table.metadata['current-schema-id']).toBe(1);
    table = await setPartitionSpec(catalog, id, [
      { source: 'created_at', transform: 'day' },
      { source: 'id', transform: 'bucket[16]' },
    ]);
    expect(defaultSpec(table.metadata)).toEqual({
      'spec-id': 1,
      fields: [
        { 'source-id': 3, 'field-id': 1000, name: 'created_at_day', transform: 'day' },
        { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
      ],
    });
    table = await setPartitionSpec(catalog, id, [{ source: 'id', transform: 'bucket[16]' }]);
    expect(defaultSpec(table.metadata).fields[0]!['field-id']).toBe(1001);
    await expect(setPartitionSpec(catalog, id, [{ source: 'full_name', transform: 'day' }])).rejects.toThrow();
    await expect(updateSchema(catalog, id, (u) => u.updateColumnType('id', 'int'))).rejects.toBeInstanceOf(ValidationError);
  });
});
