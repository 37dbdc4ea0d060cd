/**
 * The worker thread that writes change capture's data files: the same files as the calling thread would write,
 * a writer's failure arrives as the same error, and a worker that ends mid-write fails its batch as retryable
 * (the sync retries the batch; it never stops the table for it).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO } from '../../shared/iceberg/io/local-file-io';
import { createSchema } from '../../shared/iceberg/spec/schema';
import type { TableMetadata } from '../../shared/iceberg/spec/table-metadata';
import type { Row } from '../../shared/iceberg/spec/values';
import { readDataFile } from '../../shared/iceberg/parquet/parquet-reader';
import { DATA_FILE_WORKER_FAILED, DataFileThread } from '../../shared/sync/data-file-thread';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'amount', required: true, type: 'decimal(12, 2)' },
  { id: 4, name: 'tags', required: false, type: { type: 'list', 'element-id': 5, element: 'string', 'element-required': false } },
]);

const rows: Row[] = Array.from({ length: 5000 }, (_, i) => [
  BigInt(i),
  i % 7 === 0 ? null : `name-${i}-ü`,
  BigInt(i) * 101n,
  i % 3 === 0 ? null : [`t${i % 4}`, null],
]);

describe('the data file thread', () => {
  let dir: string;
  let metadata: TableMetadata;
  const thread = new DataFileThread();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-data-thread-'));
    const catalog = new HadoopCatalog(new LocalFileIO(), path.join(dir, 'warehouse'));
    metadata = (await catalog.createTable({ namespace: ['s'], name: 't' }, { schema })).metadata;
  });

  afterAll(async () => {
    await thread.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes only tables on local disk', () => {
    expect(DataFileThread.canWrite(path.join(dir, 'x'))).toBe(true);
    expect(DataFileThread.canWrite('memory://w/x')).toBe(false);
    expect(DataFileThread.canWrite('abfss://fs@account.dfs.core.windows.net/x')).toBe(false);
  });

  it('writes the rows as they came, in order, into files the table can read', async () => {
    const files = await thread.write(metadata, 'cdc-test', rows);
    expect(files.reduce((n, f) => n + Number(f.recordCount), 0)).toBe(rows.length);
    const back: Row[] = [];
    for (const file of files) {
      expect((await stat(file.filePath.replace(/^file:\/\//, ''))).size).toBe(Number(file.fileSizeInBytes));
      for await (const batch of readDataFile(new LocalFileIO(), file.filePath, schema)) back.push(...batch);
    }
    expect(back).toEqual(rows);
  });

  it("passes a writer's failure on as the same error", async () => {
    const bad: Row[] = [
      [1n, 'ok', 100n, null],
      [2n, 42 as unknown as string, 1n, null],
    ];
    const failure = await thread.write(metadata, 'cdc-bad', bad).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(/expected a string/);
  });

  it('fails a write in flight as retryable when the thread ends', async () => {
    const pending = thread.write(metadata, 'cdc-cut', rows);
    await thread.close();
    const failure = await pending.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IcebridgeError);
    expect(failure).toMatchObject({ code: DATA_FILE_WORKER_FAILED, retryable: true });
    // A later write starts a new thread.
    expect((await thread.write(metadata, 'cdc-again', rows.slice(0, 10))).length).toBe(1);
  });
});
