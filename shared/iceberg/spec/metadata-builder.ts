/**
 * Applies commit updates to table metadata, validating each one, and checks commit requirements. Pure: the
 * clock and ids come in as arguments so the same inputs always give the same metadata.
 */
import { CommitConflictError, ValidationError } from '../../errors';
import { PARTITION_DATA_ID_START, type PartitionSpec, type SortOrder, UNSORTED_ORDER } from './partition-spec';
import { type Schema, highestFieldId, validateSchema } from './schema';
import { MAIN_BRANCH, type Snapshot } from './snapshot';
import type { TableMetadata } from './table-metadata';
import type { TableRequirement, TableUpdate } from './updates';

/** Inputs of a brand-new table. */
export interface NewTableOptions {
  uuid: string;
  location: string;
  schema: Schema;
  spec?: PartitionSpec;
  sortOrder?: SortOrder;
  properties?: Record<string, string>;
  nowMs: number;
}

/** Metadata of a new table with no snapshots (schema id 0, spec id 0, sort order as given or unsorted). */
export function newTableMetadata(options: NewTableOptions): TableMetadata {
  const schema: Schema = { ...options.schema, 'schema-id': 0 };
  validateSchema(schema);
  const spec: PartitionSpec = { 'spec-id': 0, fields: options.spec?.fields ?? [] };
  const sortOrder = options.sortOrder && options.sortOrder.fields.length > 0 ? { ...options.sortOrder, 'order-id': 1 } : UNSORTED_ORDER;
  const sortOrders = sortOrder['order-id'] === 0 ? [UNSORTED_ORDER] : [UNSORTED_ORDER, sortOrder];
  return {
    'format-version': 2,
    'table-uuid': options.uuid,
    location: options.location.replace(/\/+$/, ''),
    'last-sequence-number': 0n,
    'last-updated-ms': options.nowMs,
    'last-column-id': highestFieldId(schema),
    'current-schema-id': 0,
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [spec],
    'last-partition-id': lastPartitionId(spec, PARTITION_DATA_ID_START - 1),
    'default-sort-order-id': sortOrder['order-id'],
    'sort-orders': sortOrders,
    properties: { ...(options.properties ?? {}) },
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    refs: {},
  };
}

/** Throws CommitConflictError when `base` does not meet a requirement (undefined base = table absent). */
export function checkRequirements(base: TableMetadata | undefined, requirements: TableRequirement[]): void {
  for (const r of requirements) {
    if (r.type === 'assert-create') {
      if (base) throw new CommitConflictError('table already exists');
      continue;
    }
    if (!base) throw new CommitConflictError('table does not exist');
    const fail = (what: string, expected: unknown, actual: unknown) => {
      throw new CommitConflictError(`requirement failed: ${what} expected ${String(expected)}, found ${String(actual)}`);
    };
    switch (r.type) {
      case 'assert-table-uuid':
        if (base['table-uuid'] !== r.uuid) fail('table uuid', r.uuid, base['table-uuid']);
        break;
      case 'assert-ref-snapshot-id': {
        const actual = base.refs[r.ref]?.['snapshot-id'] ?? null;
        if (actual !== r['snapshot-id']) fail(`ref ${r.ref}`, r['snapshot-id'] ?? 'absent', actual ?? 'absent');
        break;
      }
      case 'assert-last-assigned-field-id':
        if (base['last-column-id'] !== r['last-assigned-field-id']) fail('last column id', r['last-assigned-field-id'], base['last-column-id']);
        break;
      case 'assert-current-schema-id':
        if (base['current-schema-id'] !== r['current-schema-id']) fail('current schema id', r['current-schema-id'], base['current-schema-id']);
        break;
      case 'assert-last-assigned-partition-id':
        if (base['last-partition-id'] !== r['last-assigned-partition-id'])
          fail('last partition id', r['last-assigned-partition-id'], base['last-partition-id']);
        break;
      case 'assert-default-spec-id':
        if (base['default-spec-id'] !== r['default-spec-id']) fail('default spec id', r['default-spec-id'], base['default-spec-id']);
        break;
      case 'assert-default-sort-order-id':
        if (base['default-sort-order-id'] !== r['default-sort-order-id'])
          fail('default sort order id', r['default-sort-order-id'], base['default-sort-order-id']);
        break;
    }
  }
}

