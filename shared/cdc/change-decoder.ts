/**
 * pgoutput messages to row changes in the shared value representation. Binary tuple values are decoded by the
 * copy's own decoders (`compileDecoder` over `mapTable`'s plans), so a row arriving through the stream holds
 * exactly the values the copy would have read. Remembers the Relation messages of the stream (the server sends
 * one before the first change of a table on each connection, and again after the table changes).
 */
import { IcebridgeError, TableShapeChangedError, ValidationError } from '../errors';
import type { Value } from '../iceberg/spec/values';
import { type FieldDecoder, UnrepresentableValue, compileDecoder } from '../postgres/binary-decoders';
import { UNREPRESENTABLE_VALUE } from '../postgres/copy-reader';
import { displayIdent, displayQualified } from '../postgres/identifiers';
import { boundedText, quotedText } from '../text/bounded-text';
import type { DecodePlan } from '../postgres/decode-plan';
import type { SourceTable } from '../postgres/source-table';
import { renderForComparison } from '../postgres/text-rendering';
import type { TableMapping } from '../postgres/type-mapping';
import type { Lsn } from './lsn';
import type { OldTupleKind, PgoutputMessage, RelationColumn, TupleColumn } from './pgoutput';
import { type RelationMessage, compareShape, describeChange } from './relation-shape';

/** A TOASTed value the update did not change: the server did not send it, and it is NOT null. Keep the old value. */
export const UNCHANGED: unique symbol = Symbol('unchanged TOASTed value');
/** A column an old key tuple does not carry (not part of the replica identity). */
export const ABSENT: unique symbol = Symbol('not part of the replica identity');

/** A column value of a change: a value, or one of the markers above. */
export type ChangeValue = Value | typeof UNCHANGED | typeof ABSENT;
/** Values in the mapping's column order. */
export type ChangeRow = ChangeValue[];

/** A table as `schema.name`, exact catalog names. */
export interface TableName {
  schema: string;
  name: string;
}

/** One row change, or a truncate. */
export type RowChange =
  | { op: 'insert'; table: TableName; after: ChangeRow }
  | { op: 'update'; table: TableName; before: ChangeRow | undefined; beforeKind: OldTupleKind | undefined; after: ChangeRow }
  | { op: 'delete'; table: TableName; before: ChangeRow; beforeKind: OldTupleKind }
  | {
      op: 'truncate';
      tables: TableName[];
      cascade: boolean;
      restartIdentity: boolean;
      /** Tables among `tables` whose shape changed so that the sync cannot follow: applying the truncate to them fails. */
      unusable?: Array<{ table: TableName; error: TableShapeChangedError }>;
    }
  /** A change of a table whose shape changed in a way its values cannot be decoded into: applying it must fail. */
  | { op: 'unusable'; table: TableName; error: TableShapeChangedError };

/** What the stream hands the consumer, in WAL order: transactions as begin, changes, commit. */
export type ChangeEvent =
  | { kind: 'begin'; finalLsn: Lsn; commitTime: bigint; xid: number }
  | { kind: 'change'; change: RowChange }
  | { kind: 'commit'; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }
  | { kind: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer }
  /** The table gained columns at the end (ADD COLUMN): the changes after this event carry them, per `binding`. */
  | { kind: 'relation'; table: TableName; binding: TableBinding };

/** A table the consumer reads changes of: its description and the mapping the copy used. */
export interface TableBinding {
  table: SourceTable;
  mapping: TableMapping;
  /**
   * The columns the stream sends for the table as pg_attribute and the replica identity have them (name, type oid,
   * typmod, key), read with `table`. Without it, Relation messages are checked against `table` by name and type oid.
   */
  shape?: RelationColumn[];
  /** Columns that gave the rows already in the table a value when they were added (a default, an identity). */
  filledColumns?: string[];
}

/** A fresh description of a table whose Relation message differs from its binding, or why there is none. */
export type Redescription = TableBinding | { error: string };

interface BoundRelation {
  table: TableName;
  binding: TableBinding;
  /** Per published column: the mapping index it fills, or -1 when the column is excluded. */
  target: number[];
  decoders: Array<FieldDecoder | undefined>;
  width: number;
  /** Replica identity columns: their position in a tuple, name and decode plan (undefined when not migrated). */
  key: Array<{ position: number; name: string; plan: DecodePlan | undefined }>;
}

