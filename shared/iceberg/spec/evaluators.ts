/**
 * Evaluating bound expressions: on rows and partition tuples (exactly), and on data-file metrics and manifest
 * partition summaries (inclusively: false only when no row can match, following Java's InclusiveMetricsEvaluator
 * and ManifestEvaluator).
 *
 * Row semantics are SQL's three-valued logic: a comparison with null, or with NaN, is unknown, `not unknown` is
 * unknown, and only true selects a row. Treating NaN like null keeps `not (x < 5)` and `x >= 5` equivalent, which
 * is what lets the inclusive evaluators push negations down and exclude files that hold only NaN. Floats compare
 * numerically (-0.0 equals 0.0).
 */
import { ValidationError } from '../../errors';
import { accessorFor, findFieldPosition } from './accessors';
import { compareValues } from './compare';
import { deserializeValue } from './conversions';
import { type ComparisonPredicate, type Expression, type Predicate, isComparison, isPredicate, isSetPredicate, rewriteNot } from './expressions';
import type { DataFile, FieldSummary } from './manifest';
import { type Schema, indexFields } from './schema';
import { type PrimitiveKind, type PrimitiveType, type StructType, isPrimitive, primitiveKind } from './types';
import type { Row, Value } from './values';

/** Inclusive projection (projection.ts), re-exported so scan planning finds every pruning step here. */
export { projectInclusive } from './projection';

type Truth = boolean | null;

function isFloating(type: PrimitiveType): boolean {
  const kind = primitiveKind(type);
  return kind === 'float' || kind === 'double';
}

/** Compares two non-null, non-NaN values of a type; floats numerically so that -0.0 equals 0.0. */
export function compareLiterals(type: PrimitiveType, a: Value, b: Value): number {
  if (isFloating(type)) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  return compareValues(type, a, b);
}

const isNaNValue = (v: Value): boolean => typeof v === 'number' && Number.isNaN(v);

const SET_KINDS = new Set<PrimitiveKind>([
  'boolean',
  'int',
  'date',
  'long',
  'time',
  'timestamp',
  'timestamptz',
  'decimal',
  'float',
  'double',
  'string',
  'uuid',
]);
const BIG_KINDS = new Set<PrimitiveKind>(['long', 'time', 'timestamp', 'timestamptz', 'decimal']);

// A hashable key with one form per value, so `in` is a Set look-up per row rather than a scan of the list.
function keyOf(kind: PrimitiveKind): (v: Value) => Value {
  if (BIG_KINDS.has(kind)) return (v) => BigInt(v as bigint | number);
  if (kind === 'uuid') return (v) => (v as string).toLowerCase();
  return (v) => v;
}

interface Resolved<T> {
  type: PrimitiveType;
  read: (input: T) => Value;
}

function compilePredicate<T>(pred: Predicate, { type, read }: Resolved<T>): (input: T) => Truth {
  switch (pred.op) {
    case 'isNull':
      return (input) => read(input) === null;
    case 'notNull':
      return (input) => read(input) !== null;
    case 'isNaN':
      return (input) => isNaNValue(read(input));
    case 'notNaN':
      return (input) => !isNaNValue(read(input));
  }
  if (isSetPredicate(pred)) {
    const kind = primitiveKind(type);
    let contains: (v: Value) => boolean;
    if (SET_KINDS.has(kind)) {
      const key = keyOf(kind);
      const set = new Set(pred.values.map(key));
      contains = (v) => set.has(key(v));
    } else contains = (v) => pred.values.some((lit) => compareValues(type, v, lit) === 0);
    const negated = pred.op === 'notIn';
    return (input) => {
      const v = read(input);
      if (v === null || isNaNValue(v)) return null;
      return contains(v) !== negated;
    };
  }
  const { op, value: literal } = pred as ComparisonPredicate;
  const test = {
    eq: (c: number) => c === 0,
    notEq: (c: number) => c !== 0,
    lt: (c: number) => c < 0,
    ltEq: (c: number) => c <= 0,
    gt: (c: number) => c > 0,
    gtEq: (c: number) => c >= 0,
  }[op];
  return (input) => {
    const v = read(input);
    if (v === null || isNaNValue(v)) return null;
    return test(compareLiterals(type, v, literal));
  };
}

