/**
 * Checks a written file against what Iceberg requires of a Parquet data file. The footer is parsed with hyparquet
 * (typed schema elements, no string parsing), field ids are cross-checked with DuckDB's parquet_schema, and DuckDB
 * reads the data back so a file that merely looks right but holds wrong values does not pass.
 */
import type { FileMetaData, SchemaElement } from 'hyparquet' with { 'resolution-mode': 'import' };
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { indexFields } from '../../shared/iceberg/spec/schema';
import { AMOUNT_PRECISION, AMOUNT_SCALE, ORDERS_SCHEMA, fieldIdOf, type OrdersDigest } from './orders-data';

/** One capability: whether it holds and what was found. */
export interface Check {
  ok: boolean;
  detail: string;
}

/** The capability checks of one candidate's output. */
export interface Capabilities {
  fieldIds: Check;
  uuid: Check;
  timestamptz: Check;
  decimal: Check;
  list: Check;
  zstd: Check;
  /** Iceberg-required fields written as REQUIRED; readers cope without it, so it is advisory. */
  required: Check;
  data: Check;
  createdBy: string;
}

/** The checks that decide whether a file is a correct Iceberg data file. */
export const BLOCKING_CHECKS = ['fieldIds', 'uuid', 'timestamptz', 'decimal', 'list', 'zstd', 'data'] as const;

/** True when every blocking check passed. */
export function isIcebergCorrect(capabilities: Capabilities): boolean {
  return BLOCKING_CHECKS.every((key) => capabilities[key].ok);
}

interface Node {
  element: SchemaElement;
  children: Node[];
}

/** Rebuilds the schema tree from the flattened, depth-first element list in the footer. */
function schemaTree(elements: SchemaElement[]): Node {
  let next = 0;
  const take = (): Node => {
    const element = elements[next++];
    if (!element) throw new Error('truncated Parquet schema');
    const children: Node[] = [];
    for (let i = 0; i < (element.num_children ?? 0); i++) children.push(take());
    return { element, children };
  };
  return take();
}

function byFieldId(root: Node): Map<number, Node> {
  const found = new Map<number, Node>();
  const visit = (node: Node): void => {
    if (node.element.field_id !== undefined) found.set(node.element.field_id, node);
    node.children.forEach(visit);
  };
  root.children.forEach(visit);
  return found;
}

const pass = (detail: string): Check => ({ ok: true, detail });
const fail = (detail: string): Check => ({ ok: false, detail });

function checkUuid(node: Node | undefined): Check {
  if (!node) return fail('no column with its field id');
  const e = node.element;
  const physical = e.type === 'FIXED_LEN_BYTE_ARRAY' ? `FLBA(${e.type_length ?? '?'})` : (e.type ?? 'group');
  if (physical !== 'FLBA(16)') return fail(`${physical}, expected FLBA(16)`);
  return e.logical_type?.type === 'UUID' ? pass('FLBA(16) UUID') : fail('FLBA(16), no UUID type');
}

function checkTimestamptz(node: Node | undefined): Check {
  if (!node) return fail('no column with its field id');
  const e = node.element;
  if (e.type !== 'INT64') return fail(`${e.type ?? 'group'}, expected INT64`);
  const logical = e.logical_type;
  if (logical?.type === 'TIMESTAMP') {
    const what = `${logical.unit} utc=${String(logical.isAdjustedToUTC)}`;
    return logical.unit === 'MICROS' && logical.isAdjustedToUTC ? pass(what) : fail(what);
  }
  // The legacy annotation alone means UTC-normalised micros, which is still what Iceberg needs.
  if (e.converted_type === 'TIMESTAMP_MICROS') return pass('MICROS (legacy annotation only)');
  return fail(`INT64 without timestamp type (${e.converted_type ?? 'none'})`);
}

function checkDecimal(node: Node | undefined): Check {
  if (!node) return fail('no column with its field id');
  const e = node.element;
  const expected = AMOUNT_PRECISION <= 9 ? 'INT32' : AMOUNT_PRECISION <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY';
  const logical = e.logical_type;
  const precision = logical?.type === 'DECIMAL' ? logical.precision : e.precision;
  const scale = logical?.type === 'DECIMAL' ? logical.scale : e.scale;
  const isDecimal = logical?.type === 'DECIMAL' || e.converted_type === 'DECIMAL';
  const what = `${e.type ?? 'group'} decimal(${String(precision)},${String(scale)})`;
  if (!isDecimal) return fail(`${e.type ?? 'group'} without decimal type`);
  return e.type === expected && precision === AMOUNT_PRECISION && scale === AMOUNT_SCALE ? pass(what) : fail(what);
}

function checkList(node: Node | undefined): Check {
  if (!node) return fail('no column with its field id');
  const annotated = node.element.converted_type === 'LIST' || node.element.logical_type?.type === 'LIST';
  const middle = node.children.length === 1 ? node.children[0] : undefined;
  const leaf = middle?.element.repetition_type === 'REPEATED' && middle.children.length === 1 ? middle.children[0] : undefined;
  if (!annotated || !leaf || leaf.children.length > 0) return fail('not a 3-level LIST');
  const elementId = fieldIdOf('tags.element');
  return leaf.element.field_id === elementId ? pass(`3-level, element id ${elementId}`) : fail('3-level, element has no id');
}

function checkRequired(ids: Map<number, Node>): Check {
  const wrong: string[] = [];
  for (const field of indexFields(ORDERS_SCHEMA).values()) {
    const node = ids.get(field.id);
    if (!node) continue;
    const isRequired = node.element.repetition_type === 'REQUIRED';
    if (isRequired !== field.required) wrong.push(field.path.join('.'));
  }
  return wrong.length === 0 ? pass('matches schema') : fail(`${wrong.length} fields differ: ${wrong.join(', ')}`);
}