/** Options of `ChangeDecoder`. */
export interface ChangeDecoderOptions {
  /** Always bigint for 64-bit kinds, as `readRows(..., { exactBigInt })`. */
  exactBigInt?: boolean;
  /** Hand logical decoding messages (pg_logical_emit_message) to the consumer; dropped otherwise. */
  messages?: boolean;
  /**
   * Per-table shape changes: a table whose Relation message no longer fits its binding has its changes marked
   * `unusable` (the stream goes on for the others), and added columns are taken from `describeAgain`. Without it
   * a change of shape fails the stream.
   */
  perTable?: boolean;
}

/** A relation whose changes cannot be decoded any more, and why. */
interface UnusableRelation {
  table: TableName;
  error: TableShapeChangedError;
}

/** Turns pgoutput messages into ChangeEvents for the bound tables; a change of any other table is an error. */
export class ChangeDecoder {
  /** Each table's binding: the one given, then the last accepted re-description. */
  private readonly bindings = new Map<string, TableBinding>();
  /** Table oid -> the table's key, to tell a renamed table from an unknown one. */
  private readonly byOid = new Map<number, string>();
  /** Relation id -> its binding, why its changes are unusable, or the name of a relation that has none. */
  private readonly relations = new Map<number, BoundRelation | UnusableRelation | string>();
  /** Re-descriptions supplied for the next Relation message of a relation id. */
  private readonly redescribed = new Map<number, Redescription>();

  constructor(
    bindings: readonly TableBinding[],
    private readonly options: ChangeDecoderOptions = {},
  ) {
    for (const binding of bindings) {
      this.bindings.set(key(binding.table), binding);
      if (binding.table.oid > 0) this.byOid.set(binding.table.oid, key(binding.table));
    }
  }

  /**
   * The table a Relation message needs described again before `decode` takes it: one of ours whose columns are no
   * longer the binding's (in per-table mode only). Supply the description with `redescribe`.
   */
  needsDescription(message: RelationMessage): TableName | undefined {
    if (this.options.perTable !== true) return undefined;
    const binding = this.bindings.get(key(message));
    if (binding === undefined || this.byOid.get(message.relationId) !== key(message)) return undefined;
    return compareShape(binding, message.columns).kind === 'same' ? undefined : { schema: message.schema, name: message.name };
  }

  /** The table's current description from the catalog (or why it could not be read), for the next Relation of `relationId`. */
  redescribe(relationId: number, description: Redescription): void {
    this.redescribed.set(relationId, description);
  }

  /** The event of one message, or undefined for messages that only update the decoder (Relation, Type, Origin). */
  decode(message: PgoutputMessage): ChangeEvent | undefined {
    switch (message.tag) {
      case 'begin':
        return { kind: 'begin', finalLsn: message.finalLsn, commitTime: message.commitTime, xid: message.xid };
      case 'commit':
        return { kind: 'commit', commitLsn: message.commitLsn, endLsn: message.endLsn, commitTime: message.commitTime };
      case 'origin':
      case 'type':
        return undefined;
      case 'relation': {
        const bound = this.bind(message);
        this.relations.set(message.relationId, bound.relation);
        return bound.event;
      }
      case 'insert': {
        const relation = this.relation(message.relationId);
        if ('error' in relation) return unusable(relation);
        return { kind: 'change', change: { op: 'insert', table: relation.table, after: this.row(relation, message.after, undefined) } };
      }
      case 'update': {
        const relation = this.relation(message.relationId);
        if ('error' in relation) return unusable(relation);
        const before = message.before === undefined ? undefined : this.row(relation, message.before, message.oldKind);
        const after = this.row(relation, message.after, undefined);
        return { kind: 'change', change: { op: 'update', table: relation.table, before, beforeKind: message.oldKind, after } };
      }
      case 'delete': {
        const relation = this.relation(message.relationId);
        if ('error' in relation) return unusable(relation);
        const before = this.row(relation, message.before, message.oldKind);
        return { kind: 'change', change: { op: 'delete', table: relation.table, before, beforeKind: message.oldKind } };
      }
      case 'truncate': {
        const relations = message.relationIds.map((id) => this.relation(id));
        const unusable = relations.filter((r): r is UnusableRelation => 'error' in r);
        return {
          kind: 'change',
          change: {
            op: 'truncate',
            tables: relations.map((r) => r.table),
            cascade: message.cascade,
            restartIdentity: message.restartIdentity,
            ...(unusable.length > 0 ? { unusable: unusable.map((r) => ({ table: r.table, error: r.error })) } : {}),
          },
        };
      }
      case 'message':
        if (this.options.messages !== true) return undefined;
        return { kind: 'message', transactional: message.transactional, lsn: message.lsn, prefix: message.prefix, content: message.content };
    }
  }

