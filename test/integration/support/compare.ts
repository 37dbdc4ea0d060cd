/**
 * Row-by-row comparison of a PostgreSQL table with the Iceberg table migrated from it, through readers that
 * share no code with the migration: PostgreSQL's own SQL on one side, DuckDB reading the Parquet data files of
 * the current snapshot on the other. Each value becomes a canonical text built IN SQL on both sides from the
 * column's Iceberg type (integers as digits, decimals at the column's scale, timestamps as microseconds from
 * 1970, dates as days from 1970, binary as hex, lists and structs as JSON arrays of canonical elements), and
 * whole rows are compared as sorted multisets, so tables without a key and duplicate rows are covered.
 *
 * Floats are the exception to "text in SQL": both sides print them (PostgreSQL with extra_float_digits = 3,
 * DuckDB's shortest round-trip form, whose spellings of NaN and infinities differ), and the texts are parsed
 * into numbers here and compared with Object.is semantics, so NaN, -0 and ±Infinity must match exactly.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Client } from 'pg';
import { HadoopCatalog } from '../../../shared/iceberg/catalog/hadoop-catalog';
import { LocalFileIO, localPath } from '../../../shared/iceberg/io';
import { DataFileContent } from '../../../shared/iceberg/spec/manifest';
import type { Schema } from '../../../shared/iceberg/spec/schema';
import type { Snapshot } from '../../../shared/iceberg/spec/snapshot';
import { currentSchema, currentSnapshot } from '../../../shared/iceberg/spec/table-metadata';
import type { IcebergType } from '../../../shared/iceberg/spec/types';
import { liveEntries } from '../../../shared/iceberg/transaction/manifest-files';

/** Session settings under which PostgreSQL's text output is the form the migration stores for text-mapped types. */
export const COMPARISON_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'iso_8601'],
  ['extra_float_digits', '3'],
  ['bytea_output', 'hex'],
];

/** Rows shown from each side when a comparison fails. */
const SHOWN_DIFFERENCES = 5;

/** Applies COMPARISON_SETTINGS to a PostgreSQL session. */
export async function prepareComparisonSession(client: Client): Promise<void> {
  for (const [name, value] of COMPARISON_SETTINGS) {
    await client.query('SELECT pg_catalog.set_config($1, $2, false)', [name, value]);
  }
}

/** An in-memory DuckDB: the independent reader of the data files. */
export interface DuckDb {
  connection: DuckDBConnection;
  close(): void;
}

/** Opens an in-memory DuckDB. */
export async function openDuckDb(): Promise<DuckDb> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs a DuckDB query and returns its rows positionally, as JS values. */
export async function duckRows(connection: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowsJS() as unknown[][];
}

/** The current state of a migrated table, read with the project's Iceberg catalog. */
export interface IcebergTableState {
  schema: Schema;
  snapshot: Snapshot | undefined;
  /** Local paths of the live data files of the current snapshot. */
  files: string[];
  /** Sum of the data files' record counts (manifest figures). */
  recordCount: number;
}

/** Loads a table of a local warehouse and lists the data files its current snapshot's manifests reference. */
export async function loadIcebergTable(warehouse: string, namespace: string[], name: string): Promise<IcebergTableState> {
  const io = new LocalFileIO();
  const catalog = new HadoopCatalog(io, warehouse);
  const table = await catalog.loadTable({ namespace, name });
  const snapshot = currentSnapshot(table.metadata);
  const entries = await liveEntries(io, snapshot);
  const deletes = entries.filter((e) => e.entry.dataFile.content !== DataFileContent.Data);
  if (deletes.length > 0) throw new Error(`${name}: the snapshot has ${deletes.length} delete files; this comparison reads data files only`);
  return {
    schema: currentSchema(table.metadata),
    snapshot,
    files: entries.map((e) => localPath(e.entry.dataFile.filePath)),
    recordCount: entries.reduce((n, e) => n + Number(e.entry.dataFile.recordCount), 0),
  };
}

/** What a comparison found. */
export interface TableComparison {
  /** `schema.table` as given. */
  table: string;
  sourceRows: number;
  icebergRows: number;
  /** True when both sides hold the same multiset of rows. */
  equal: boolean;
  /** A few canonical rows present (more often) on one side than on the other. */
  onlyInSource: string[];
  onlyInIceberg: string[];
  /** A readable account of the differences (empty when equal). */
  explanation: string;
}

