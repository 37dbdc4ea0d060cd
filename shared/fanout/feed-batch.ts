/**
 * A sync batch (whole transactions of `ChangeEvent`s) turned into the fan-out's row changes: each change of a
 * fanned-out table gets its key, its whole row after the change, its transaction's end position and its place in
 * the transaction. An update that changes the key is a delete of the old key and an insert of the new one.
 */
import { ABSENT, type ChangeEvent, type ChangeRow, type ChangeValue, type RowChange, UNCHANGED } from '../cdc/change-decoder';
import { type Lsn, formatLsn } from '../cdc/lsn';
import { ValidationError } from '../errors';
import type { IcebergType } from '../iceberg/spec/types';
import type { Value } from '../iceberg/spec/values';
import { displayIdent, displayQualified } from '../postgres/identifiers';
import { boundedText } from '../text/bounded-text';
import type { FanoutBatch, FanoutChange, FanoutTable } from './fanout-types';
import { aggregateId } from './identity';
import { tableOf } from './fanout-tables';

const PG_EPOCH_MS = 946_684_800_000;

/**
 * The batch's changes of `tables` whose position is past `after(table)` (the position the table's historical load
 * holds), in commit order; `through` is the end of the batch's last transaction. An unchanged TOASTed value is
 * taken from the old row when the server sent it whole (REPLICA IDENTITY FULL) or from an earlier change of the
 * same key in the batch; otherwise the change is refused, naming table, column and key: the sinks take whole rows.
 */
export function feedBatch(events: readonly ChangeEvent[], tables: ReadonlyMap<string, FanoutTable>, after: (table: FanoutTable) => Lsn): FanoutBatch {
  const changes: FanoutChange[] = [];
  let through: Lsn | undefined;
  let pending: RowChange[] = [];
  /** Whole rows seen in this batch by table and key: where an unchanged value is found when the old row is not whole. */
  const latest = new Map<FanoutTable, Map<string, Value[]>>();
  for (const event of events) {
    if (event.kind === 'change') pending.push(event.change);
    else if (event.kind === 'relation') {
      const table = tableOf(tables, event.table);
      if (table !== undefined)
        throw new ValidationError(
          `table ${displayQualified(table.schema, table.name)} gained columns: the fan-out systems need preparing again before its changes can go on`,
        );
    } else if (event.kind === 'commit') {
      through = event.endLsn;
      const committedAt = Number(event.commitTime / 1000n) + PG_EPOCH_MS;
      let index = 0;
      for (const change of pending) {
        for (const row of rowChanges(change, tables)) {
          if (event.endLsn <= after(row.table)) continue;
          changes.push(complete(row, event.endLsn, index++, committedAt, latest));
        }
      }
      pending = [];
    }
  }
  return { through, changes };
}

interface RawChange {
  table: FanoutTable;
  op: FanoutChange['op'];
  key: Value[];
  after: ChangeRow | undefined;
  before: ChangeRow | undefined;
}

function rowChanges(change: RowChange, tables: ReadonlyMap<string, FanoutTable>): RawChange[] {
  if (change.op === 'truncate') {
    const hit = change.tables.map((t) => tableOf(tables, t)).find((t) => t !== undefined);
    if (hit === undefined) return [];
    throw new ValidationError(
      `table ${displayQualified(hit.schema, hit.name)} was truncated: the fan-out systems cannot follow a truncate; load them again from the table`,
    );
  }
  const table = tableOf(tables, change.table);
  if (table === undefined) return [];
  if (change.op === 'unusable') throw change.error;
  if (change.op === 'insert') return [{ table, op: 'insert', key: keyOf(table, change.after), after: change.after, before: undefined }];
  if (change.op === 'delete') return [{ table, op: 'delete', key: keyOf(table, change.before), after: undefined, before: change.before }];
  const key = keyOf(table, change.after);
  const before = change.before;
  if (before !== undefined) {
    const oldKey = keyOf(table, before);
    if (aggregateId(oldKey) !== aggregateId(key))
      return [
        { table, op: 'delete', key: oldKey, after: undefined, before },
        { table, op: 'insert', key, after: change.after, before: undefined },
      ];
  }
  return [{ table, op: 'update', key, after: change.after, before }];
}

function keyOf(table: FanoutTable, row: ChangeRow): Value[] {
  return table.key.map((name) => {
    const value = row[table.columns.findIndex((c) => c.name === name)];
    if (value === undefined || value === UNCHANGED || value === ABSENT)
      throw new ValidationError(`a change of table ${displayQualified(table.schema, table.name)} does not carry key column ${displayIdent(name)}`);
    return value;
  });
}

function complete(raw: RawChange, position: Lsn, index: number, committedAt: number, latest: Map<FanoutTable, Map<string, Value[]>>): FanoutChange {
  const id = aggregateId(raw.key);
  let seen = latest.get(raw.table);
  if (seen === undefined) latest.set(raw.table, (seen = new Map<string, Value[]>()));
  let row: Value[] | undefined;
  if (raw.after !== undefined) {
    const earlier = seen.get(id);
    row = raw.after.map((value, i) => exact(raw.table.columns[i]!.type, whole(value, raw.before?.[i], earlier?.[i], raw.table, i, id, position)));
    seen.set(id, row);
  } else seen.delete(id);
  const key = raw.key.map((value, i) => exact(raw.table.columns[raw.table.columns.findIndex((c) => c.name === raw.table.key[i])]!.type, value));
  return { table: raw.table, op: raw.op, key, row, position, index, committedAt, origin: 'stream' };
}

const SIXTY_FOUR_BIT = new Set(['long', 'time', 'timestamp', 'timestamptz']);

/**
 * The value in the form the readers give (the historical load's form): 64-bit kinds and decimals as bigint. The
 * stream's decoder hands a safe integer as a number, which every sink would otherwise have to accept twice.
 */
function exact(type: IcebergType, value: Value): Value {
  if (value === null) return value;
  if (typeof type === 'string') return typeof value === 'number' && (SIXTY_FOUR_BIT.has(type) || type.startsWith('decimal')) ? BigInt(value) : value;
  if (type.type === 'list' && Array.isArray(value)) return value.map((v) => exact(type.element, v));
  return value;
}

function whole(
  value: ChangeValue,
  before: ChangeValue | undefined,
  earlier: Value | undefined,
  table: FanoutTable,
  column: number,
  key: string,
  position: Lsn,
): Value {
  if (value !== UNCHANGED && value !== ABSENT) return value;
  if (before !== undefined && before !== UNCHANGED && before !== ABSENT) return before;
  if (earlier !== undefined) return earlier;
  throw new ValidationError(
    `table ${displayQualified(table.schema, table.name)}, column ${displayIdent(table.columns[column]!.name)}, key ${boundedText(key)}: ` +
      `the change at ${formatLsn(position)} left a TOASTed value unchanged and the server did not send it; ` +
      'the fan-out needs whole rows: set REPLICA IDENTITY FULL on the table',
  );
}