function sqlList(paths: string[]): string {
  return `[${paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ')}]`;
}

const DIGEST_SQL = (files: string, uuidHex: string) => `WITH src AS (SELECT * FROM read_parquet(${files}))
SELECT count(*)::VARCHAR AS rows, sum(id)::VARCHAR AS id_sum, sum(customer_id)::VARCHAR AS customer_sum,
  CAST(sum(amount) * ${10 ** AMOUNT_SCALE} AS HUGEINT)::VARCHAR AS amount_unscaled_sum,
  sum(epoch_us(created_at)::HUGEINT)::VARCHAR AS created_us_sum,
  count(shipped_on)::VARCHAR AS shipped_count, sum(shipped_on - DATE '1970-01-01')::VARCHAR AS shipped_day_sum,
  count_if(is_gift)::VARCHAR AS gifts, count(note)::VARCHAR AS notes, sum(length(note))::VARCHAR AS note_chars,
  count(tags)::VARCHAR AS tag_lists, sum(len(tags))::VARCHAR AS tag_elements,
  sum(list_sum([length(t) FOR t IN tags]))::VARCHAR AS tag_chars, sum(length(attrs))::VARCHAR AS attrs_chars,
  count(DISTINCT status)::VARCHAR AS statuses,
  coalesce(first(${uuidHex} ORDER BY id), '') AS first_uuid
FROM src`;

/** Reads Parquet files back and checks them; one DuckDB instance serves every candidate. */
export class ParquetInspector {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens an in-memory DuckDB for reading. */
  static async open(): Promise<ParquetInspector> {
    const instance = await DuckDBInstance.create(':memory:');
    return new ParquetInspector(instance, await instance.connect());
  }

  /** Runs every check on the files of one candidate (schema from the first, compression and data from all). */
  async inspect(paths: string[], expected: OrdersDigest): Promise<Capabilities> {
    const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
    const footers: FileMetaData[] = [];
    for (const file of paths) footers.push(await parquetMetadataAsync(await asyncBufferFromFile(file)));
    const first = footers[0];
    if (!first) throw new Error('candidate produced no files');
    const ids = byFieldId(schemaTree(first.schema));
    const id = (name: string): Node | undefined => ids.get(fieldIdOf(name));
    return {
      fieldIds: await this.checkFieldIds(paths[0]!, first.schema, ids),
      uuid: checkUuid(id('order_uuid')),
      timestamptz: checkTimestamptz(id('created_at')),
      decimal: checkDecimal(id('amount')),
      list: checkList(id('tags')),
      zstd: checkCodecs(footers),
      required: checkRequired(ids),
      data: await this.checkData(paths, expected),
      createdBy: first.created_by ?? 'unknown',
    };
  }

  /** Every Iceberg field id present on the column of that name, and DuckDB's reader seeing the same ids. */
  private async checkFieldIds(file: string, schema: SchemaElement[], ids: Map<number, Node>): Promise<Check> {
    const wanted = [...indexFields(ORDERS_SCHEMA).values()];
    const missing = wanted.filter((f) => ids.get(f.id)?.element.name !== f.path[f.path.length - 1]);
    const ours = schema.filter((e) => e.field_id !== undefined).length;
    const reader = await this.connection.runAndReadAll(`SELECT count(field_id)::INTEGER AS n FROM parquet_schema('${file.replace(/'/g, "''")}')`);
    const duckdbCount = Number(reader.getRowObjectsJson()[0]?.n ?? -1);
    const detail = `${wanted.length - missing.length}/${wanted.length}`;
    if (missing.length > 0) return fail(`${detail}, no id on ${missing.map((f) => f.path.join('.')).join(', ')}`);
    if (duckdbCount !== ours) return fail(`${detail}, but DuckDB sees ${duckdbCount} ids`);
    return pass(detail);
  }

  private async checkData(paths: string[], expected: OrdersDigest): Promise<Check> {
    try {
      const files = sqlList(paths);
      // Without the UUID logical type the column reads back as BLOB; compare its bytes either way.
      const typeReader = await this.connection.runAndReadAll(`SELECT typeof(order_uuid) AS t FROM read_parquet(${files}) LIMIT 1`);
      const uuidType = String((typeReader.getRowObjectsJson()[0]?.t as string | null | undefined) ?? '');
      const uuidHex = uuidType === 'UUID' ? `replace(CAST(order_uuid AS VARCHAR), '-', '')` : 'lower(hex(order_uuid))';
      const reader = await this.connection.runAndReadAll(DIGEST_SQL(files, uuidHex));
      // The digest query selects scalars only: counts, sums and hashes.
      const actual = (reader.getRowObjectsJson()[0] ?? {}) as Record<string, string | number | boolean | null>;
      const wrong = Object.keys(expected).filter((key) => String(actual[key] ?? '') !== expected[key]);
      if (wrong.length === 0) return pass(`${expected.rows} rows, ${Object.keys(expected).length} aggregates match`);
      return fail(
        wrong
          .map((key) => `${key} ${String(actual[key])} != ${expected[key]}`)
          .join('; ')
          .slice(0, 120),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      return fail(`DuckDB cannot read it back: ${message.slice(0, 100)}`);
    }
  }

  /** Releases the DuckDB instance. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

function checkCodecs(footers: FileMetaData[]): Check {
  const codecs = new Set<string>();
  for (const footer of footers) {
    for (const group of footer.row_groups) for (const column of group.columns) codecs.add(column.meta_data?.codec ?? 'none');
  }
  const list = [...codecs].sort().join('+');
  return codecs.size === 1 && codecs.has('ZSTD') ? pass('ZSTD') : fail(list);
}
