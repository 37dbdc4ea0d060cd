/**
 * Tables for the delete-file suites: a catalog on MemoryFileIO, a small schema (id, name, region), data files
 * written through the real Parquet writer, and helpers that read a table back as sorted ids.
 */
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import type { TableIdentifier } from '../../../shared/iceberg/catalog/table-identifier';
import type { FileIO } from '../../../shared/iceberg/io/file-io';
import { MemoryFileIO } from '../../../shared/iceberg/io/memory-file-io';
import { DataFileWriter } from '../../../shared/iceberg/parquet/data-file-writer';
import { type ScanOptions, scanToArray } from '../../../shared/iceberg/scan/table-scan';
import type { DataFile } from '../../../shared/iceberg/spec/manifest';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { currentSchema } from '../../../shared/iceberg/spec/table-metadata';
import type { Row } from '../../../shared/iceberg/spec/values';

/** id (long, required), name (string), region (string, required). */
export const SCHEMA = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'region', required: true, type: 'string' },
]);

/** Identity partitioning on region. */
export const BY_REGION: PartitionSpec = { 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'region', transform: 'identity' }] };

/** The table every suite uses. */
export const TABLE: TableIdentifier = { namespace: ['ns'], name: 'changes' };

/** A fresh warehouse (in memory unless another FileIO is given) with the table created, partitioned by region when asked. */
export async function newTable(partitioned = false, io: FileIO = new MemoryFileIO()): Promise<HadoopCatalog> {
  const catalog = new HadoopCatalog(io, 'memory://warehouse');
  await catalog.createTable(TABLE, partitioned ? { schema: SCHEMA, spec: BY_REGION } : { schema: SCHEMA });
  return catalog;
}

/** A row of the schema. */
export function row(id: number, region = 'eu'): Row {
  return [BigInt(id), `name-${id}`, region];
}

let files = 0;

/** Writes rows (all of one region when partitioned) into ONE Parquet data file in row order. */
export async function writeData(catalog: HadoopCatalog, rows: Row[], partition: string[] = [], rowGroupSizeInBytes?: number): Promise<DataFile> {
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  const folder = partition.length === 0 ? 'data' : `data/region=${partition[0]}`;
  const writer = new DataFileWriter({
    io: catalog.io,
    schema: currentSchema(metadata),
    partition,
    newLocation: () => `${metadata.location}/${folder}/d${++files}.parquet`,
    ...(rowGroupSizeInBytes === undefined ? {} : { rowGroupSizeInBytes }),
  });
  await writer.writeRows(rows);
  const [file] = await writer.close();
  return file!;
}

/** The ids a scan returns, sorted. */
export async function scanIds(catalog: HadoopCatalog, options: ScanOptions = {}): Promise<number[]> {
  const metadata = (await catalog.loadTable(TABLE)).metadata;
  return (await scanToArray(catalog.io, metadata, options)).map((r) => Number(r[0] as bigint)).sort((a, b) => a - b);
}

/** 0..n-1 without the given ids. */
export function idsWithout(from: number, to: number, without: number[]): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i).filter((i) => !without.includes(i));
}