function compile<T>(expr: Expression, resolve: (fieldId: number) => Resolved<T>): (input: T) => Truth {
  switch (expr.op) {
    case 'true':
      return () => true;
    case 'false':
      return () => false;
    case 'not': {
      const child = compile(expr.child, resolve);
      return (input) => {
        const r = child(input);
        return r === null ? null : !r;
      };
    }
    case 'and': {
      const left = compile(expr.left, resolve);
      const right = compile(expr.right, resolve);
      return (input) => {
        const l = left(input);
        if (l === false) return false;
        const r = right(input);
        return r === false ? false : l === null || r === null ? null : true;
      };
    }
    case 'or': {
      const left = compile(expr.left, resolve);
      const right = compile(expr.right, resolve);
      return (input) => {
        const l = left(input);
        if (l === true) return true;
        const r = right(input);
        return r === true ? true : l === null || r === null ? null : false;
      };
    }
    default:
      return compilePredicate(expr, resolve(expr.fieldId));
  }
}

/** A compiled filter: true when the input satisfies the expression. */
export type Filter<T> = (input: T) => boolean;

/** Compiles an expression against a schema into a row filter (fields resolved to struct positions once). */
export function compileRowFilter(expr: Expression, schema: Schema | StructType): Filter<Row> {
  const evaluate = compile<Row>(expr, (fieldId) => {
    const found = findFieldPosition(schema, fieldId);
    if (!found || !isPrimitive(found.field.type)) {
      throw new ValidationError(`the filter references field id ${fieldId}, which is not a primitive column`);
    }
    return { type: found.field.type, read: accessorFor(found.positions) };
  });
  return (row) => evaluate(row) === true;
}

/** Compiles a partition expression (field ids of the partition struct) into a filter over partition tuples. */
export function compilePartitionFilter(expr: Expression, partitionType: StructType): Filter<Value[]> {
  const evaluate = compile<Value[]>(expr, (fieldId) => {
    const pos = partitionType.fields.findIndex((f) => f.id === fieldId);
    const field = partitionType.fields[pos];
    if (!field || !isPrimitive(field.type)) {
      throw new ValidationError(`the partition filter references field id ${fieldId}, which is not a partition field`);
    }
    return { type: field.type, read: (tuple) => tuple[pos] ?? null };
  });
  return (tuple) => evaluate(tuple) === true;
}

const rowFilters = new WeakMap<Expression, WeakMap<object, Filter<Row>>>();
const partitionFilters = new WeakMap<Expression, WeakMap<object, Filter<Value[]>>>();

function cached<T>(cache: WeakMap<Expression, WeakMap<object, T>>, expr: Expression, key: object, make: () => T): T {
  let inner = cache.get(expr);
  if (!inner) cache.set(expr, (inner = new WeakMap()));
  let value = inner.get(key);
  if (value === undefined) inner.set(key, (value = make()));
  return value;
}

/** True when the row satisfies the expression (compiled form cached per expression and schema object). */
export function evaluateRow(expr: Expression, schema: Schema | StructType, row: Row): boolean {
  return cached(rowFilters, expr, schema, () => compileRowFilter(expr, schema))(row);
}

/** True when the partition tuple satisfies a partition expression (as produced by projectInclusive). */
export function evaluatePartition(expr: Expression, partitionType: StructType, partition: Value[]): boolean {
  return cached(partitionFilters, expr, partitionType, () => compilePartitionFilter(expr, partitionType))(partition);
}

/** Above this many literals `in` is not checked against bounds (as Java), to keep planning cheap. */
export const IN_PREDICATE_LIMIT = 200;

/** Lower and upper bounds of a field as the caller has them; undefined when unknown. */
interface BoundsSource {
  lower(fieldId: number, type: PrimitiveType): Value | undefined;
  upper(fieldId: number, type: PrimitiveType): Value | undefined;
}

