/**
 * The row hash in SQL (README.md): each column's hash form, shared with the JavaScript side (row-hasher.ts), and the
 * SQL PostgreSQL computes a row's hash with from the live table's values or from their canonical texts.
 */
import type { DecodePlan } from '../../postgres/decode-plan';
import { type IcebergType, decimalParams } from '../../iceberg/spec/types';
import { POSTGRES_EPOCH_MICROS } from './canonical-sql';

/** The xor mask of the seed of a NULL column's step (0x9e3779b97f4a7c15, row-hasher.ts) as a signed int8 literal. */
const NULL_MASK_SQL = '-7046029254386353131';
/** The high 32 bits of an int8, as a signed int8 literal (0xffffffff00000000): the `int8` form's seed mask. */
const HIGH_WORD_SQL = '-4294967296';
/** Added to a list's seed per dimension beyond the first (2^32: no column position reaches it). */
const MULTI_DIMENSIONAL_SEED = '4294967296';

/**
 * How a column's step hashes its value: `int4` its 32-bit value (hashint4extended), `int8` its 64-bit value
 * (hashint8extended with its high 32 bits xored into the seed's high word), `sent` the hex of its 8-byte
 * binary send form, `scaled` a decimal's text at its column's scale (`12.30`), `text` its canonical text (these
 * three hashtextextended), `list` (a list of strings) the empty text with the seed xor the list's own hash
 * (hashList).
 */
export type HashForm = 'int4' | 'int8' | 'sent' | 'scaled' | 'text' | 'list';

/**
 * The hash form of a column of `type`, decoded from PostgreSQL by `plan` (when known). A decimal is `scaled`
 * only from a numeric(P, S): its typmod gives every value the scale S, so PostgreSQL prints the text at the
 * column's scale with no trim_scale. A decimal from an unconstrained numeric (a `checked` plan) holds values of
 * their own scales (1.5, 1.50000), whose text is not the column's: it is hashed by the trimmed canonical text,
 * never cast to the column's scale, which would round a changed value into a match.
 */
export function hashFormOf(type: IcebergType, plan?: DecodePlan): HashForm {
  if (typeof type !== 'string') return type.type === 'list' && type.element === 'string' ? 'list' : 'text';
  switch (type) {
    case 'boolean':
    case 'int':
    case 'date':
      return 'int4';
    case 'long':
      return 'int8';
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return 'sent';
    default:
      return plan?.kind === 'decimal' && !plan.checked && decimalParams(type) !== undefined ? 'scaled' : 'text';
  }
}

/** Each column's hash form (hashFormOf), from its Iceberg type and PostgreSQL decoding. */
export function hashFormsOf(columns: ReadonlyArray<{ type: IcebergType; plan: DecodePlan }>): HashForm[] {
  return columns.map((c) => hashFormOf(c.type, c.plan));
}

/** PostgreSQL's send function of the time types, whose 8 bytes the `sent` form hashes. */
const SEND_FUNCTIONS: Partial<Record<string, string>> = { time: 'time_send', timestamp: 'timestamp_send', timestamptz: 'timestamptz_send' };

/**
 * SQL of what a column's step hashes (hashFormOf): from `expr`, the column's value as the copy selects it, or,
 * with `fromText`, from `expr` as its canonical text (canonical-sql.ts). NULL for NULL. A list's value is the
 * text[] of its elements' canonical texts, which only the caller knows how to select from the value (a plain
 * text array is one already); from its canonical text (a JSON array) it is made here.
 */
