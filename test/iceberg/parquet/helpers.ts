/** Test helpers for the Parquet suites: a temp-dir FileIO, writing rows to one file, reading them back, DuckDB. */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LocalFileIO } from '../../../shared/iceberg/io/local-file-io';
import { DataFileWriter, type DataFileWriterOptions } from '../../../shared/iceberg/parquet/data-file-writer';
import { type ReadDataFileOptions, readDataFile } from '../../../shared/iceberg/parquet/parquet-reader';
import type { DataFile } from '../../../shared/iceberg/spec/manifest';
import type { Schema } from '../../../shared/iceberg/spec/schema';
import type { Row } from '../../../shared/iceberg/spec/values';

/** A local temp directory with a FileIO over it. */
export interface TempWarehouse {
  dir: string;
  io: LocalFileIO;
  /** A fresh absolute file path in the directory. */
  next(stem?: string): string;
  cleanup(): Promise<void>;
}

/** Creates a temp directory for one suite. */
export async function tempWarehouse(): Promise<TempWarehouse> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'icebridge-parquet-test-'));
  let n = 0;
  return {
    dir,
    io: new LocalFileIO(),
    next: (stem = 'data') => path.join(dir, `${stem}-${n++}.parquet`),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes rows with a DataFileWriter and returns the data files. */
export async function writeRows(warehouse: TempWarehouse, schema: Schema, rows: Row[], options: Partial<DataFileWriterOptions> = {}): Promise<DataFile[]> {
  const writer = new DataFileWriter({ io: warehouse.io, schema, newLocation: () => warehouse.next(), ...options });
  await writer.writeRows(rows);
  return writer.close();
}

/** Reads every row of a file as `projection`. */
export async function readAll(warehouse: TempWarehouse, location: string, projection: Schema, options: ReadDataFileOptions = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of readDataFile(warehouse.io, location, projection, options)) rows.push(...batch);
  return rows;
}

/** An in-memory DuckDB connection. */
export async function duckdb(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
}

/** Runs a query and returns its rows as plain JS objects. */
export async function query(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** A SQL string literal of a path. */
export function sqlPath(file: string): string {
  return `'${file.replace(/'/g, "''")}'`;
}