// Range checks shared by file metrics and manifest summaries: only bounds that exist can exclude.
function rangeMightMatch(pred: Predicate, type: PrimitiveType, bounds: BoundsSource): boolean {
  const cmp = (a: Value, b: Value) => compareLiterals(type, a, b);
  if (isComparison(pred)) {
    const lit = pred.value;
    const lower = () => bounds.lower(pred.fieldId, type);
    const upper = () => bounds.upper(pred.fieldId, type);
    switch (pred.op) {
      case 'lt': {
        const l = lower();
        return l === undefined || cmp(l, lit) < 0;
      }
      case 'ltEq': {
        const l = lower();
        return l === undefined || cmp(l, lit) <= 0;
      }
      case 'gt': {
        const u = upper();
        return u === undefined || cmp(u, lit) > 0;
      }
      case 'gtEq': {
        const u = upper();
        return u === undefined || cmp(u, lit) >= 0;
      }
      case 'eq': {
        const l = lower();
        if (l !== undefined && cmp(l, lit) > 0) return false;
        const u = upper();
        return u === undefined || cmp(u, lit) >= 0;
      }
      default:
        // Bounds need not be actual values, so they can never prove that every row equals the literal.
        return true;
    }
  }
  if (pred.op === 'in') {
    if (pred.values.length > IN_PREDICATE_LIMIT) return true;
    const l = bounds.lower(pred.fieldId, type);
    const u = bounds.upper(pred.fieldId, type);
    return pred.values.some((v) => (l === undefined || cmp(l, v) <= 0) && (u === undefined || cmp(u, v) >= 0));
  }
  return true;
}