export function hashInputSql(type: IcebergType, expr: string, fromText = false, form = hashFormOf(type)): string {
  switch (form) {
    case 'list':
      if (!fromText) throw new TypeError('a list is hashed from the text[] of its elements, which hashInputSql makes from its canonical text only');
      return `(CASE WHEN (${expr}) IS NULL THEN NULL ELSE ARRAY(SELECT x.e FROM pg_catalog.json_array_elements_text((${expr})::json) WITH ORDINALITY AS x(e, o) ORDER BY x.o) END)`;
    case 'int4':
      if (type === 'boolean') return fromText ? `((${expr}) = 't')::int4` : `(${expr})::int4`;
      return fromText || type !== 'date' ? `(${expr})::int4` : `((${expr}) - DATE '1970-01-01')`;
    case 'int8':
      return `(${expr})::int8`;
    case 'sent':
      // The canonical text counts microseconds from 1970 (a time's from midnight): int8send of the same int64.
      if (fromText) return `encode(pg_catalog.int8send((${expr})::int8${type === 'time' ? '' : ` - ${POSTGRES_EPOCH_MICROS}`}), 'hex')`;
      return `encode(pg_catalog.${SEND_FUNCTIONS[type as string]!}(${expr}), 'hex')`;
    case 'scaled': {
      // The canonical text of a numeric(P, S) value has at most S fractional digits: the cast only pads them.
      const { precision, scale } = decimalParams(type)!;
      return fromText ? `((${expr})::numeric(${precision}, ${scale}))::text` : `(${expr})::text`;
    }
    case 'text':
      return expr;
  }
}

/** One column of rowHashSql. */
export interface HashedColumnSql {
  /** SQL of what is hashed (hashInputSql): a text, an int4 (form `int4`), an int8 (form `int8`) or a text[] (form `list`). */
  sql: string;
  /** The column's hash form (hashFormOf). */
  form: HashForm;
  /** SQL that is true when the value is NULL; absent for a column that cannot be NULL (and for a list, whose NULL is its text[]'s). */
  nullTest?: string;
  /** A list's text[] has one dimension by construction (made from its canonical text): its dimensions go unchecked. */
  flat?: boolean;
}

/** SQL for the row hash (signed int8) of `columns`, in column order. */
export function rowHashSql(columns: readonly HashedColumnSql[]): string {
  let hash = '0::int8';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (c.form === 'list') {
      // hash_array_extended is strict: a NULL list's hash is the NULL mask, as a NULL column's seed is masked. It
      // hashes the elements of every dimension in order: an array of more dimensions takes another seed, so that
      // it cannot hash as the list of its elements.
      const seed = c.flat ? `${i}` : `${i} + (COALESCE(pg_catalog.array_ndims(${c.sql}), 1) - 1) * ${MULTI_DIMENSIONAL_SEED}`;
      hash = `pg_catalog.hashtextextended('', (${hash}) # COALESCE(pg_catalog.hash_array_extended((${c.sql}) COLLATE "C", ${seed}), ${NULL_MASK_SQL}::int8))`;
      continue;
    }
    if (c.form === 'int8') {
      // hashint8extended hashes the low word xor the high one: the high word goes into the seed as well, so that
      // values whose words xor alike still differ. A NULL hashes as 0 with the seed masked.
      const value = c.nullTest === undefined ? `(${c.sql})` : `COALESCE(${c.sql}, 0)`;
      const nullMask = c.nullTest === undefined ? '' : ` # (CASE WHEN ${c.nullTest} THEN ${NULL_MASK_SQL}::int8 ELSE 0::int8 END)`;
      hash = `pg_catalog.hashint8extended(${value}, (${hash}) # (${value} & ${HIGH_WORD_SQL}::int8)${nullMask})`;
      continue;
    }
    // COLLATE "C": hashtextextended hashes the bytes only under a deterministic collation.
    const [fn, value, empty] =
      c.form === 'int4' ? ['pg_catalog.hashint4extended', (v: string) => v, '0'] : ['pg_catalog.hashtextextended', (v: string) => `${v} COLLATE "C"`, "''"];
    hash =
      c.nullTest === undefined
        ? `${fn}(${value(`(${c.sql})`)}, ${hash})`
        : `${fn}(${value(`COALESCE(${c.sql}, ${empty})`)}, (${hash}) # (CASE WHEN ${c.nullTest} THEN ${NULL_MASK_SQL}::int8 ELSE 0::int8 END))`;
  }
  return hash;
}
