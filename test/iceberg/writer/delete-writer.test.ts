/**
 * Delete files as an independent Parquet reader (hyparquet, with zstd-napi for the pages) sees them: the reserved
 * field ids and names of position deletes, rows sorted by file then position without duplicates, the equality
 * columns with the table's field ids, and the DataFile records that describe them.
 */
import { describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import { ValidationError } from '../../../shared/errors';
import type { FileIO } from '../../../shared/iceberg/io/file-io';
import { DELETE_FILE_PATH_FIELD_ID, DELETE_FILE_POS_FIELD_ID } from '../../../shared/iceberg/spec/delete-files';
import { DataFileContent } from '../../../shared/iceberg/spec/manifest';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { writeEqualityDeletes, writePositionDeletes } from '../../../shared/iceberg/writer/delete-writer';
import { TABLE, newTable } from '../scan/delete-fixtures';

async function hyparquet(io: FileIO, location: string) {
  const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
  const bytes = await io.read(location);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const compressors = { ZSTD: (input: Uint8Array) => new Uint8Array(decompress(Buffer.from(input))) };
  return { metadata: parquetMetadata(file), rows: await parquetReadObjects({ file, compressors }) };
}

describe('position delete files', () => {
  it('carry file_path and pos with the reserved field ids, sorted by file then position, without duplicates', async () => {
    const catalog = await newTable();
    const { metadata } = await catalog.loadTable(TABLE);
    const file = await writePositionDeletes(catalog.io, metadata, [
      { filePath: 'memory://warehouse/ns/changes/data/b.parquet', pos: 2n },
      { filePath: 'memory://warehouse/ns/changes/data/a.parquet', pos: 10n },
      { filePath: 'memory://warehouse/ns/changes/data/b.parquet', pos: 0n },
      { filePath: 'memory://warehouse/ns/changes/data/a.parquet', pos: 9n },
      { filePath: 'memory://warehouse/ns/changes/data/a.parquet', pos: 10n },
    ]);
    expect(file).toMatchObject({ content: DataFileContent.PositionDeletes, recordCount: 4n, fileFormat: 'PARQUET', partition: [] });
    expect(file.referencedDataFile).toBeUndefined();
    expect(file.filePath).toMatch(/^memory:\/\/warehouse\/ns\/changes\/data\/.*-pos-deletes\.parquet$/);

    const { metadata: footer, rows } = await hyparquet(catalog.io, file.filePath);
    const columns = footer.schema.filter((e) => e.name !== 'schema' && e.num_children === undefined);
    expect(columns.map((e) => [e.name, e.field_id, e.repetition_type])).toEqual([
      ['file_path', DELETE_FILE_PATH_FIELD_ID, 'REQUIRED'],
      ['pos', DELETE_FILE_POS_FIELD_ID, 'REQUIRED'],
    ]);
    expect(rows).toEqual([
      { file_path: 'memory://warehouse/ns/changes/data/a.parquet', pos: 9n },
      { file_path: 'memory://warehouse/ns/changes/data/a.parquet', pos: 10n },
      { file_path: 'memory://warehouse/ns/changes/data/b.parquet', pos: 0n },
      { file_path: 'memory://warehouse/ns/changes/data/b.parquet', pos: 2n },
    ]);
    // Exact (untruncated) bounds on file_path, as readers that prune position deletes by path expect.
    const decoder = new TextDecoder();
    expect(decoder.decode(file.lowerBounds!.get(DELETE_FILE_PATH_FIELD_ID))).toBe('memory://warehouse/ns/changes/data/a.parquet');
    expect(decoder.decode(file.upperBounds!.get(DELETE_FILE_PATH_FIELD_ID))).toBe('memory://warehouse/ns/changes/data/b.parquet');
  });

  it('name their one data file when every delete points into it', async () => {
    const catalog = await newTable();
    const { metadata } = await catalog.loadTable(TABLE);
    const file = await writePositionDeletes(catalog.io, metadata, [{ filePath: 'memory://x/d.parquet', pos: 3n }]);
    expect(file.referencedDataFile).toBe('memory://x/d.parquet');
  });

  it('refuse no deletes, negative positions and a partition tuple the spec does not have', async () => {
    const catalog = await newTable(true);
    const { metadata } = await catalog.loadTable(TABLE);
    await expect(writePositionDeletes(catalog.io, metadata, [])).rejects.toThrow(ValidationError);
    await expect(writePositionDeletes(catalog.io, metadata, [{ filePath: 'memory://x', pos: -1n }], { partition: ['eu'] })).rejects.toThrow(/negative/);
    await expect(writePositionDeletes(catalog.io, metadata, [{ filePath: 'memory://x', pos: 1n }])).rejects.toThrow(/spec 0 has 1 fields/);
  });
});

describe('equality delete files', () => {
  it('carry the equality columns with the table’s field ids, in schema order', async () => {
    const catalog = await newTable(true);
    const { metadata } = await catalog.loadTable(TABLE);
    const file = await writeEqualityDeletes(
      catalog.io,
      metadata,
      [3, 1],
      [
        [7n, 'eu'],
        [8n, 'eu'],
      ],
      { partition: ['eu'] },
    );
    expect(file).toMatchObject({ content: DataFileContent.EqualityDeletes, equalityIds: [1, 3], recordCount: 2n, partition: ['eu'] });
    expect(file.filePath).toContain('/data/region=eu/');
    const { metadata: footer, rows } = await hyparquet(catalog.io, file.filePath);
    const columns = footer.schema.filter((e) => e.name !== 'schema' && e.num_children === undefined);
    expect(columns.map((e) => [e.name, e.field_id])).toEqual([
      ['id', 1],
      ['region', 3],
    ]);
    expect(rows).toEqual([
      { id: 7n, region: 'eu' },
      { id: 8n, region: 'eu' },
    ]);
  });

  it('refuse floating-point, nested and unknown equality columns', async () => {
    const catalog = await newTable();
    await catalog.dropTable(TABLE);
    const schema = createSchema([
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'score', required: false, type: 'double' },
      { id: 3, name: 'tags', required: false, type: { type: 'list', 'element-id': 4, element: 'string', 'element-required': false } },
    ]);
    const { metadata } = await catalog.createTable(TABLE, { schema });
    await expect(writeEqualityDeletes(catalog.io, metadata, [2], [[1.5]])).rejects.toThrow(/floating point/);
    await expect(writeEqualityDeletes(catalog.io, metadata, [3], [[['a']]])).rejects.toThrow(/primitive column/);
    await expect(writeEqualityDeletes(catalog.io, metadata, [4], [['a']])).rejects.toThrow(/not a top-level column/);
    await expect(writeEqualityDeletes(catalog.io, metadata, [], [[1n]])).rejects.toThrow(ValidationError);
  });
});
