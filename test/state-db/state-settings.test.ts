import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMigrationsDirectory, readMigrationFiles } from '../../shared/state-db/migration-files';
import { quotedStateSchema } from '../../shared/state-db/state-schema';
import { stateDatabaseFromEnv } from '../../shared/state-db/state-settings';

describe('state schema name', () => {
  it('quotes a plain identifier and refuses anything else, and pg_ names', () => {
    expect(quotedStateSchema('icebridge')).toBe('"icebridge"');
    expect(quotedStateSchema('Ops_State')).toBe('"Ops_State"');
    for (const bad of ['', 'a"b', 'a b', '1abc', 'x'.repeat(64), 'a;drop', 'pg_state']) expect(() => quotedStateSchema(bad)).toThrow(/state schema name/);
  });
});

describe('state database settings', () => {
  it('is absent without a URL, validates each setting, and never shows the URL', () => {
    expect(stateDatabaseFromEnv({})).toBeUndefined();
    expect(stateDatabaseFromEnv({ ICEBRIDGE_STATE_DATABASE_URL: 'postgresql://u:pw@h/db' })).toEqual({
      url: 'postgresql://u:pw@h/db',
      schema: 'icebridge',
      migrateOnStart: false,
    });
    expect(
      stateDatabaseFromEnv({ ICEBRIDGE_STATE_DATABASE_URL: 'postgresql://u:pw@h/db', ICEBRIDGE_STATE_SCHEMA: 'ops', ICEBRIDGE_STATE_MIGRATE_ON_START: 'true' }),
    ).toMatchObject({
      schema: 'ops',
      migrateOnStart: true,
    });
    expect(() => stateDatabaseFromEnv({ ICEBRIDGE_STATE_DATABASE_URL: 'mysql://u:pw@h/db' })).toThrow(/^ICEBRIDGE_STATE_DATABASE_URL must be a postgres/);
    expect(() => stateDatabaseFromEnv({ ICEBRIDGE_STATE_DATABASE_URL: 'mysql://u:s3cret@h/db' })).not.toThrow(/s3cret/);
    expect(() => stateDatabaseFromEnv({ ICEBRIDGE_STATE_MIGRATE_ON_START: 'yes' })).toThrow(/ICEBRIDGE_STATE_MIGRATE_ON_START/);
    expect(() => stateDatabaseFromEnv({ ICEBRIDGE_STATE_SCHEMA: 'a"b' })).toThrow(/state schema name/);
  });
});

describe('migration files', () => {
  it('are found from the sources and from a build beside them (dist/shared/state-db), as the package ships them', () => {
    const root = path.resolve(__dirname, '../..');
    expect(defaultMigrationsDirectory()).toBe(path.join(root, 'migrations'));
    expect(defaultMigrationsDirectory(path.join(root, 'dist', 'shared', 'state-db'))).toBe(path.join(root, 'migrations'));
    expect(() => defaultMigrationsDirectory(tmpdir())).toThrow(/migrations folder was not found/);
  });

  it('are read in version order with a checksum; a misnamed file or a repeated version is refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'icebridge-migrations-'));
    try {
      await writeFile(path.join(dir, '0010_later.sql'), 'SELECT 2;');
      await writeFile(path.join(dir, '0002_first.sql'), 'SELECT 1;');
      await writeFile(path.join(dir, 'README.md'), 'not SQL');
      const files = await readMigrationFiles(dir);
      expect(files.map((f) => [f.version, f.name])).toEqual([
        [2, '0002_first.sql'],
        [10, '0010_later.sql'],
      ]);
      expect(files[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
      await writeFile(path.join(dir, '0002_again.sql'), 'SELECT 3;');
      await expect(readMigrationFiles(dir)).rejects.toThrow(/0002_again\.sql and 0002_first\.sql have the same version 2|same version 2/);
      await rm(path.join(dir, '0002_again.sql'));
      await writeFile(path.join(dir, '3_Bad Name.sql'), 'SELECT 4;');
      await expect(readMigrationFiles(dir)).rejects.toThrow(/3_Bad Name\.sql is not named/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