  private relation(id: number): BoundRelation | UnusableRelation {
    const relation = this.relations.get(id);
    // The server always sends a Relation before the first change of a table on a connection.
    if (relation === undefined) throw new ValidationError(`pgoutput protocol: a change of relation ${id} arrived before its Relation message`);
    if (typeof relation === 'string') {
      throw new ValidationError(`the stream carries changes of ${relation}, which is not one of the tables being synchronised; check the publication`);
    }
    return relation;
  }

  /** What a Relation message makes of its relation, and the event announcing a new binding of one of our tables. */
  private bind(message: RelationMessage): { relation: BoundRelation | UnusableRelation | string; event?: ChangeEvent } {
    const where = displayQualified(message.schema, message.name);
    const redescribed = this.redescribed.get(message.relationId);
    this.redescribed.delete(message.relationId);
    const ownKey = this.byOid.get(message.relationId);
    if (ownKey !== undefined && ownKey !== key(message)) {
      // The relation we bound under another name: the table was renamed (or moved to another schema).
      const { schema, name } = this.bindings.get(ownKey)!.table;
      return { relation: this.unusable({ schema, name }, `it was renamed to ${where}`) };
    }
    const binding = this.bindings.get(key(message));
    // Not an error yet: with publish_via_partition_root the server describes the leaf as well as the root it
    // publishes a change under. A change that names this relation is the error.
    if (binding === undefined) return { relation: where };
    const table = { schema: message.schema, name: message.name };
    if (binding.table.oid > 0 && binding.table.oid !== message.relationId && this.options.perTable === true) {
      return { relation: this.unusable(table, 'it was dropped and created again (another relation now has its name)') };
    }
    const shape = compareShape(binding, message.columns);
    if (shape.kind === 'same') return { relation: this.boundOrUnusable(message, binding) };
    if (shape.kind === 'changed' || redescribed === undefined) {
      // The table described again names the new types, where it still has them.
      const fresh = redescribed !== undefined && !('error' in redescribed) ? redescribed : undefined;
      return { relation: this.unusable(table, describeChange(binding, message.columns, fresh)) };
    }
    if ('error' in redescribed) {
      return { relation: this.unusable(table, `${describeChange(binding, message.columns, undefined)}, and describing it again failed: ${redescribed.error}`) };
    }
    // The catalog holds the table's shape now, which may be later than this message: take it only when it is
    // exactly the shape the message describes.
    if (compareShape(redescribed, message.columns).kind !== 'same' || redescribed.shape === undefined) {
      return {
        relation: this.unusable(
          table,
          `${describeChange(binding, message.columns, redescribed)}, and it changed again since (the catalog no longer describes the columns the stream sends)`,
        ),
      };
    }
    const relation = this.boundOrUnusable(message, redescribed, true);
    if ('error' in relation) return { relation };
    this.bindings.set(key(message), redescribed);
    return { relation, event: { kind: 'relation', table, binding: redescribed } };
  }

  private unusable(table: TableName, change: string): UnusableRelation {
    const error = new TableShapeChangedError(displayQualified(table.schema, table.name), change);
    if (this.options.perTable !== true) throw error;
    return { table, error };
  }

