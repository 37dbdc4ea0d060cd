/**
 * How one value is turned from what COPY sends into the shared value representation
 * (shared/iceberg/spec/values.ts). Plain data: type-mapping.ts builds it, binary-decoders.ts executes it,
 * text-rendering.ts prints its values the way PostgreSQL would.
 */

/** Replacement values for ±infinity, configured per table; without one, infinity is an error. */
export interface InfinityMapping<T> {
  positive: T;
  negative: T;
}

/** Decoding of one value; every kind names the PostgreSQL wire form it reads. */
export type DecodePlan =
  | { kind: 'boolean' }
  | { kind: 'int2' }
  | { kind: 'int4' }
  /** int8 -> long: a number when it is a safe integer, otherwise a bigint (see ReadRowsOptions.exactBigInt). */
  | { kind: 'int8' }
  | { kind: 'oid' }
  | { kind: 'float4' }
  | { kind: 'float8' }
  /**
   * numeric -> unscaled value at `scale`. `checked`: the column's typmod does not guarantee the fit (wide numeric
   * mapped to decimal(38, s)), so digits and scale are checked per value.
   */
  | { kind: 'decimal'; precision: number; scale: number; checked: boolean }
  /** numeric -> its exact text as PostgreSQL prints it ('NaN', 'Infinity' included). */
  | { kind: 'numeric-text' }
  /** Text sent as UTF-8 bytes: text, varchar, char(n), name, enum labels, json, and every `::text` column. */
  | { kind: 'text' }
  /** jsonb: a version byte, then PostgreSQL's canonical text. */
  | { kind: 'jsonb' }
  | { kind: 'uuid' }
  | { kind: 'bytea' }
  | { kind: 'date'; infinity?: InfinityMapping<number> }
  | { kind: 'time' }
  | { kind: 'timestamp'; infinity?: InfinityMapping<bigint> }
  | { kind: 'timestamptz'; infinity?: InfinityMapping<bigint> }
  /** interval -> ISO 8601 text exactly as PostgreSQL prints it with IntervalStyle iso_8601. */
  | { kind: 'interval' }
  | { kind: 'array'; element: DecodePlan }
  | { kind: 'composite'; fields: Array<{ name: string; plan: DecodePlan }> };

/** The kinds of DecodePlan. */
export type DecodeKind = DecodePlan['kind'];
