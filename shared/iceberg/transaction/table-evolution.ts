/** Schema and partition-spec evolution as commits: compute the change against the latest metadata, commit, retry. */
import type { Catalog, Table } from '../catalog/catalog';
import type { TableIdentifier } from '../catalog/table-identifier';
import type { PartitionField } from '../spec/partition-spec';
import { validatePartitionSpec } from '../spec/partition-type';
import { type Schema, findFieldByName } from '../spec/schema';
import { currentSchema, defaultSpec } from '../spec/table-metadata';
import { ValidationError } from '../../errors';
import { commitWithRetry } from './commit-retry';
import { type SnapshotOperationOptions, retryOptions } from './table-operations';
import { SchemaUpdate } from './update-schema';

/** Applies the schema changes `change` makes to a SchemaUpdate of the current schema, in one commit. */
export async function updateSchema(
  catalog: Catalog,
  id: TableIdentifier,
  change: (update: SchemaUpdate) => void,
  options: SnapshotOperationOptions = {},
): Promise<Table> {
  let planned: Schema | undefined;
  return commitWithRetry(
    catalog,
    id,
    (base) => {
      const current = currentSchema(base.metadata);
      const update = new SchemaUpdate(current, base.metadata['last-column-id']);
      change(update);
      const { schema, lastColumnId } = update.apply();
      planned = schema;
      if (sameSchema(schema, current)) return { alreadyCommitted: true };
      return {
        requirements: [
          { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
          { type: 'assert-current-schema-id', 'current-schema-id': current['schema-id'] },
          { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': base.metadata['last-column-id'] },
        ],
        updates: [
          { action: 'add-schema', schema, 'last-column-id': lastColumnId },
          { action: 'set-current-schema', 'schema-id': -1 },
        ],
      };
    },
    { ...retryOptions(options), isCommitted: (m) => planned !== undefined && sameSchema(currentSchema(m), planned) },
  );
}

/** A partition field to set, by source column name. */
export interface PartitionFieldRequest {
  source: string;
  /** identity, bucket[N], truncate[W], year, month, day, hour */
  transform: string;
  name?: string;
}

/** Makes a new partition spec the default; new data is written with it, existing files keep theirs. */
export async function setPartitionSpec(
  catalog: Catalog,
  id: TableIdentifier,
  fields: PartitionFieldRequest[],
  options: SnapshotOperationOptions = {},
): Promise<Table> {
  let plannedFields: PartitionField[] | undefined;
  return commitWithRetry(
    catalog,
    id,
    (base) => {
      const schema = currentSchema(base.metadata);
      let nextId = base.metadata['last-partition-id'];
      const previous = base.metadata['partition-specs'].flatMap((s) => s.fields);
      const specFields = fields.map((request): PartitionField => {
        const source = findFieldByName(schema, request.source);
        if (!source) throw new ValidationError(`partition source column ${request.source} does not exist`);
        // Spec v2: the same source and transform keep their partition field id across specs.
        const reuse = previous.find((f) => f['source-id'] === source.id && f.transform === request.transform);
        return {
          'source-id': source.id,
          'field-id': reuse?.['field-id'] ?? ++nextId,
          name: request.name ?? reuse?.name ?? defaultPartitionName(request.source, request.transform),
          transform: request.transform,
        };
      });
      const spec = { 'spec-id': 0, fields: specFields };
      validatePartitionSpec(spec, schema);
      plannedFields = specFields;
      if (JSON.stringify(defaultSpec(base.metadata).fields) === JSON.stringify(specFields)) return { alreadyCommitted: true };
      return {
        requirements: [
          { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
          { type: 'assert-default-spec-id', 'default-spec-id': base.metadata['default-spec-id'] },
          { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': base.metadata['last-partition-id'] },
        ],
        updates: [
          { action: 'add-spec', spec },
          { action: 'set-default-spec', 'spec-id': -1 },
        ],
      };
    },
    {
      ...retryOptions(options),
      isCommitted: (m) => plannedFields !== undefined && JSON.stringify(defaultSpec(m).fields) === JSON.stringify(plannedFields),
    },
  );
}

/** Sets table properties in one commit. */
export async function setProperties(
  catalog: Catalog,
  id: TableIdentifier,
  updates: Record<string, string>,
  options: SnapshotOperationOptions = {},
): Promise<Table> {
  return commitWithRetry(
    catalog,
    id,
    (base) => ({
      requirements: [{ type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] }],
      updates: [{ action: 'set-properties', updates }],
    }),
    { ...retryOptions(options), isCommitted: (m) => Object.entries(updates).every(([k, v]) => m.properties[k] === v) },
  );
}

/** Java's default partition field names: the column for identity, `<column>_<transform>` otherwise. */
function defaultPartitionName(source: string, transform: string): string {
  if (transform === 'identity') return source;
  const m = /^(bucket|truncate)\[(\d+)\]$/.exec(transform);
  if (m) return `${source}_${m[1] === 'truncate' ? 'trunc' : 'bucket'}`;
  return `${source}_${transform}`;
}

function sameSchema(a: Schema, b: Schema): boolean {
  return JSON.stringify(a.fields) === JSON.stringify(b.fields);
}
