/**
 * Reads the metadata of a table in a local Hadoop-layout warehouse WITHOUT the project's Iceberg code: the
 * newest `v<N>.metadata.json` found by listing the folder, its JSON parsed here (64-bit ids kept as text), and
 * the manifest list and manifests decoded by avsc, an Avro implementation of its own. DuckDB then reads the data
 * files those manifests name, so paths, record counts and file sizes are judged by two readers that share no
 * code with the writer.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { avscDecode } from '../../iceberg/avro/avsc-judge';
import { duckRows, duckString } from './compare';

/** A live data file as the manifests describe it. */
export interface IndependentDataFile {
  /** Local path. */
  path: string;
  recordCount: bigint;
  fileSizeInBytes: bigint;
}

/** The current snapshot of a table, read independently. */
export interface IndependentTable {
  metadataFile: string;
  /** Current snapshot id as written (text: it is 64-bit). */
  snapshotId: string | undefined;
  files: IndependentDataFile[];
  /** Inconsistencies inside the metadata itself (manifest lengths, manifest-list counts against entries). */
  problems: string[];
}

const ENTRY_DELETED = 2;

/** Local path of a `file:` URI or a plain path. */
function localPathOf(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}

/**
 * JSON.parse with every integer literal of 16 or more digits kept as a string, so 64-bit ids survive exactly.
 * Strings are skipped as tokens: digits inside a string value (a checksum, say) are never touched.
 */
export function parseJsonKeepingLongs(text: string): unknown {
  let out = '';
  let at = 0;
  while (at < text.length) {
    const c = text[at]!;
    if (c === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(at, end + 1);
      at = end + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 64))![0];
      out += /^-?\d{16,}$/.test(number) ? `"${number}"` : number;
      at += number.length;
    } else {
      out += c;
      at++;
    }
  }
  return JSON.parse(out);
}

interface MetadataJson {
  'current-snapshot-id'?: string | number | null;
  snapshots?: Array<{ 'snapshot-id': string | number; 'manifest-list': string }>;
}

/** Options of readTableIndependently. */
export interface ReadIndependentlyOptions {
  /** Local path of a location written in the metadata (e.g. an abfss:// location of a downloaded copy); `file:` URIs and plain paths by default. */
  localPathOf?: (location: string) => string;
}

/**
 * Reads a table's current snapshot from `<warehouse>/<namespace…>/<table>` (a local folder) with avsc and plain
 * JSON; data file paths are returned as local paths.
 */
export async function readTableIndependently(
  warehouse: string,
  namespace: string[],
  table: string,
  options: ReadIndependentlyOptions = {},
): Promise<IndependentTable> {
  const toPath = options.localPathOf ?? localPathOf;
  const metadataDir = path.join(warehouse, ...namespace, table, 'metadata');
  const versions = (await readdir(metadataDir))
    .map((name) => /^v(\d+)\.metadata\.json$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (versions.length === 0) throw new Error(`${metadataDir} has no v<N>.metadata.json`);
  const metadataFile = path.join(metadataDir, `v${Math.max(...versions)}.metadata.json`);
  const metadata = parseJsonKeepingLongs(await readFile(metadataFile, 'utf8')) as MetadataJson;
  const current = metadata['current-snapshot-id'];
  const problems: string[] = [];
  if (current === undefined || current === null || String(current) === '-1') return { metadataFile, snapshotId: undefined, files: [], problems };
  const snapshot = (metadata.snapshots ?? []).find((s) => String(s['snapshot-id']) === String(current));
  if (snapshot === undefined) throw new Error(`${metadataFile}: current snapshot ${String(current)} is not among the snapshots`);

  const list = await avscDecode(await readFile(toPath(snapshot['manifest-list'])));
  const files: IndependentDataFile[] = [];
  for (const record of list.records as Array<Record<string, unknown>>) {
    const manifestPath = toPath(String(record.manifest_path));
    const bytes = await readFile(manifestPath);
    if (BigInt(record.manifest_length as bigint) !== BigInt(bytes.length)) {
      problems.push(`${manifestPath}: manifest_length ${String(record.manifest_length)} in the list, ${bytes.length} bytes on disk`);
    }
    const manifest = await avscDecode(bytes);
    const live = (manifest.records as Array<{ status: number; data_file: Record<string, unknown> }>).filter((e) => e.status !== ENTRY_DELETED);
    const liveRows = live.reduce((n, e) => n + BigInt(e.data_file.record_count as bigint), 0n);
    const listedFiles = Number(record.added_files_count) + Number(record.existing_files_count);
    const listedRows = BigInt(record.added_rows_count as bigint) + BigInt(record.existing_rows_count as bigint);
    if (listedFiles !== live.length || listedRows !== liveRows) {
      problems.push(`${manifestPath}: the list says ${listedFiles} files / ${listedRows} rows, its live entries ${live.length} / ${liveRows}`);
    }
    for (const entry of live) {
      if (entry.data_file.content !== 0) problems.push(`${manifestPath}: entry ${String(entry.data_file.file_path)} is not a data file`);
      files.push({
        path: toPath(String(entry.data_file.file_path)),
        recordCount: BigInt(entry.data_file.record_count as bigint),
        fileSizeInBytes: BigInt(entry.data_file.file_size_in_bytes as bigint),
      });
    }
  }
  return { metadataFile, snapshotId: String(current), files, problems };
}

/**
 * Where the manifests and DuckDB disagree about the data files: DuckDB's row count of each file
 * (`parquet_file_metadata`) against its record_count, and the file's size (`read_blob`) against file_size_in_bytes.
 */
export async function dataFileProblems(duck: DuckDBConnection, files: readonly IndependentDataFile[]): Promise<string[]> {
  if (files.length === 0) return [];
  const list = `[${files.map((f) => duckString(f.path)).join(', ')}]`;
  const rows = new Map(
    (await duckRows(duck, `SELECT file_name, num_rows FROM parquet_file_metadata(${list})`)).map(([f, n]) => [String(f), BigInt(n as bigint)]),
  );
  const sizes = new Map((await duckRows(duck, `SELECT filename, size FROM read_blob(${list})`)).map(([f, n]) => [String(f), BigInt(n as bigint)]));
  const problems: string[] = [];
  for (const file of files) {
    const read = rows.get(file.path);
    const size = sizes.get(file.path);
    if (read !== file.recordCount) problems.push(`${file.path}: record_count ${file.recordCount}, DuckDB reads ${String(read)} rows`);
    if (size !== file.fileSizeInBytes) problems.push(`${file.path}: file_size_in_bytes ${file.fileSizeInBytes}, DuckDB sees ${String(size)} bytes`);
    const onDisk = await stat(file.path).catch(() => undefined);
    if (onDisk === undefined) problems.push(`${file.path}: named by a manifest but not on disk`);
  }
  return problems;
}
