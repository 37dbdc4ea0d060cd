/**
 * What a restore writes: the live table's columns matched with the Iceberg snapshot's fields, each with the
 * encoder that gives its values back. Anything that would make the restored table differ from the snapshot
 * without a word (a column the snapshot lacks or has extra, a type that changed, a value form that cannot be told
 * apart) refuses the table before a row is written, naming table and columns.
 */
import { ValidationError } from '../errors';
import type { Schema } from '../iceberg/spec/schema';
import { displayIdent, displayQualified, quoteIdent } from '../postgres/identifiers';
import type { SourceTable } from '../postgres/source-table';
import { mapTable } from '../postgres/type-mapping';
import { typeToString } from '../verify/checks/schema-check';
import { type FieldEncoder, fieldEncoder, unrestorableReason } from './copy-text';

/** The columns COPY writes, in order, and how. */
export interface RestorePlan {
  /** Columns written (generated ones are left to PostgreSQL, which computes them again). */
  columns: string[];
  encoders: FieldEncoder[];
  /** The COPY column list, quoted. */
  columnListSql: string;
}

/** Plans the restore of `table` from a snapshot whose schema is `snapshotSchema`; refuses what cannot be exact. */
export function planRestore(table: SourceTable, snapshotSchema: Schema): RestorePlan {
  const mapping = mapTable(table);
  const fields = new Map(snapshotSchema.fields.map((f) => [f.name, f]));
  const live = new Set(table.columns.map((c) => c.name));
  const problems: string[] = [];
  for (const field of snapshotSchema.fields) {
    if (!live.has(field.name)) problems.push(`${displayIdent(field.name)} is in the snapshot but no longer in the table: its values would be dropped`);
  }
  const columns: string[] = [];
  const encoders: FieldEncoder[] = [];
  mapping.columns.forEach((column, i) => {
    const field = fields.get(column.name);
    const expected = typeToString(mapping.schema.fields[i]!.type);
    const generated = table.columns.find((c) => c.name === column.name)?.generated !== undefined;
    if (field === undefined) {
      problems.push(`${displayIdent(column.name)} is not in the snapshot (left out by the migration, or added since): it has no values to restore`);
      return;
    }
    if (typeToString(field.type) !== expected) {
      problems.push(`${displayIdent(column.name)} was ${typeToString(field.type)} in the snapshot, while ${column.sourceType} maps to ${expected} now`);
      return;
    }
    const reason = unrestorableReason(column.decode);
    if (reason !== undefined) {
      problems.push(`${displayIdent(column.name)} (${column.sourceType}): ${reason}`);
      return;
    }
    if (generated) return;
    columns.push(column.name);
    encoders.push(fieldEncoder(column.decode));
  });
  if (problems.length > 0) {
    throw new ValidationError(`cannot restore ${displayQualified(table.schema, table.name)} exactly: ${problems.join('; ')}`);
  }
  return { columns, encoders, columnListSql: columns.map(quoteIdent).join(', ') };
}
