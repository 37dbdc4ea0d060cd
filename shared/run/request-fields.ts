/**
 * Request validation shared by migrations and verifications: the fields that choose what a run reads and writes
 * (schema, namespace, tables, concurrency, per-table configuration, idempotency key), and the field checks every
 * request uses. Each error names the field and why.
 */
import { ValidationError } from '../errors';
import type { PartitionFieldRequest } from '../iceberg/transaction/table-evolution';
import { parseTransform } from '../iceberg/spec/transforms';

/** Per-table choices from the config file. */
export interface TableConfig {
  /** Iceberg table name (default: the PostgreSQL name, unchanged). */
  targetName?: string;
  /** Partition spec of the Iceberg table, e.g. [{ source: 'created_at', transform: 'day' }]. */
  partitionSpec?: PartitionFieldRequest[];
  /** Key columns to use instead of the primary key (for row identity in errors and verification). */
  key?: string[];
  /** Columns not to migrate. */
  excludeColumns?: string[];
}

/** The fields a migration and a verification share, validated, with defaults applied. */
export interface RunSelection {
  schema: string;
  namespace: string;
  tables?: string[];
  concurrency: number;
  tableConfig?: Record<string, TableConfig>;
  /** Caller-chosen id; the same key never starts a second run. */
  idempotencyKey?: string;
}

/** Fields of RunSelection, by their request names. */
export const RUN_SELECTION_FIELDS = ['schema', 'namespace', 'tables', 'concurrency', 'tableConfig', 'idempotencyKey'] as const;

const CONFIG_FIELDS = new Set(['targetName', 'partitionSpec', 'key', 'excludeColumns']);
const SPEC_FIELDS = new Set(['source', 'transform', 'name']);
/** PostgreSQL truncates identifiers at 63 bytes; longer names cannot be real tables. */
const MAX_IDENTIFIER_BYTES = 63;
/** Idempotency keys become instance ids and file-name prefixes: a safe alphabet, bounded length. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Validates the shared fields of a request object; defaults schema to "public", namespace to the schema, concurrency to 2. */
export function parseRunSelection(o: Record<string, unknown>): RunSelection {
  const schema = o.schema === undefined ? 'public' : identifier(o.schema, 'schema');
  const selection: RunSelection = {
    schema,
    namespace: o.namespace === undefined ? schema : nonEmptyString(o.namespace, 'namespace', 255),
    concurrency: o.concurrency === undefined ? 2 : integer(o.concurrency, 'concurrency', 1, 64),
  };
  if (o.tables !== undefined) selection.tables = identifierList(o.tables, 'tables');
  if (o.tableConfig !== undefined) selection.tableConfig = parseTableConfig(o.tableConfig, 'tableConfig');
  if (o.idempotencyKey !== undefined) {
    if (typeof o.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(o.idempotencyKey)) {
      throw new ValidationError('idempotencyKey must be 1-64 letters, digits, "-" or "_"');
    }
    selection.idempotencyKey = o.idempotencyKey;
  }
  return selection;
}

/** Validates a per-table configuration object (the CLI's --config file, or the body's tableConfig). */
export function parseTableConfig(json: unknown, where = 'the table configuration'): Record<string, TableConfig> {
  const o = object(json, where);
  const out: Record<string, TableConfig> = {};
  for (const [table, value] of Object.entries(o)) {
    const at = `${where}.${table}`;
    identifier(table, `${where} key`);
    const c = object(value, at);
    unknownFields(c, CONFIG_FIELDS, at);
    const config: TableConfig = {};
    if (c.targetName !== undefined) config.targetName = nonEmptyString(c.targetName, `${at}.targetName`, 255);
    if (c.key !== undefined) config.key = identifierList(c.key, `${at}.key`);
    if (c.excludeColumns !== undefined) config.excludeColumns = identifierList(c.excludeColumns, `${at}.excludeColumns`);
    if (c.partitionSpec !== undefined) {
      if (!Array.isArray(c.partitionSpec)) throw new ValidationError(`${at}.partitionSpec must be an array`);
      config.partitionSpec = c.partitionSpec.map((f, i) => {
        const fieldAt = `${at}.partitionSpec[${i}]`;
        const field = object(f, fieldAt);
        unknownFields(field, SPEC_FIELDS, fieldAt);
        const transform = nonEmptyString(field.transform, `${fieldAt}.transform`, 64);
        if (parseTransform(transform).kind === 'unknown') {
          throw new ValidationError(
            `${fieldAt}.transform ${JSON.stringify(transform)} is not one of identity, bucket[N], truncate[W], year, month, day, hour, void`,
          );
        }
        return {
          source: identifier(field.source, `${fieldAt}.source`),
          transform,
          ...(field.name === undefined ? {} : { name: nonEmptyString(field.name, `${fieldAt}.name`, 255) }),
        };
      });
    }
    out[table] = config;
  }
  return out;
}

/** `value` as a JSON object, or a ValidationError naming `what`. */
export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A ValidationError naming every field of `o` not in `allowed`, and listing the allowed ones. */
export function unknownFields(o: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  const unknown = Object.keys(o).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new ValidationError(
      `${what} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${[...allowed].join(', ')}`,
    );
  }
}

/** A non-empty string of at most `maxLength` characters without NUL, or a ValidationError naming the field. */
export function nonEmptyString(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${what} must be a non-empty string`);
  if (value.length > maxLength) throw new ValidationError(`${what} is longer than ${maxLength} characters`);
  // eslint-disable-next-line no-control-regex -- NUL is the character refused here
  if (/[\u0000]/.test(value)) throw new ValidationError(`${what} must not contain NUL characters`);
  return value;
}

/** A PostgreSQL identifier (at most 63 bytes), or a ValidationError naming the field. */
export function identifier(value: unknown, what: string): string {
  const name = nonEmptyString(value, what, MAX_IDENTIFIER_BYTES);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES)
    throw new ValidationError(`${what} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte identifier limit`);
  return name;
}

/** A non-empty list of distinct identifiers, or a ValidationError naming the field. */
export function identifierList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError(`${what} must be a non-empty array of names`);
  if (value.length > 10_000) throw new ValidationError(`${what} has more than 10000 names`);
  const names = value.map((v, i) => identifier(v, `${what}[${i}]`));
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new ValidationError(`${what} names ${JSON.stringify(duplicate)} twice`);
  return names;
}

/** An integer field within [min, max], or a ValidationError naming the field. */
export function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A boolean field, or a ValidationError naming the field. */
export function booleanField(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(`${what} must be true or false`);
  return value;
}
