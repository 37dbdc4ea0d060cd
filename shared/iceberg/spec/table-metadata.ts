/** Table metadata v2 in the spec's JSON shape, with lossless parsing and serialisation. */
import { type JsonObject, type JsonValue, parseJson, stringifyJson, toBigInt, toInt } from './json';
import type { PartitionField, PartitionSpec, SortField, SortOrder } from './partition-spec';
import { type Schema, parseSchema } from './schema';
import type { MetadataLogEntry, Snapshot, SnapshotLogEntry, SnapshotRef, SnapshotSummary } from './snapshot';

/** Table metadata, format version 2. `current-snapshot-id` is undefined for a table without snapshots. */
export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': bigint;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: Schema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': SortOrder[];
  properties: Record<string, string>;
  'current-snapshot-id'?: bigint;
  snapshots: Snapshot[];
  'snapshot-log': SnapshotLogEntry[];
  'metadata-log': MetadataLogEntry[];
  refs: Record<string, SnapshotRef>;
  /** Statistics files are carried through unchanged. */
  statistics?: JsonValue[];
  'partition-statistics'?: JsonValue[];
}

/** Parses a metadata file's text; 64-bit ids are exact. */
export function parseTableMetadata(text: string): TableMetadata {
  const root = parseJson(text);
  if (!isObject(root)) throw new TypeError('table metadata must be a JSON object');
  const version = root['format-version'];
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- names whatever the file holds, even an object
  if (version !== 2) throw new TypeError(`unsupported table format version ${String(version)} (only 2 is supported)`);
  const schemas = asArray(root.schemas, 'schemas').map(parseSchema);
  const currentSnapshot = root['current-snapshot-id'];
  const metadata: TableMetadata = {
    'format-version': 2,
    'table-uuid': asString(root['table-uuid'], 'table-uuid'),
    location: asString(root.location, 'location'),
    'last-sequence-number': toBigInt(root['last-sequence-number'], 'last-sequence-number'),
    'last-updated-ms': toInt(root['last-updated-ms'], 'last-updated-ms'),
    'last-column-id': toInt(root['last-column-id'], 'last-column-id'),
    'current-schema-id': toInt(root['current-schema-id'], 'current-schema-id'),
    schemas,
    'default-spec-id': toInt(root['default-spec-id'], 'default-spec-id'),
    'partition-specs': asArray(root['partition-specs'], 'partition-specs').map(parsePartitionSpec),
    'last-partition-id': toInt(root['last-partition-id'], 'last-partition-id'),
    'default-sort-order-id': toInt(root['default-sort-order-id'] ?? 0, 'default-sort-order-id'),
    'sort-orders': asArray(root['sort-orders'] ?? [{ 'order-id': 0, fields: [] }], 'sort-orders').map(parseSortOrder),
    properties: parseProperties(root.properties),
    snapshots: asArray(root.snapshots ?? [], 'snapshots').map(parseSnapshot),
    'snapshot-log': asArray(root['snapshot-log'] ?? [], 'snapshot-log').map((e) => {
      const o = asObject(e, 'snapshot-log entry');
      return { 'timestamp-ms': toInt(o['timestamp-ms'], 'timestamp-ms'), 'snapshot-id': toBigInt(o['snapshot-id'], 'snapshot-id') };
    }),
    'metadata-log': asArray(root['metadata-log'] ?? [], 'metadata-log').map((e) => {
      const o = asObject(e, 'metadata-log entry');
      return { 'timestamp-ms': toInt(o['timestamp-ms'], 'timestamp-ms'), 'metadata-file': asString(o['metadata-file'], 'metadata-file') };
    }),
    refs: {},
  };
  // Java wrote -1 for "no current snapshot" for years; newer writers omit it or write null.
  if (currentSnapshot !== undefined && currentSnapshot !== null) {
    const id = toBigInt(currentSnapshot, 'current-snapshot-id');
    if (id !== -1n) metadata['current-snapshot-id'] = id;
  }
  const refs = root.refs === undefined || root.refs === null ? {} : asObject(root.refs, 'refs');
  for (const [name, ref] of Object.entries(refs)) metadata.refs[name] = parseRef(ref);
  if (metadata['current-snapshot-id'] !== undefined && metadata.refs.main === undefined) {
    metadata.refs.main = { 'snapshot-id': metadata['current-snapshot-id'], type: 'branch' };
  }
  if (Array.isArray(root.statistics)) metadata.statistics = root.statistics;
  if (Array.isArray(root['partition-statistics'])) metadata['partition-statistics'] = root['partition-statistics'];
  return metadata;
}

/** Serialises metadata as readers expect it (pretty-printed JSON, 64-bit ids exact). */
export function serializeTableMetadata(metadata: TableMetadata): string {
  const { 'current-snapshot-id': current, ...rest } = metadata;
  // Written as -1 when absent: the form every reader, old and new, understands.
  return stringifyJson({ ...withoutUndefined(rest), 'current-snapshot-id': current ?? -1n }, 2);
}

/** The schema with the given id; throws when missing. */
export function schemaById(metadata: TableMetadata, schemaId: number): Schema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === schemaId);
  if (!schema) throw new TypeError(`schema ${schemaId} is not in the table metadata`);
  return schema;
}

/** The current schema. */
export function currentSchema(metadata: TableMetadata): Schema {
  return schemaById(metadata, metadata['current-schema-id']);
}

/** The partition spec with the given id; throws when missing. */
export function specById(metadata: TableMetadata, specId: number): PartitionSpec {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === specId);
  if (!spec) throw new TypeError(`partition spec ${specId} is not in the table metadata`);
  return spec;
}