/** Options of applyUpdates. */
export interface ApplyUpdatesOptions {
  /** Clock reading recorded as last-updated-ms (and in the snapshot log for ref changes). */
  nowMs: number;
}

/** Returns new metadata with `updates` applied in order; the base is not modified. */
export function applyUpdates(base: TableMetadata, updates: TableUpdate[], options: ApplyUpdatesOptions): TableMetadata {
  const m: TableMetadata = structuredClone(base);
  let lastSchemaId: number | undefined;
  let lastSpecId: number | undefined;
  let lastOrderId: number | undefined;
  const added = new Set<bigint>();
  for (const update of updates) {
    switch (update.action) {
      case 'assign-uuid':
        if (m['table-uuid'] !== update.uuid) throw new ValidationError('a table uuid cannot be changed');
        break;
      case 'upgrade-format-version':
        if (update['format-version'] !== 2) throw new ValidationError(`format version ${update['format-version']} is not supported`);
        break;
      case 'add-schema': {
        validateSchema(update.schema);
        const same = m.schemas.find((s) => sameFields(s, update.schema));
        if (same) {
          lastSchemaId = same['schema-id'];
          break;
        }
        const id = Math.max(-1, ...m.schemas.map((s) => s['schema-id'])) + 1;
        m.schemas.push({ ...update.schema, 'schema-id': id });
        m['last-column-id'] = Math.max(m['last-column-id'], update['last-column-id'] ?? 0, highestFieldId(update.schema));
        lastSchemaId = id;
        break;
      }
      case 'set-current-schema': {
        const id = update['schema-id'] === -1 ? lastSchemaId : update['schema-id'];
        if (id === undefined || !m.schemas.some((s) => s['schema-id'] === id)) throw new ValidationError(`schema ${update['schema-id']} does not exist`);
        m['current-schema-id'] = id;
        break;
      }
      case 'add-spec': {
        const same = m['partition-specs'].find((s) => JSON.stringify(s.fields) === JSON.stringify(update.spec.fields));
        if (same) {
          lastSpecId = same['spec-id'];
          break;
        }
        const id = Math.max(-1, ...m['partition-specs'].map((s) => s['spec-id'])) + 1;
        m['partition-specs'].push({ 'spec-id': id, fields: update.spec.fields });
        m['last-partition-id'] = lastPartitionId(update.spec, m['last-partition-id']);
        lastSpecId = id;
        break;
      }
      case 'set-default-spec': {
        const id = update['spec-id'] === -1 ? lastSpecId : update['spec-id'];
        if (id === undefined || !m['partition-specs'].some((s) => s['spec-id'] === id))
          throw new ValidationError(`partition spec ${update['spec-id']} does not exist`);
        m['default-spec-id'] = id;
        break;
      }
      case 'add-sort-order': {
        const same = m['sort-orders'].find((o) => JSON.stringify(o.fields) === JSON.stringify(update['sort-order'].fields));
        if (same) {
          lastOrderId = same['order-id'];
          break;
        }
        const id = Math.max(0, ...m['sort-orders'].map((o) => o['order-id'])) + 1;
        m['sort-orders'].push({ 'order-id': id, fields: update['sort-order'].fields });
        lastOrderId = id;
        break;
      }
      case 'set-default-sort-order': {
        const id = update['sort-order-id'] === -1 ? lastOrderId : update['sort-order-id'];
        if (id === undefined || !m['sort-orders'].some((o) => o['order-id'] === id))
          throw new ValidationError(`sort order ${update['sort-order-id']} does not exist`);
        m['default-sort-order-id'] = id;
        break;
      }
      case 'add-snapshot':
        addSnapshot(m, update.snapshot);
        added.add(update.snapshot['snapshot-id']);
        break;
      case 'set-snapshot-ref': {
        const { action: _action, 'ref-name': name, ...ref } = update;
        const snapshot = m.snapshots.find((s) => s['snapshot-id'] === ref['snapshot-id']);
        if (!snapshot) throw new ValidationError(`cannot point ref ${name} at unknown snapshot ${ref['snapshot-id']}`);
        m.refs[name] = ref;
        if (name === MAIN_BRANCH) {
          if (ref.type !== 'branch') throw new ValidationError('main must be a branch');
          m['current-snapshot-id'] = ref['snapshot-id'];
          // A snapshot made current in its own commit is logged at its creation time; a rollback at commit time.
          const at = added.has(snapshot['snapshot-id']) ? snapshot['timestamp-ms'] : options.nowMs;
          m['snapshot-log'].push({ 'timestamp-ms': at, 'snapshot-id': ref['snapshot-id'] });
        }
        break;
      }
      case 'remove-snapshots':
        removeSnapshots(m, new Set(update['snapshot-ids']));
        break;
      case 'remove-snapshot-ref':
        delete m.refs[update['ref-name']];
        if (update['ref-name'] === MAIN_BRANCH) delete m['current-snapshot-id'];
        break;
      case 'set-location':
        m.location = update.location.replace(/\/+$/, '');
        break;
      case 'set-properties':
        Object.assign(m.properties, update.updates);
        break;
      case 'remove-properties':
        for (const key of update.removals) delete m.properties[key];
        break;
    }
  }
  m['last-updated-ms'] = Math.max(options.nowMs, base['last-updated-ms']);
  return m;
}

