/**
 * How a Relation message compares with the shape a table was bound with: the same, the same with columns added at
 * the end (ADD COLUMN), or changed otherwise (a column dropped, renamed or retyped, another key), with a sentence
 * saying what changed for the error that stops the table. Pure.
 */
import { displayIdent, displayQualified } from '../postgres/identifiers';
import type { TableBinding } from './change-decoder';
import type { PgoutputMessage, RelationColumn } from './pgoutput';

/** A decoded Relation message. */
export type RelationMessage = Extract<PgoutputMessage, { tag: 'relation' }>;

/** What a Relation message's columns are to a binding. */
export type ShapeComparison = { kind: 'same' } | { kind: 'added'; columns: string[] } | { kind: 'changed'; change: string };

/**
 * Compares the columns a Relation message sends with a binding. With the binding's exact `shape`, every column's
 * name, type oid, typmod and key flag must be the same, position by position; columns after them are `added`.
 * Without one, the mapping's columns must be sent with the described type oids (columns left out of the mapping
 * may be sent too), and nothing is ever `added`.
 */
export function compareShape(binding: TableBinding, sent: readonly RelationColumn[]): ShapeComparison {
  const shape = binding.shape;
  if (shape === undefined) {
    for (const column of binding.mapping.columns) {
      const described = binding.table.columns.find((c) => c.name === column.name);
      const match = sent.find((c) => c.name === column.name);
      // A generated column is never sent before PostgreSQL 18: the binding's own check names that mistake.
      if (match === undefined && described?.generated !== undefined) continue;
      if (match === undefined || described === undefined || match.typeOid !== described.type.oid) {
        return { kind: 'changed', change: describeChange(binding, sent, undefined) };
      }
    }
    return { kind: 'same' };
  }
  const common = Math.min(shape.length, sent.length);
  for (let i = 0; i < common; i++) {
    if (!sameColumn(shape[i]!, sent[i]!)) return { kind: 'changed', change: describeChange(binding, sent, undefined) };
  }
  if (sent.length < shape.length) return { kind: 'changed', change: describeChange(binding, sent, undefined) };
  if (sent.length === shape.length) return { kind: 'same' };
  return { kind: 'added', columns: sent.slice(shape.length).map((c) => c.name) };
}

/**
 * What changed between the binding and the columns sent, as a sentence naming columns and types (`fresh`, the
 * table described again, names the new types when it still has them).
 */
export function describeChange(binding: TableBinding, sent: readonly RelationColumn[], fresh: TableBinding | undefined): string {
  const where = displayQualified(binding.table.schema, binding.table.name);
  const old: RelationColumn[] =
    binding.shape ??
    binding.mapping.columns.map((m) => {
      const described = binding.table.columns.find((c) => c.name === m.name);
      return { name: m.name, typeOid: described?.type.oid ?? 0, typmod: -1, key: binding.table.key.columns.includes(m.name) };
    });
  const oldNames = new Set(old.map((c) => c.name));
  const changes: string[] = [];
  old.forEach((column, position) => {
    const now = sent.find((c) => c.name === column.name);
    if (now === undefined) {
      const there = sent[position];
      changes.push(
        there !== undefined && !oldNames.has(there.name) && there.typeOid === column.typeOid
          ? `column ${displayIdent(column.name)} was renamed to ${displayIdent(there.name)}`
          : `column ${displayIdent(column.name)} was dropped`,
      );
    } else if (now.typeOid !== column.typeOid || (binding.shape !== undefined && now.typmod !== column.typmod)) {
      if (binding.shape === undefined) {
        // Kept word for word: callers match this sentence.
        changes.push(
          `column ${displayIdent(column.name)} of ${where} changed type since the table was described (type oid ${column.typeOid} -> ${now.typeOid})`,
        );
      } else {
        changes.push(`column ${displayIdent(column.name)} changed type from ${typeText(binding, column)} to ${typeText(fresh, now)}`);
      }
    }
  });
  const renamedTo = new Set(changes.flatMap((c) => /renamed to (.*)$/.exec(c)?.[1] ?? []));
  const added = sent.filter((c) => !oldNames.has(c.name) && !renamedTo.has(displayIdent(c.name)));
  if (changes.length > 0 && added.length > 0) changes.push(`column(s) ${added.map((c) => displayIdent(c.name)).join(', ')} added`);
  if (binding.shape !== undefined) {
    const keyBefore = old.filter((c) => c.key).map((c) => c.name);
    const keyNow = sent.filter((c) => c.key).map((c) => c.name);
    if (keyBefore.join('\u0000') !== keyNow.join('\u0000')) {
      changes.push(`its replica identity changed from (${keyBefore.map(displayIdent).join(', ')}) to (${keyNow.map(displayIdent).join(', ')})`);
    }
  }
  if (changes.length === 0 && added.length > 0) return `column(s) ${added.map((c) => displayIdent(c.name)).join(', ')} were added`;
  if (changes.length === 0) {
    return `the stream sends columns (${sent.map((c) => displayIdent(c.name)).join(', ')}), the table was described with (${[...oldNames].map(displayIdent).join(', ')})`;
  }
  return changes.join('; ');
}

function sameColumn(a: RelationColumn, b: RelationColumn): boolean {
  return a.name === b.name && a.typeOid === b.typeOid && a.typmod === b.typmod && a.key === b.key;
}

/** The SQL name of a column's type as a binding describes it, or its oid and typmod. */
function typeText(binding: TableBinding | undefined, column: RelationColumn): string {
  const described = binding?.table.columns.find((c) => c.name === column.name && c.type.oid === column.typeOid);
  if (described !== undefined) return described.type.sql;
  return `type oid ${column.typeOid}${column.typmod >= 0 ? ` (typmod ${column.typmod})` : ''}`;
}