function decodeBound(bytes: Uint8Array | undefined, type: PrimitiveType): Value | undefined {
  if (bytes === undefined) return undefined;
  try {
    const value = deserializeValue(type, bytes);
    // A NaN bound (some ORC writers) says nothing reliable about the other values.
    return isNaNValue(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The column metrics the metrics evaluators read: a data file's, or a Parquet row group's in the same shape. */
export type ColumnMetrics = Pick<DataFile, 'recordCount' | 'valueCounts' | 'nullValueCounts' | 'nanValueCounts' | 'lowerBounds' | 'upperBounds'>;

/** An expression evaluated on a data file's column metrics: negations pushed down, then a predicate at a time. */
abstract class MetricsEvaluator {
  protected readonly expr: Expression;
  private readonly types: Map<number, PrimitiveType>;

  constructor(
    expr: Expression,
    schema: Schema | StructType,
    /** The answer where the metrics say nothing: a `not` left over (rewriteNot leaves none), an unknown field. */
    private readonly unknown: boolean,
  ) {
    this.expr = rewriteNot(expr);
    this.types = new Map();
    for (const [id, field] of indexFields(schema)) if (isPrimitive(field.type)) this.types.set(id, field.type);
  }

  protected visit(expr: Expression, file: ColumnMetrics): boolean {
    switch (expr.op) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'and':
        return this.visit(expr.left, file) && this.visit(expr.right, file);
      case 'or':
        return this.visit(expr.left, file) || this.visit(expr.right, file);
      case 'not':
        return this.unknown;
      default: {
        const type = this.types.get(expr.fieldId);
        return type === undefined ? this.unknown : this.predicate(expr, type, file);
      }
    }
  }

  protected abstract predicate(pred: Predicate, type: PrimitiveType, file: ColumnMetrics): boolean;
}

/**
 * Decides from a data file's column metrics whether any of its rows might satisfy an expression. Missing metrics
 * mean "might"; string and binary bounds may be truncated (a prefix as lower bound, a prefix with its last
 * character incremented as upper bound), which every check here tolerates because it only relies on the bound
 * ordering, never on a bound being an actual value.
 */
export class InclusiveMetricsEvaluator extends MetricsEvaluator {
  constructor(expr: Expression, schema: Schema | StructType) {
    super(expr, schema, true);
  }

  /** False only when no row of the file can match. */
  mightMatch(file: ColumnMetrics): boolean {
    if (file.recordCount === 0n) return false;
    if (file.recordCount < 0n) return true;
    return this.visit(this.expr, file);
  }

  protected predicate(pred: Predicate, type: PrimitiveType, file: ColumnMetrics): boolean {
    const id = pred.fieldId;
    const valueCount = file.valueCounts?.get(id);
    const nullCount = file.nullValueCounts?.get(id);
    const nanCount = file.nanValueCounts?.get(id);
    const nullsOnly = valueCount !== undefined && nullCount !== undefined && valueCount - nullCount === 0n;
    const nansOnly = valueCount !== undefined && nanCount !== undefined && nanCount === valueCount;
    switch (pred.op) {
      case 'isNull':
        return nullCount === undefined || nullCount !== 0n;
      case 'notNull':
        return !nullsOnly;
      case 'isNaN':
        return !nullsOnly && !(nanCount !== undefined && nanCount === 0n);
      case 'notNaN':
        return !nansOnly;
      case 'notEq':
      case 'notIn':
        return true;
    }
    if (nullsOnly || nansOnly) return false;
    return rangeMightMatch(pred, type, {
      lower: (fieldId, t) => decodeBound(file.lowerBounds?.get(fieldId), t),
      upper: (fieldId, t) => decodeBound(file.upperBounds?.get(fieldId), t),
    });
  }
}

/** Types whose bounds are always actual values of the file (never truncated) and whose values have no NaN. */
const EXACT_BOUND_KINDS = new Set<PrimitiveKind>(['boolean', 'int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'decimal']);

/**
 * Decides from a data file's column metrics whether every row of it satisfies an expression (Java's
 * StrictMetricsEvaluator), so a scan can skip testing its rows one by one. Anything the metrics cannot prove is
 * "not every row": missing metrics, a null in the column (a comparison with null is unknown), a type whose bounds
 * may be truncated or whose values may be NaN, and predicates other than comparisons and `notNull`.
 */
export class StrictMetricsEvaluator extends MetricsEvaluator {
  constructor(expr: Expression, schema: Schema | StructType) {
    super(expr, schema, false);
  }

  /** True only when every row of the file matches. */
  mustMatch(file: ColumnMetrics): boolean {
    return this.visit(this.expr, file);
  }

  protected predicate(pred: Predicate, type: PrimitiveType, file: ColumnMetrics): boolean {
    if (!EXACT_BOUND_KINDS.has(primitiveKind(type))) return false;
    if (file.nullValueCounts?.get(pred.fieldId) !== 0n) return false;
    if (pred.op === 'notNull') return true;
    if (!isComparison(pred)) return false;
    const lower = decodeBound(file.lowerBounds?.get(pred.fieldId), type);
    const upper = decodeBound(file.upperBounds?.get(pred.fieldId), type);
    if (lower === undefined || upper === undefined) return false;
    const lit = pred.value;
    switch (pred.op) {
      case 'lt':
        return compareLiterals(type, upper, lit) < 0;
      case 'ltEq':
        return compareLiterals(type, upper, lit) <= 0;
      case 'gt':
        return compareLiterals(type, lower, lit) > 0;
      case 'gtEq':
        return compareLiterals(type, lower, lit) >= 0;
      case 'eq':
        return compareLiterals(type, lower, lit) === 0 && compareLiterals(type, upper, lit) === 0;
      default:
        return false;
    }
  }
}

/**
 * Decides from a manifest list entry's partition summaries whether the manifest might hold files matching a
 * partition expression (field ids of `partitionType`, e.g. from projectInclusive). Without summaries: "might".
 */
export function manifestMightMatch(expr: Expression, partitionType: StructType, summaries: FieldSummary[] | undefined): boolean {
  if (!summaries) return true;
  const positions = new Map(partitionType.fields.map((f, i) => [f.id, i] as const));
  const visit = (e: Expression): boolean => {
    switch (e.op) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'and':
        return visit(e.left) && visit(e.right);
      case 'or':
        return visit(e.left) || visit(e.right);
      case 'not':
        return true;
    }
    if (!isPredicate(e)) return true;
    const pos = positions.get(e.fieldId);
    const summary = pos === undefined ? undefined : summaries[pos];
    const type = pos === undefined ? undefined : partitionType.fields[pos]!.type;
    if (!summary || type === undefined || !isPrimitive(type)) return true;
    return summaryMightMatch(e, type, summary);
  };
  return visit(rewriteNot(expr));
}

function summaryMightMatch(pred: Predicate, type: PrimitiveType, summary: FieldSummary): boolean {
  // A summary has no lower bound when every value is null (or, for floats, NaN).
  const noBounds = summary.lowerBound === undefined;
  const allNull = summary.containsNull && noBounds && (!isFloating(type) || summary.containsNan === false);
  switch (pred.op) {
    case 'isNull':
      return summary.containsNull;
    case 'notNull':
      return !allNull;
    case 'isNaN':
      return summary.containsNan !== false && !allNull;
    case 'notNaN':
      return !(summary.containsNan === true && !summary.containsNull && noBounds);
    case 'notEq':
    case 'notIn':
      return true;
  }
  if (noBounds) return false;
  return rangeMightMatch(pred, type, {
    lower: () => decodeBound(summary.lowerBound, type),
    upper: () => decodeBound(summary.upperBound, type),
  });
}
