import { describe, expect, it } from 'vitest';
import type { DriftTable } from '../../shared/drift/drift-model';
import { listRegistryVersions, readLatestRegistry, readRegistryVersion, recordRegistry, registryVersionLocation } from '../../shared/drift/registry-store';
import { MemoryFileIO } from '../../shared/iceberg/io/memory-file-io';
import type { WriteFileOptions } from '../../shared/iceberg/io/file-io';

const warehouse = 'memory://w';

function table(schema: string, name: string, type = 'integer'): DriftTable {
  return {
    schema,
    name,
    columns: [{ name: 'id', pgType: type, typmod: -1, icebergType: type === 'bigint' ? 'long' : 'int', notNull: true, default: null, identity: null }],
    primaryKey: ['id'],
    replicaIdentity: { mode: 'default', columns: ['id'] },
  };
}

/** A FileIO where another writer creates the same registry version first, once, just before our write. */
class RacedFileIO extends MemoryFileIO {
  constructor(private readonly competitor: () => Promise<void>) {
    super();
  }
  private raced = false;
  override async write(location: string, data: Uint8Array, options?: WriteFileOptions): Promise<void> {
    if (options?.exclusive && !this.raced) {
      this.raced = true;
      await this.competitor();
    }
    return super.write(location, data, options);
  }
}

describe('the schema registry in the warehouse', () => {
  it('writes a version only when the schema changed, and keeps the other schemas and tables it was not asked about', async () => {
    const io = new MemoryFileIO();
    expect(await readLatestRegistry(io, warehouse)).toBeUndefined();
    expect(await recordRegistry(io, warehouse, { schema: 'public', tables: [table('public', 'a'), table('public', 'b')], source: 's' })).toEqual({
      version: 1,
      written: true,
    });
    expect(await recordRegistry(io, warehouse, { schema: 'public', tables: [table('public', 'b'), table('public', 'a')], source: 's' })).toEqual({
      version: 1,
      written: false,
    });
    expect(await recordRegistry(io, warehouse, { schema: 'sales', tables: [table('sales', 'a')], source: 's' })).toEqual({ version: 2, written: true });
    expect(await recordRegistry(io, warehouse, { schema: 'public', tables: [table('public', 'a', 'bigint')], source: 's', scope: ['a'] })).toEqual({
      version: 3,
      written: true,
    });
    const v3 = await readRegistryVersion(io, warehouse, 3);
    expect(v3.tables.map((t) => `${t.schema}.${t.name}:${t.columns[0]!.pgType}`)).toEqual(['public.a:bigint', 'public.b:integer', 'sales.a:integer']);
    expect(await listRegistryVersions(io, warehouse)).toEqual([1, 2, 3]);
    expect(registryVersionLocation(warehouse, 3)).toBe('memory://w/.icebridge/schema-registry/v000003.json');
    await expect(readRegistryVersion(io, warehouse, 9)).rejects.toThrow('schema registry version 9 does not exist; versions: 1, 2, 3');
  });

  it('never overwrites a version another writer created first', async () => {
    // The other writer records a different schema as version 1: ours becomes version 2, theirs stays.
    const io: RacedFileIO = new RacedFileIO(async () => {
      await recordRegistry(io, warehouse, { schema: 'public', tables: [table('public', 'other')], source: 'them' });
    });
    expect(await recordRegistry(io, warehouse, { schema: 'public', tables: [table('public', 'a')], source: 'us' })).toEqual({ version: 2, written: true });
    expect((await readRegistryVersion(io, warehouse, 1)).source).toBe('them');
    expect((await readRegistryVersion(io, warehouse, 2)).tables.map((t) => t.name)).toEqual(['a']);

    // The other writer records the same schema: nothing more to write.
    const same: RacedFileIO = new RacedFileIO(async () => {
      await recordRegistry(same, warehouse, { schema: 'public', tables: [table('public', 'a')], source: 'them' });
    });
    expect(await recordRegistry(same, warehouse, { schema: 'public', tables: [table('public', 'a')], source: 'us' })).toEqual({ version: 1, written: false });
    expect(await listRegistryVersions(same, warehouse)).toEqual([1]);
  });
});
