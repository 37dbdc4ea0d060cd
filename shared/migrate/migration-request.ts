/**
 * Validation of a migration request (the HTTP body, or the CLI's options and config file): every field is
 * checked for type and range, unknown fields are refused, and each error says which field and why.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors';
import { parseTransform } from '../iceberg/spec/transforms';
import type { VerifyLevel } from '../verify/contracts';
import type { TableConfig } from './contracts';

/** A validated request. */
export interface MigrationRequest {
  schema: string;
  namespace: string;
  tables?: string[];
  concurrency: number;
  tableConfig?: Record<string, TableConfig>;
  partitionSizeInBytes?: number;
  /** Caller-chosen id; the same key never starts a second run. */
  idempotencyKey?: string;
  /** Verification after the copy: quick (default), full, or none. */
  verify: VerifyLevel | 'none';
}

const REQUEST_FIELDS = new Set(['schema', 'namespace', 'tables', 'concurrency', 'tableConfig', 'partitionSizeInBytes', 'idempotencyKey', 'verify']);
const CONFIG_FIELDS = new Set(['targetName', 'partitionSpec', 'key', 'excludeColumns']);
const SPEC_FIELDS = new Set(['source', 'transform', 'name']);
/** PostgreSQL truncates identifiers at 63 bytes; longer names cannot be real tables. */
const MAX_IDENTIFIER_BYTES = 63;
/** Idempotency keys become instance ids and file-name prefixes: a safe alphabet, bounded length. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Validates a request body; defaults schema to "public", namespace to the schema, concurrency to 2. */
export function parseMigrationRequest(body: unknown): MigrationRequest {
  const o = object(body, 'the request body');
  unknownFields(o, REQUEST_FIELDS, 'the request body');
  const schema = o.schema === undefined ? 'public' : identifier(o.schema, 'schema');
  const request: MigrationRequest = {
    schema,
    namespace: o.namespace === undefined ? schema : nonEmptyString(o.namespace, 'namespace', 255),
    concurrency: o.concurrency === undefined ? 2 : integer(o.concurrency, 'concurrency', 1, 64),
    verify: o.verify === undefined ? 'quick' : verifyLevel(o.verify),
  };
  if (o.tables !== undefined) request.tables = identifierList(o.tables, 'tables');
  if (o.tableConfig !== undefined) request.tableConfig = parseTableConfig(o.tableConfig, 'tableConfig');
  if (o.partitionSizeInBytes !== undefined) request.partitionSizeInBytes = integer(o.partitionSizeInBytes, 'partitionSizeInBytes', 2 ** 20, 2 ** 34);
  if (o.idempotencyKey !== undefined) {
    if (typeof o.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(o.idempotencyKey)) {
      throw new ValidationError('idempotencyKey must be 1-64 letters, digits, "-" or "_"');
    }
    request.idempotencyKey = o.idempotencyKey;
  }
  return request;
}

function verifyLevel(value: unknown): VerifyLevel | 'none' {
  if (value !== 'quick' && value !== 'full' && value !== 'none') throw new ValidationError('verify must be "quick", "full" or "none"');
  return value;
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
          throw new ValidationError(`${fieldAt}.transform ${JSON.stringify(transform)} is not one of identity, bucket[N], truncate[W], year, month, day, hour, void`);
        }
        return { source: identifier(field.source, `${fieldAt}.source`), transform, ...(field.name === undefined ? {} : { name: nonEmptyString(field.name, `${fieldAt}.name`, 255) }) };
      });
    }
    out[table] = config;
  }
  return out;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A ValidationError naming every field of `o` not in `allowed`, and listing the allowed ones. */
export function unknownFields(o: Record<string, unknown>, allowed: ReadonlySet<string>, what: string): void {
  const unknown = Object.keys(o).filter((k) => !allowed.has(k));
  if (unknown.length > 0) {
    throw new ValidationError(`${what} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${[...allowed].join(', ')}`);
  }
}

function nonEmptyString(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${what} must be a non-empty string`);
  if (value.length > maxLength) throw new ValidationError(`${what} is longer than ${maxLength} characters`);
  if (/[\u0000]/.test(value)) throw new ValidationError(`${what} must not contain NUL characters`);
  return value;
}

function identifier(value: unknown, what: string): string {
  const name = nonEmptyString(value, what, MAX_IDENTIFIER_BYTES);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) throw new ValidationError(`${what} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte identifier limit`);
  return name;
}

function identifierList(value: unknown, what: string): string[] {
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

/**
 * What a start stores in its run's input, so a later start with the same key can tell whether it asked for the
 * same run (the hash of the normalized request) and whether it was the one that started it (its own token).
 */
export interface RequestStamp {
  requestHash: string;
  startToken: string;
}

/** Input fields that name or stamp a run rather than say what it does. */
const IDENTITY_FIELDS = new Set(['runId', 'verificationId', 'requestHash', 'startToken']);
/** Input fields whose request field has another name. */
const REQUEST_NAMES: Readonly<Record<string, string>> = { sourceSchema: 'schema' };

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestFields(input: object): Array<[string, unknown]> {
  return Object.entries(input).filter(([k, v]) => !IDENTITY_FIELDS.has(k) && v !== undefined);
}

/** Hash of a run's normalized input (defaults applied), leaving out its id and stamp. */
export function requestHash(input: object): string {
  return createHash('sha256').update(canonicalJson(Object.fromEntries(requestFields(input)))).digest('hex');
}

/** The request fields in which two normalized inputs differ, by their request names, sorted. */
export function requestDifferences(a: object, b: object): string[] {
  const left = new Map(requestFields(a));
  const right = new Map(requestFields(b));
  const names = new Set([...left.keys(), ...right.keys()]);
  return [...names]
    .filter((k) => canonicalJson(left.get(k)) !== canonicalJson(right.get(k)))
    .map((k) => REQUEST_NAMES[k] ?? k)
    .sort();
}
