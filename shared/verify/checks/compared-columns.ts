/** The columns both sides hold with the same type: the ones aggregates, rows and samples are compared on. */
import type { DecodePlan } from '../../postgres/decode-plan';
import { quoteIdent } from '../../postgres/identifiers';
import type { TableMapping } from '../../postgres/type-mapping';
import type { Schema } from '../../iceberg/spec/schema';
import type { IcebergType } from '../../iceberg/spec/types';
import { canonicalSql } from '../canonical/canonical-sql';
import { typeToString } from './schema-check';

/** One compared column. */
export interface ComparedColumn {
  name: string;
  type: IcebergType;
  plan: DecodePlan;
  /** SQL of the column's value as the copy selects it (`"col"`, `"col"::text`, `"col"::text[]`). */
  valueSql: string;
  /** SQL of its canonical text (canonical-sql.ts). */
  canonicalSql: string;
  /** Whether PostgreSQL allows NULL in it (a NOT NULL column's row hash step skips the NULL test). */
  nullable: boolean;
  /** An array of plain texts (text[], varchar[], or selected as ::text[]): its elements are their own canonical texts. */
  plainTextArray?: boolean;
}

/** Columns mapped from PostgreSQL that the Iceberg schema has under the same name and type, in PostgreSQL order. */
export function comparedColumns(mapping: TableMapping, actual: Schema): ComparedColumn[] {
  const byName = new Map(actual.fields.map((f) => [f.name, f]));
  const out: ComparedColumn[] = [];
  mapping.columns.forEach((column, i) => {
    const expected = mapping.schema.fields[i]!;
    const field = byName.get(column.name);
    if (field === undefined || typeToString(field.type) !== typeToString(expected.type)) return;
    const valueSql = column.transfer === 'text' ? column.selectSql : quoteIdent(column.name);
    out.push({
      name: column.name,
      type: field.type,
      plan: column.decode,
      valueSql,
      canonicalSql: columnCanonicalSql(column, valueSql),
      nullable: !expected.required,
      ...(isPlainTextArray(column) ? { plainTextArray: true } : {}),
    });
  });
  return out;
}

/** Plain text arrays: their elements' canonical text is the text itself. */
const TEXT_ARRAY = /^(text|character varying(\(\d+\))?)\[\]$/;
/** Types whose ::text is their output text (no char(n) padding to keep): the value itself is the canonical text. */
const PLAIN_TEXT = /^(text|character varying(\(\d+\))?|name|json)$/;

/**
 * The canonical SQL of a column. An array whose elements are plain text (text[], varchar[], or anything the
 * copy selects as ::text[]) is exactly `array_to_json`: a JSON array of JSON strings and nulls, the canonical
 * list text, without a subquery per row. A plain text column, or one the copy selects as ::text, is its own
 * canonical text (NULL stays NULL): no concat() and no NULL test per value.
 */
function columnCanonicalSql(column: TableMapping['columns'][number], valueSql: string): string {
  const plan = column.decode;
  if (plan.kind === 'text' && (column.transfer === 'text' || PLAIN_TEXT.test(column.sourceType))) return `(${valueSql})::text`;
  if (isPlainTextArray(column)) return `(CASE WHEN (${valueSql}) IS NULL THEN NULL ELSE pg_catalog.array_to_json(${valueSql})::text END)`;
  return canonicalSql(plan, valueSql);
}

function isPlainTextArray(column: TableMapping['columns'][number]): boolean {
  const plan = column.decode;
  return plan.kind === 'array' && plan.element.kind === 'text' && (column.transfer === 'text' || TEXT_ARRAY.test(column.sourceType));
}