function addSnapshot(m: TableMetadata, snapshot: Snapshot): void {
  if (m.snapshots.some((s) => s['snapshot-id'] === snapshot['snapshot-id'])) {
    throw new ValidationError(`snapshot ${snapshot['snapshot-id']} already exists`);
  }
  if (snapshot['sequence-number'] <= m['last-sequence-number'] && m.snapshots.length > 0) {
    throw new CommitConflictError(`snapshot sequence number ${snapshot['sequence-number']} is not above ${m['last-sequence-number']}`);
  }
  const parent = snapshot['parent-snapshot-id'];
  if (parent !== undefined && !m.snapshots.some((s) => s['snapshot-id'] === parent)) {
    throw new ValidationError(`parent snapshot ${parent} does not exist`);
  }
  m.snapshots.push(snapshot);
  m['last-sequence-number'] = snapshot['sequence-number'];
}

function removeSnapshots(m: TableMetadata, ids: Set<bigint>): void {
  for (const [name, ref] of Object.entries(m.refs)) {
    if (ids.has(ref['snapshot-id'])) {
      if (name === MAIN_BRANCH) throw new ValidationError('cannot remove the current snapshot of main');
      delete m.refs[name];
    }
  }
  m.snapshots = m.snapshots.filter((s) => !ids.has(s['snapshot-id']));
  // The log must stay a history of existing snapshots: drop everything up to the last removed entry.
  const log = m['snapshot-log'];
  let cut = -1;
  log.forEach((entry, i) => {
    if (ids.has(entry['snapshot-id'])) cut = i;
  });
  m['snapshot-log'] = log.slice(cut + 1);
}

function lastPartitionId(spec: PartitionSpec, previous: number): number {
  return Math.max(previous, ...spec.fields.map((f) => f['field-id']));
}

function sameFields(a: Schema, b: Schema): boolean {
  return (
    JSON.stringify(a.fields) === JSON.stringify(b.fields) && JSON.stringify(a['identifier-field-ids'] ?? []) === JSON.stringify(b['identifier-field-ids'] ?? [])
  );
}