/** Options of compareTable. */
export interface CompareTableOptions {
  /** Source columns deliberately not migrated. */
  excludedColumns?: readonly string[];
}

/**
 * Compares every row of `schema.table` (all leaves of a partitioned table, none of an inheritance child) with
 * the rows of `files` (the data files of the Iceberg table with schema `schema`). The PostgreSQL session should
 * be prepared with prepareComparisonSession.
 */
export async function compareTable(
  pg: Client,
  duck: DuckDBConnection,
  source: { schema: string; table: string },
  iceberg: { schema: Schema; files: readonly string[] },
  options: CompareTableOptions = {},
): Promise<TableComparison> {
  const label = `${source.schema}.${source.table}`;
  const { columns: pgColumns, from } = await describeSource(pg, source.schema, source.table);
  const excluded = new Set(options.excludedColumns ?? []);
  const fields = iceberg.schema.fields;
  const fieldNames = new Set(fields.map((f) => f.name));
  const unmigrated = pgColumns.filter((c) => !excluded.has(c.name) && !fieldNames.has(c.name)).map((c) => c.name);
  if (unmigrated.length > 0) throw new Error(`${label}: source columns ${unmigrated.join(', ')} have no Iceberg field`);
  const canons = fields.map((field) => {
    const column = pgColumns.find((c) => c.name === field.name);
    if (column === undefined) throw new Error(`${label}: Iceberg field ${field.name} has no source column`);
    return canonical(field.type, column.type, `t.${quoteIdent(field.name)}`, quoteIdent(field.name), 0);
  });

  const pgSql = `SELECT ${canons.map((c, i) => `${c.pg} AS c${i}`).join(', ')} FROM ${from} AS t`;
  const pgResult = await pg.query<Array<string | null>>({ text: pgSql, rowMode: 'array' });
  const sourceRows = pgResult.rows.map((row) => canonicalRow(row, canons, 'PostgreSQL'));

  let icebergRows: string[] = [];
  if (iceberg.files.length > 0) {
    // DuckDB expands *, ? and [ in file names as globs; a data file name must be read as it is.
    const globbed = iceberg.files.find((f) => /[*?[]/.test(f));
    if (globbed !== undefined) throw new Error(`${label}: DuckDB would read ${globbed} as a glob pattern`);
    // union_by_name: files written before an added column lack it, and read it as NULL, as Iceberg does.
    const files = iceberg.files.map(duckString).join(', ');
    const duckSql = `SELECT ${canons.map((c, i) => `${c.duck} AS c${i}`).join(', ')} FROM read_parquet([${files}], union_by_name = true)`;
    icebergRows = (await duckRows(duck, duckSql)).map((row) => canonicalRow(row, canons, 'DuckDB'));
  }
  return diffMultisets(
    label,
    fields.map((f) => f.name),
    sourceRows,
    icebergRows,
  );
}

/**
 * Problems with the Parquet field ids of one data file: every field of `schema`, nested ones too, must be in the
 * file at its path with its Iceberg id, and every element of the file's schema must carry an id (except the
 * root and the repeated middle groups of the standard 3-level list and map encodings, which have none).
 */
export async function fieldIdProblems(duck: DuckDBConnection, file: string, schema: Schema): Promise<string[]> {
  const rows = await duckRows(duck, `SELECT name, field_id, num_children FROM parquet_schema(${duckString(file)})`);
  const elements = rows.map(([name, fieldId, children]) => ({
    name: String(name),
    fieldId: fieldId === null || fieldId === undefined ? undefined : Number(fieldId),
    children: children === null || children === undefined ? 0 : Number(children),
  }));
  const expected = new Map<string, number>();
  collectFieldIds(
    schema.fields.map((f) => ({ id: f.id, name: f.name, type: f.type })),
    expected,
  );
  const found = new Map<string, number>();
  const problems: string[] = [];
  // parquet_schema lists the elements depth first, each group followed by its children.
  let next = 1;
  const walk = (count: number, prefix: string[]): void => {
    for (let i = 0; i < count; i++) {
      const element = elements[next++];
      if (element === undefined) {
        problems.push(`${file}: parquet_schema ended inside ${prefix.join('.')}`);
        return;
      }
      const repeatedGroup = element.fieldId === undefined && (element.name === 'list' || element.name === 'key_value') && element.children > 0;
      const path = repeatedGroup ? prefix : [...prefix, element.name];
      if (element.fieldId !== undefined) found.set(path.join('.'), element.fieldId);
      else if (!repeatedGroup) problems.push(`${file}: column ${path.join('.')} has no field_id`);
      walk(element.children, path);
    }
  };
  walk(elements[0]?.children ?? 0, []);
  for (const [path, id] of expected) {
    const actual = found.get(path);
    if (actual !== id) problems.push(`${file}: field ${path} should carry field_id ${id}, the file has ${actual ?? 'none'}`);
  }
  for (const path of found.keys()) {
    if (!expected.has(path)) problems.push(`${file}: column ${path} is not a field of the table schema`);
  }
  return problems;
}

function collectFieldIds(fields: Array<{ id: number; name: string; type: IcebergType }>, out: Map<string, number>, prefix = ''): void {
  for (const field of fields) {
    const path = prefix + field.name;
    out.set(path, field.id);
    const type = field.type;
    if (typeof type === 'string') continue;
    if (type.type === 'struct') collectFieldIds(type.fields, out, `${path}.`);
    else if (type.type === 'list') collectFieldIds([{ id: type['element-id'], name: 'element', type: type.element }], out, `${path}.`);
    else {
      collectFieldIds(
        [
          { id: type['key-id'], name: 'key', type: type.key },
          { id: type['value-id'], name: 'value', type: type.value },
        ],
        out,
        `${path}.`,
      );
    }
  }
}

/** A PostgreSQL type with domains resolved to their base types. */
export type PgType =
  { kind: 'scalar'; name: string } | { kind: 'array'; element: PgType } | { kind: 'composite'; attributes: Array<{ name: string; type: PgType }> };

interface SourceColumnType {
  name: string;
  type: PgType;
}

/**
 * The FROM item reading exactly a table's own rows: ONLY for an ordinary table, whose inheritance children are
 * tables of their own; the partitioned table itself for a partitioned one (ONLY would read none of its leaves).
 */
async function sourceFrom(pg: Client, schema: string, table: string): Promise<string> {
  const { rows } = await pg.query<{ relkind: string }>(
    `SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, table],
  );
  const relkind = rows[0]?.relkind;
  if (relkind === undefined) throw new Error(`${schema}.${table} is not in pg_catalog`);
  return `${relkind === 'p' ? '' : 'ONLY '}${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** Rows of a source table as the migration reads it (see sourceFrom). */
export async function sourceRowCount(pg: Client, schema: string, table: string): Promise<number> {
  const { rows } = await pg.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${await sourceFrom(pg, schema, table)}`);
  return Number(rows[0]!.n);
}

async function describeSource(pg: Client, schema: string, table: string): Promise<{ columns: SourceColumnType[]; from: string }> {
  const from = await sourceFrom(pg, schema, table);
  const { rows } = await pg.query<{ name: string; type_oid: string }>(
    `SELECT a.attname AS name, a.atttypid::int8::text AS type_oid
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  const cache = new Map<string, PgType>();
  const columns: SourceColumnType[] = [];
  for (const row of rows) columns.push({ name: row.name, type: await resolvePgType(pg, row.type_oid, cache) });
  return { columns, from };
}

async function resolvePgType(pg: Client, oid: string, cache: Map<string, PgType>): Promise<PgType> {
  const known = cache.get(oid);
  if (known !== undefined) return known;
  const { rows } = await pg.query<{ typname: string; typtype: string; typcategory: string; base: string; elem: string; relid: string }>(
    `SELECT typname, typtype, typcategory, typbasetype::int8::text AS base, typelem::int8::text AS elem, typrelid::int8::text AS relid
       FROM pg_catalog.pg_type WHERE oid = $1::int8::oid`,
    [oid],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`type oid ${oid} is not in pg_type`);
  let type: PgType;
  if (row.typtype === 'd') type = await resolvePgType(pg, row.base, cache);
  else if (row.typcategory === 'A' && row.elem !== '0') type = { kind: 'array', element: await resolvePgType(pg, row.elem, cache) };
  else if (row.typtype === 'c') {
    const attributes = await pg.query<{ name: string; type_oid: string }>(
      `SELECT attname AS name, atttypid::int8::text AS type_oid FROM pg_catalog.pg_attribute
        WHERE attrelid = $1::int8::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [row.relid],
    );
    const resolved: Array<{ name: string; type: PgType }> = [];
    for (const a of attributes.rows) resolved.push({ name: a.name, type: await resolvePgType(pg, a.type_oid, cache) });
    type = { kind: 'composite', attributes: resolved };
  } else type = { kind: 'scalar', name: row.typname };
  cache.set(oid, type);
  return type;
}

/** The canonical text of one value on both sides, and how fetched text becomes the final canonical string. */
interface Canonical {
  /** PostgreSQL expression of type text. */
  pg: string;
  /** DuckDB expression of type VARCHAR. */
  duck: string;
  /** Turns the text both sides produced into the string compared (floats parsed, JSON normalised). */
  finish: (text: string) => string;
}

const same = (text: string): string => text;

/**
 * The canonical expressions of a value of Iceberg type `type` whose source type is `pgType`; `pgExpr` and
 * `duckExpr` denote the value on each side, `depth` keeps nested aliases apart.
 */
function canonical(type: IcebergType, pgType: PgType, pgExpr: string, duckExpr: string, depth: number): Canonical {
  if (typeof type !== 'string') {
    if (type.type === 'list') {
      if (pgType.kind !== 'array') throw new Error(`a list column must come from an array, not ${describePgType(pgType)}`);
      const g = `g${depth}`;
      const x = `x${depth}`;
      const element = canonical(type.element, pgType.element, `(${pgExpr})[${g}.i]`, x, depth + 1);
      return {
        // Subscripts rather than unnest: unnest would spread composite elements over several columns.
        pg: `CASE WHEN ${pgExpr} IS NULL THEN NULL ELSE to_json(ARRAY(SELECT ${element.pg} FROM pg_catalog.generate_subscripts(${pgExpr}, 1) AS ${g}(i) ORDER BY ${g}.i))::text END`,
        duck: `CASE WHEN ${duckExpr} IS NULL THEN NULL ELSE CAST(to_json(list_transform(${duckExpr}, lambda ${x}: ${element.duck})) AS VARCHAR) END`,
        finish: (text) => JSON.stringify(jsonStrings(text).map((e) => (e === null ? null : element.finish(e)))),
      };
    }
    if (type.type === 'struct') {
      if (pgType.kind !== 'composite') throw new Error(`a struct column must come from a composite type, not ${describePgType(pgType)}`);
      const parts = type.fields.map((field) => {
        const attribute = pgType.attributes.find((a) => a.name === field.name);
        if (attribute === undefined) throw new Error(`struct field ${field.name} is not an attribute of the composite type`);
        return canonical(
          field.type,
          attribute.type,
          `(${pgExpr}).${quoteIdent(field.name)}`,
          `struct_extract(${duckExpr}, ${duckString(field.name)})`,
          depth + 1,
        );
      });
      return {
        // A composite whose attributes are all NULL is "IS NULL" in PostgreSQL; its text is not NULL, a NULL composite's is.
        pg: `CASE WHEN (${pgExpr})::text IS NULL THEN NULL ELSE to_json(ARRAY[${parts.map((p) => p.pg).join(', ')}]::text[])::text END`,
        duck: `CASE WHEN ${duckExpr} IS NULL THEN NULL ELSE CAST(to_json([${parts.map((p) => `CAST(${p.duck} AS VARCHAR)`).join(', ')}]) AS VARCHAR) END`,
        finish: (text) => JSON.stringify(jsonStrings(text).map((e, i) => (e === null ? null : parts[i]!.finish(e)))),
      };
    }
    throw new Error(`maps are not compared (the migration does not produce them)`);
  }
  switch (type) {
    case 'boolean':
    case 'int':
    case 'long':
      return { pg: `(${pgExpr})::text`, duck: `CAST(${duckExpr} AS VARCHAR)`, finish: same };
    case 'float':
    case 'double':
      // float4 widens to float8 exactly on both sides, so one parser serves both widths.
      return { pg: `(${pgExpr})::float8::text`, duck: `CAST(CAST(${duckExpr} AS DOUBLE) AS VARCHAR)`, finish: (text) => floatKey(parseFloatText(text)) };
    case 'date':
      return { pg: `(${pgExpr} - DATE '1970-01-01')::text`, duck: `CAST(date_diff('day', DATE '1970-01-01', ${duckExpr}) AS VARCHAR)`, finish: same };
    case 'time':
      return {
        pg: `(extract(epoch FROM ${pgExpr}) * 1000000)::numeric(30,0)::text`,
        duck: `CAST(date_diff('microsecond', TIME '00:00:00', ${duckExpr}) AS VARCHAR)`,
        finish: same,
      };
    case 'timestamp':
    case 'timestamptz':
      return { pg: `(extract(epoch FROM ${pgExpr}) * 1000000)::numeric(30,0)::text`, duck: `CAST(epoch_us(${duckExpr}) AS VARCHAR)`, finish: same };
    case 'uuid':
      return { pg: `(${pgExpr})::text`, duck: `lower(CAST(${duckExpr} AS VARCHAR))`, finish: same };
    case 'binary':
      return { pg: `encode(${pgExpr}, 'hex')`, duck: `lower(hex(${duckExpr}))`, finish: same };
    case 'string':
      if (pgType.kind === 'scalar' && pgType.name === 'bpchar') {
        // char(n)'s cast to text strips the padding; its output function (what format() prints) keeps it.
        return { pg: `CASE WHEN ${pgExpr} IS NULL THEN NULL ELSE format('%s', ${pgExpr}) END`, duck: duckExpr, finish: same };
      }
      return { pg: `(${pgExpr})::text`, duck: duckExpr, finish: same };
  }
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal !== null) {
    const scale = Number(decimal[2]);
    // Both sides print exactly `scale` decimals. A source value with more decimals is left as it is, so a
    // rounding migration shows up as a difference instead of being rounded here too.
    return {
      pg: `CASE WHEN scale(${pgExpr}) > ${scale} THEN (${pgExpr})::text ELSE round(${pgExpr}, ${scale})::text END`,
      duck: `CAST(${duckExpr} AS VARCHAR)`,
      finish: same,
    };
  }
  if (/^fixed\[\d+\]$/.test(type)) return { pg: `encode(${pgExpr}, 'hex')`, duck: `lower(hex(${duckExpr}))`, finish: same };
  throw new Error(`no canonical form for Iceberg type ${type}`);
}

function describePgType(type: PgType): string {
  return type.kind === 'scalar' ? type.name : type.kind;
}

function canonicalRow(row: readonly unknown[], canons: readonly Canonical[], side: string): string {
  return JSON.stringify(
    canons.map((canon, i) => {
      const value = row[i];
      if (value === null || value === undefined) return null;
      if (typeof value !== 'string') throw new Error(`${side} returned ${typeof value} for canonical column ${i}; expected text`);
      return canon.finish(value);
    }),
  );
}

function jsonStrings(text: string): Array<string | null> {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((e) => e === null || typeof e === 'string')) throw new Error(`expected a JSON array of strings, got ${text}`);
  return parsed as Array<string | null>;
}

/** A float's text from either side: PostgreSQL spells NaN/Infinity/-Infinity, DuckDB nan/inf/-inf. */
export function parseFloatText(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
    case '-nan':
      return NaN;
    case 'inf':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
  }
  const value = Number(text);
  if (Number.isNaN(value) || text.trim() === '') throw new Error(`not a float: ${JSON.stringify(text)}`);
  return value;
}

/** Equal keys exactly when Object.is holds: NaN equals NaN, -0 differs from 0. */
export function floatKey(value: number): string {
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

function diffMultisets(table: string, columns: string[], source: string[], iceberg: string[]): TableComparison {
  source.sort();
  iceberg.sort();
  const onlyInSource: string[] = [];
  const onlyInIceberg: string[] = [];
  let missing = 0;
  let extra = 0;
  let i = 0;
  let j = 0;
  while (i < source.length || j < iceberg.length) {
    const a = source[i];
    const b = iceberg[j];
    if (a !== undefined && b !== undefined && a === b) {
      i++;
      j++;
    } else if (b === undefined || (a !== undefined && a < b)) {
      missing++;
      if (onlyInSource.length < SHOWN_DIFFERENCES) onlyInSource.push(a!);
      i++;
    } else {
      extra++;
      if (onlyInIceberg.length < SHOWN_DIFFERENCES) onlyInIceberg.push(b);
      j++;
    }
  }
  const equal = missing === 0 && extra === 0;
  const explanation = equal
    ? ''
    : [
        `${table}: ${source.length} source rows, ${iceberg.length} Iceberg rows; ${missing} only in the source, ${extra} only in Iceberg`,
        `columns: ${JSON.stringify(columns)}`,
        ...onlyInSource.map((r) => `  source only:  ${r}`),
        ...onlyInIceberg.map((r) => `  iceberg only: ${r}`),
      ].join('\n');
  return { table, sourceRows: source.length, icebergRows: iceberg.length, equal, onlyInSource, onlyInIceberg, explanation };
}

/** A double-quoted identifier, valid in both PostgreSQL and DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal for DuckDB (paths, field names). */
export function duckString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