/** The default partition spec. */
export function defaultSpec(metadata: TableMetadata): PartitionSpec {
  return specById(metadata, metadata['default-spec-id']);
}

/** The snapshot with the given id, or undefined. */
export function snapshotById(metadata: TableMetadata, snapshotId: bigint): Snapshot | undefined {
  return metadata.snapshots.find((s) => s['snapshot-id'] === snapshotId);
}

/** The current snapshot, or undefined for an empty table. */
export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = metadata['current-snapshot-id'];
  return id === undefined ? undefined : snapshotById(metadata, id);
}

/** The snapshot that was current at `timestampMs` according to the snapshot log, or undefined. */
export function snapshotAsOf(metadata: TableMetadata, timestampMs: number): Snapshot | undefined {
  let found: bigint | undefined;
  for (const entry of metadata['snapshot-log']) {
    if (entry['timestamp-ms'] <= timestampMs) found = entry['snapshot-id'];
    else break;
  }
  return found === undefined ? undefined : snapshotById(metadata, found);
}

/** Snapshots from `snapshotId` back through its parents (newest first), stopping at expired ones. */
export function ancestorsOf(metadata: TableMetadata, snapshotId: bigint | undefined): Snapshot[] {
  const out: Snapshot[] = [];
  let id = snapshotId;
  while (id !== undefined) {
    const snapshot = snapshotById(metadata, id);
    if (!snapshot) break;
    out.push(snapshot);
    id = snapshot['parent-snapshot-id'];
  }
  return out;
}

function parsePartitionSpec(json: JsonValue): PartitionSpec {
  const o = asObject(json, 'partition spec');
  return {
    'spec-id': toInt(o['spec-id'], 'spec-id'),
    fields: asArray(o.fields, 'partition fields').map((f): PartitionField => {
      const field = asObject(f, 'partition field');
      return {
        'source-id': toInt(field['source-id'], 'source-id'),
        'field-id': toInt(field['field-id'], 'field-id'),
        name: asString(field.name, 'partition field name'),
        transform: asString(field.transform, 'transform'),
      };
    }),
  };
}

function parseSortOrder(json: JsonValue): SortOrder {
  const o = asObject(json, 'sort order');
  return {
    'order-id': toInt(o['order-id'], 'order-id'),
    fields: asArray(o.fields, 'sort fields').map((f): SortField => {
      const field = asObject(f, 'sort field');
      const direction = asString(field.direction, 'direction');
      const nullOrder = asString(field['null-order'], 'null-order');
      if (direction !== 'asc' && direction !== 'desc') throw new TypeError(`invalid sort direction ${direction}`);
      if (nullOrder !== 'nulls-first' && nullOrder !== 'nulls-last') throw new TypeError(`invalid null order ${nullOrder}`);
      return { transform: asString(field.transform, 'transform'), 'source-id': toInt(field['source-id'], 'source-id'), direction, 'null-order': nullOrder };
    }),
  };
}

function parseSnapshot(json: JsonValue): Snapshot {
  const o = asObject(json, 'snapshot');
  const summaryJson = o.summary === undefined ? { operation: 'append' } : asObject(o.summary, 'summary');
  const summary: Record<string, string> = {};
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- summary values are strings by the spec; another writer's scalars are kept as their text
  for (const [k, v] of Object.entries(summaryJson)) summary[k] = typeof v === 'string' ? v : String(v);
  const snapshot: Snapshot = {
    'snapshot-id': toBigInt(o['snapshot-id'], 'snapshot-id'),
    'sequence-number': o['sequence-number'] === undefined ? 0n : toBigInt(o['sequence-number'], 'sequence-number'),
    'timestamp-ms': toInt(o['timestamp-ms'], 'timestamp-ms'),
    'manifest-list': asString(o['manifest-list'], 'manifest-list'),
    summary: summary as SnapshotSummary,
  };
  if (o['parent-snapshot-id'] !== undefined && o['parent-snapshot-id'] !== null) {
    snapshot['parent-snapshot-id'] = toBigInt(o['parent-snapshot-id'], 'parent-snapshot-id');
  }
  if (o['schema-id'] !== undefined && o['schema-id'] !== null) snapshot['schema-id'] = toInt(o['schema-id'], 'schema-id');
  return snapshot;
}

function parseRef(json: JsonValue): SnapshotRef {
  const o = asObject(json, 'ref');
  const type = asString(o.type, 'ref type');
  if (type !== 'branch' && type !== 'tag') throw new TypeError(`invalid ref type ${type}`);
  const ref: SnapshotRef = { 'snapshot-id': toBigInt(o['snapshot-id'], 'snapshot-id'), type };
  for (const key of ['min-snapshots-to-keep', 'max-snapshot-age-ms', 'max-ref-age-ms'] as const) {
    if (o[key] !== undefined && o[key] !== null) ref[key] = toInt(o[key], key);
  }
  return ref;
}

function parseProperties(json: JsonValue | undefined): Record<string, string> {
  if (json === undefined || json === null) return {};
  const out: Record<string, string> = {};
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- properties are strings by the spec; another writer's scalars are kept as their text
  for (const [k, v] of Object.entries(asObject(json, 'properties'))) out[k] = typeof v === 'string' ? v : String(v);
  return out;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: JsonValue | undefined, name: string): JsonObject {
  if (value === undefined || !isObject(value)) throw new TypeError(`${name} must be an object`);
  return value;
}

function asArray(value: JsonValue | undefined, name: string): JsonValue[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array`);
  return value;
}

function asString(value: JsonValue | undefined, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value;
}