  /** Decoders of a relation whose message fits `binding`, or why its columns cannot be decoded. */
  private boundOrUnusable(message: RelationMessage, binding: TableBinding, added = false): BoundRelation | UnusableRelation {
    const where = displayQualified(message.schema, message.name);
    const { table, mapping } = binding;
    const published = new Map<string, RelationColumn>(message.columns.map((c) => [c.name, c]));
    for (const column of mapping.columns) {
      const sent = published.get(column.name);
      if (sent === undefined) {
        const generated = table.columns.find((c) => c.name === column.name)?.generated !== undefined;
        // A binding the stream cannot run with at all, not a change of the table, stops the stream; a column of
        // this kind added during the sync stops its table.
        if (generated) {
          const text = `column ${displayIdent(column.name)} of ${where} is not in the replication stream (PostgreSQL does not publish generated columns before version 18)`;
          if (added) return this.unusable(message, text);
          throw new ValidationError(`${text}: exclude it from the table`);
        }
        return this.unusable(message, `column ${displayIdent(column.name)} is not in the replication stream: the table changed since it was described`);
      }
      if (column.transfer !== 'binary') {
        const text = `column ${displayIdent(column.name)} of ${where} (${column.sourceType}) is copied as PostgreSQL's text output, and the stream sends its binary form, which icebridge does not decode`;
        if (added) return this.unusable(message, text);
        throw new ValidationError(`${text}: exclude the column or map it to a binary type`);
      }
    }
    const exactBigInt = this.options.exactBigInt === true;
    const target = message.columns.map((c) => mapping.columns.findIndex((m) => m.name === c.name));
    return {
      table: { schema: message.schema, name: message.name },
      binding,
      target,
      decoders: target.map((i) => (i < 0 ? undefined : compileDecoder(mapping.columns[i]!.decode, { exactBigInt }))),
      width: mapping.columns.length,
      key: message.columns.flatMap((c, position) => (c.key ? [{ position, name: c.name, plan: mapping.columns[target[position]!]?.decode }] : [])),
    };
  }

  private row(relation: BoundRelation, tuple: TupleColumn[], oldKind: OldTupleKind | undefined): ChangeRow {
    if (tuple.length !== relation.target.length) {
      throw new ValidationError(
        `pgoutput protocol: a tuple of ${displayQualified(relation.table.schema, relation.table.name)} has ${tuple.length} columns, its Relation ${relation.target.length}`,
      );
    }
    const row: ChangeRow = new Array<ChangeValue>(relation.width).fill(ABSENT);
    for (let i = 0; i < tuple.length; i++) {
      const index = relation.target[i]!;
      if (index < 0) continue;
      const column = tuple[i]!;
      if (column.kind === 'null') {
        // In a key-only old tuple, columns outside the replica identity are sent as null: they are not known.
        row[index] = oldKind === 'key' ? ABSENT : null;
      } else if (column.kind === 'unchanged') {
        row[index] = UNCHANGED;
      } else if (column.kind === 'binary') {
        row[index] = this.value(relation, tuple, i);
      } else {
        throw new ValidationError(
          `column ${this.columnName(relation, index)} of ${displayQualified(relation.table.schema, relation.table.name)} arrived as text: icebridge decodes binary values only (PostgreSQL 14 or later, binary 'true')`,
        );
      }
    }
    return row;
  }

  private value(relation: BoundRelation, tuple: TupleColumn[], position: number): Value {
    const column = tuple[position] as Extract<TupleColumn, { buf: Buffer }>;
    try {
      return relation.decoders[position]!(column.buf, column.start, column.length);
    } catch (error) {
      if (!(error instanceof UnrepresentableValue)) throw error;
      const row = relation.key.length === 0 ? '' : `, row ${keyText(relation, tuple)}`;
      throw new IcebridgeError(
        UNREPRESENTABLE_VALUE,
        `table ${displayQualified(relation.table.schema, relation.table.name)}, column ${this.columnName(relation, relation.target[position]!)}${error.path.join('')}${row}: ` +
          `value ${quotedText(error.valueText)} cannot be stored exactly: ${error.reason}`,
      );
    }
  }

  private columnName(relation: BoundRelation, index: number): string {
    return displayIdent(relation.binding.mapping.columns[index]!.name);
  }
}

/** `(id, region)=(2, 'eu')` as the copy names a row in its errors; a key value that cannot be read shows as `?`. */
function keyText(relation: BoundRelation, tuple: TupleColumn[]): string {
  const texts = relation.key.map(({ position, plan }) => {
    const column = tuple[position];
    const decoder = relation.decoders[position];
    if (column?.kind === 'null') return 'NULL';
    if (column?.kind !== 'binary' || plan === undefined || decoder === undefined) return '?';
    try {
      const text = renderForComparison(plan, decoder(column.buf, column.start, column.length));
      return text === null ? 'NULL' : boundedText(text);
    } catch {
      return '?';
    }
  });
  return `(${relation.key.map((k) => displayIdent(k.name)).join(', ')})=(${texts.join(', ')})`;
}

function unusable(relation: UnusableRelation): ChangeEvent {
  return { kind: 'change', change: { op: 'unusable', table: relation.table, error: relation.error } };
}

function key(table: TableName): string {
  return JSON.stringify([table.schema, table.name]);
}
