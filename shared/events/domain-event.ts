/**
 * A row change as a domain event: `<Entity>Created` for an insert or a row of the historical load,
 * `<Entity>Updated`, `<Entity>Deleted`. The event carries the whole row after the change by column name (a delete:
 * the key columns), in the lossless JSON of `event-values.ts`, and metadata tying it to the migration and the source
 * transaction. Everything is derived from the change and the migration id, so a replay builds the same event.
 */
import { formatLsn } from '../cdc/lsn';
import type { FanoutChange, FanoutTable } from '../fanout/fanout-types';
import { aggregateId, eventId, qualifiedName, uuidV5 } from '../fanout/identity';
import type { JsonObject, JsonValue } from '../iceberg/spec/json';
import type { Value } from '../iceberg/spec/values';
import { ValidationError } from '../errors';
import { quotedText } from '../text/bounded-text';
import { decodeEventValue, encodeEventValue } from './event-values';

/** What kind of change an event records. */
export type EventKind = 'Created' | 'Updated' | 'Deleted';

/** The metadata of every event. */
export interface EventMetadata {
  /** The migration (or sync) whose feed produced the event. */
  migrationId: string;
  /** Shared by every event of one source transaction: UUIDv5 of the migration and the transaction's position. */
  correlationId: string;
  /** What caused the event: the source transaction (stream), or the historical load of the table (load). */
  causationId: string;
  /** The source position, as pg_lsn prints it (`X/Y`). */
  sourceLsn: string;
  origin: 'load' | 'stream';
  /** `schema.name` of the source table. */
  table: string;
}

/** One domain event as the event store keeps it. */
export interface DomainEvent {
  id: string;
  aggregateType: string;
  aggregateId: string;
  eventType: string;
  kind: EventKind;
  /** The row by column name (a delete: the key columns). */
  data: JsonObject;
  metadata: EventMetadata;
}

/** The event kind of a change: a load row and an insert are both a creation. */
export function eventKind(change: Pick<FanoutChange, 'op' | 'origin'>): EventKind {
  if (change.op === 'delete') return 'Deleted';
  return change.op === 'insert' || change.origin === 'load' ? 'Created' : 'Updated';
}

/** The event a change becomes in migration `migrationId`; throws (naming table, column, key, value) for a value that does not fit its column. */
export function toDomainEvent(change: FanoutChange, migrationId: string): DomainEvent {
  const { table } = change;
  const kind = eventKind(change);
  const id = aggregateId(change.key);
  const sourceLsn = formatLsn(change.position);
  const correlationId = uuidV5(JSON.stringify(['transaction', migrationId, sourceLsn]));
  const causationId = change.origin === 'load' ? uuidV5(JSON.stringify(['load', migrationId, table.schema, table.name, sourceLsn])) : correlationId;
  return {
    id: eventId(table, change.key, change.position, change.index),
    aggregateType: table.entity,
    aggregateId: id,
    eventType: `${table.entity}${kind}`,
    kind,
    data: kind === 'Deleted' ? keyData(table, change.key, id) : rowData(table, change.row, id),
    metadata: { migrationId, correlationId, causationId, sourceLsn, origin: change.origin, table: qualifiedName(table) },
  };
}

/** The values an event's data holds, in `table.columns` order (a Deleted event: in `table.key` order). */
export function decodeEventData(table: FanoutTable, data: JsonValue, kind: EventKind): Value[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ValidationError(`event-store: the data of a ${table.entity} event is not a JSON object`);
  const names = kind === 'Deleted' ? table.key : table.columns.map((c) => c.name);
  return names.map((name) => {
    const column = columnNamed(table, name);
    return decodeEventValue(column.type, Object.prototype.hasOwnProperty.call(data, name) ? data[name]! : null, name);
  });
}

function rowData(table: FanoutTable, row: readonly Value[] | undefined, key: string): JsonObject {
  const where = qualifiedName(table);
  if (row === undefined || row.length !== table.columns.length) {
    throw new ValidationError(
      `event-store: table ${where}, key ${quotedText(key)}: the change carries ${row?.length ?? 'no'} values for ${table.columns.length} columns`,
    );
  }
  // No prototype: a column may be named __proto__, and it must stay a column.
  const data = Object.create(null) as JsonObject;
  table.columns.forEach((column, i) => {
    data[column.name] = encodeEventValue(column.type, row[i]!, { table: where, column: column.name, key });
  });
  return data;
}

function keyData(table: FanoutTable, values: readonly Value[], key: string): JsonObject {
  const where = qualifiedName(table);
  if (values.length !== table.key.length) {
    throw new ValidationError(
      `event-store: table ${where}, key ${quotedText(key)}: the change carries ${values.length} key values for ${table.key.length} key columns`,
    );
  }
  const data = Object.create(null) as JsonObject;
  table.key.forEach((name, i) => {
    data[name] = encodeEventValue(columnNamed(table, name).type, values[i]!, { table: where, column: name, key });
  });
  return data;
}

function columnNamed(table: FanoutTable, name: string): FanoutTable['columns'][number] {
  const column = table.columns.find((c) => c.name === name);
  if (column === undefined) throw new ValidationError(`event-store: table ${qualifiedName(table)} has no column ${JSON.stringify(name)} for its key`);
  return column;
}
