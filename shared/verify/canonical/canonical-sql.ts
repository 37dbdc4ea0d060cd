/**
 * The canonical text of a value on the PostgreSQL side: SQL that makes PostgreSQL print, from the live table,
 * the text canonical-text.ts computes from our reader's values (so the copy's own decoder never checks itself).
 * It holds under the session settings of shared/postgres/session-settings.ts.
 */
import type { DecodePlan } from '../../postgres/decode-plan';
import { quoteIdent } from '../../postgres/identifiers';

/** SQL that is true when `expr` (a value of `plan`) is NULL; composites are tested by their text (IS NULL is true for a row of nulls). */
export function nullTestSql(plan: DecodePlan, expr: string): string {
  return plan.kind === 'composite' ? `((${expr})::text IS NULL)` : `((${expr}) IS NULL)`;
}

/** SQL for the canonical text of `expr`, a value of `plan` (NULL for NULL). */
export function canonicalSql(plan: DecodePlan, expr: string, depth = 0): string {
  // Strict expressions are NULL for NULL by themselves: a CASE around them would only cost a test per value.
  if (STRICT_KINDS.has(plan.kind)) return nonNullSql(plan, expr, depth);
  return `(CASE WHEN ${nullTestSql(plan, expr)} THEN NULL ELSE ${nonNullSql(plan, expr, depth)} END)`;
}

/** Kinds whose nonNullSql is built from strict functions and operators only. */
const STRICT_KINDS = new Set<DecodePlan['kind']>([
  'int2',
  'int4',
  'int8',
  'oid',
  'uuid',
  'jsonb',
  'interval',
  'numeric-text',
  'decimal',
  'bytea',
  'date',
  'time',
  'timestamp',
  'timestamptz',
]);

/**
 * SQL for one JSON element of a row/list/struct text: the canonical text as a JSON string, or `null`. Texts
 * of `plan` that never hold a character JSON escapes (digits, hex, signs) are quoted directly: cheaper than
 * to_json, and the same text.
 */
export function jsonElementSql(canonical: string, plan?: DecodePlan): string {
  if (plan !== undefined && !NEEDS_ESCAPING.has(plan.kind)) return `COALESCE('"' || ${canonical} || '"', 'null')`;
  return `COALESCE(pg_catalog.to_json(${canonical})::text, 'null')`;
}

const NEEDS_ESCAPING = new Set<DecodePlan['kind']>(['text', 'jsonb', 'interval', 'array', 'composite']);

/**
 * SQL for the canonical array text of canonical texts (NULL allowed): `array_to_json` of a text[] writes each
 * element as to_json would, NULL as null, no spaces: in one call, without a chain of concatenations (measured:
 * a chain of `||` and to_json per element costs more than twice as much).
 */
export function canonicalArraySql(canonicals: readonly string[]): string {
  if (canonicals.length === 0) return `'[]'`;
  return `pg_catalog.array_to_json(ARRAY[${canonicals.join(', ')}]::text[])::text`;
}

/** Microseconds between 1970-01-01 and PostgreSQL's own epoch, 2000-01-01, which its binary forms count from. */
export const POSTGRES_EPOCH_MICROS = '946684800000000';

/**
 * SQL for the int8 in a value's 8-byte binary form (the *send functions write a big-endian int64): integer
 * arithmetic on the stored value, where EXTRACT(EPOCH ...) goes through numeric and costs about twice as much.
 */
function sentInt8Sql(send: string, e: string): string {
  return `('x' || encode(${send}(${e}), 'hex'))::bit(64)::int8`;
}

function nonNullSql(plan: DecodePlan, e: string, depth: number): string {
  switch (plan.kind) {
    case 'boolean':
      return `(CASE WHEN ${e} THEN 't' ELSE 'f' END)`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
    case 'uuid':
    case 'jsonb':
    case 'interval':
    case 'numeric-text':
      return `(${e})::text`;
    case 'text':
      // concat() prints through the type's output function: char(n) keeps its padding, unlike ::text.
      return `pg_catalog.concat(${e})`;
    case 'float4':
    case 'float8': {
      const send = plan.kind === 'float4' ? 'float4send' : 'float8send';
      return `(CASE WHEN (${e}) = 'NaN' THEN 'NaN' ELSE encode(${send}(${e}), 'hex') END)`;
    }
    case 'decimal':
      return `trim_scale(${e})::text`;
    case 'bytea':
      return `encode(${e}, 'hex')`;
    case 'date':
      return `((${e}) - DATE '1970-01-01')::text`;
    case 'time':
      // time_send: microseconds from midnight.
      return `(${sentInt8Sql('time_send', e)})::text`;
    case 'timestamp':
    case 'timestamptz':
      // Microseconds from 2000-01-01 (UTC for timestamptz, whatever the session's TimeZone) shifted to 1970.
      // Written as a minus of a negation so that both ±infinity (stored as the int64 extremes) overflow int8 and
      // fail the query, as numeric EXTRACT(EPOCH ...)::int8 did, instead of turning into a number.
      return `(${POSTGRES_EPOCH_MICROS} - (-${sentInt8Sql(plan.kind === 'timestamp' ? 'timestamp_send' : 'timestamptz_send', e)}))::text`;
    case 'array': {
      const alias = `icebridge_u${depth}`;
      // Elements by subscript, not unnest: unnest of an array of composites expands each element into columns.
      const element = jsonElementSql(canonicalSql(plan.element, `(${e})[${alias}.o]`, depth + 1), plan.element);
      return `COALESCE((SELECT '[' || string_agg(${element}, ',' ORDER BY ${alias}.o) || ']' FROM generate_subscripts(${e}, 1) AS ${alias}(o)), '[]')`;
    }
    case 'composite':
      return canonicalArraySql(plan.fields.map((f) => canonicalSql(f.plan, `(${e}).${quoteIdent(f.name)}`, depth + 1)));
  }
}
