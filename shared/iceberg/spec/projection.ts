/**
 * Inclusive projection of a row filter onto partition fields (Java's `Projections.inclusive`): the projected
 * expression is true for every partition that might hold a matching row, so partitions where it is false can be
 * skipped. Predicates on columns without a partition field, or that a transform cannot express, become `true`.
 */
import { ALWAYS_FALSE, ALWAYS_TRUE, type Expression, type Predicate, and, isComparison, isSetPredicate, or, rewriteNot } from './expressions';
import type { PartitionSpec } from './partition-spec';
import { type Schema, indexFields } from './schema';
import { type Transform, type TransformFunction, parseTransform, transformFunction } from './transforms';
import { type PrimitiveType, isPrimitive, primitiveKind } from './types';
import type { PrimitiveValue, Value } from './values';

interface BoundPartitionField {
  fieldId: number;
  transform: Transform;
  sourceType: PrimitiveType;
  apply: TransformFunction;
}

/** Projects a row filter (schema field ids) to a filter on the spec's partition fields (partition field ids). */
export function projectInclusive(expr: Expression, spec: PartitionSpec, schema: Schema): Expression {
  const index = indexFields(schema);
  const bySource = new Map<number, BoundPartitionField[]>();
  for (const field of spec.fields) {
    const source = index.get(field['source-id']);
    const transform = parseTransform(field.transform);
    // Fields whose source is gone or whose transform is unknown cannot filter anything; the spec says ignore them.
    if (!source || !isPrimitive(source.type) || transform.kind === 'unknown' || transform.kind === 'void') continue;
    const bound: BoundPartitionField = {
      fieldId: field['field-id'],
      transform,
      sourceType: source.type,
      apply: transformFunction(transform, source.type),
    };
    const list = bySource.get(source.id) ?? [];
    list.push(bound);
    bySource.set(source.id, list);
  }
  const visit = (e: Expression): Expression => {
    switch (e.op) {
      case 'true':
      case 'false':
        return e;
      case 'and':
        return and(visit(e.left), visit(e.right));
      case 'or':
        return or(visit(e.left), visit(e.right));
      case 'not':
        // rewriteNot leaves none; an inclusive projection of anything else would be unsound.
        return ALWAYS_TRUE;
      default: {
        // Each partition field's projection holds on its own, so together they hold as a conjunction.
        const parts = (bySource.get(e.fieldId) ?? []).map((field) => projectPredicate(e, field));
        return and(...parts);
      }
    }
  };
  return visit(rewriteNot(expr));
}

/** Projects one predicate through one partition field; `true` when the transform cannot narrow it. */
function projectPredicate(pred: Predicate, field: BoundPartitionField): Expression {
  const { transform, fieldId } = field;
  if (transform.kind === 'identity') return { ...pred, fieldId } as Predicate;
  // Every transform maps null to null and non-null to non-null.
  if (pred.op === 'isNull' || pred.op === 'notNull') return { op: pred.op, fieldId };
  switch (transform.kind) {
    case 'bucket':
      return projectEquality(pred, field);
    case 'truncate': {
      const kind = primitiveKind(field.sourceType);
      return kind === 'string' || kind === 'binary' ? projectPrefix(pred, field) : projectRange(pred, field);
    }
    case 'year':
    case 'month':
    case 'day':
    case 'hour': {
      const projected = projectRange(pred, field);
      // Java skips the pre-1970 correction only for day of a date column, which is the identity on days.
      const identityOnDays = transform.kind === 'day' && primitiveKind(field.sourceType) === 'date';
      return identityOnDays ? projected : fixPreEpoch(projected);
    }
    default:
      return ALWAYS_TRUE;
  }
}

// Hashing keeps only equality: eq and in map to the bucket(s) of the literal(s).
function projectEquality(pred: Predicate, field: BoundPartitionField): Expression {
  if (pred.op === 'eq') return { op: 'eq', fieldId: field.fieldId, value: field.apply(pred.value) };
  if (pred.op === 'in') return inOf(field.fieldId, pred.values.map(field.apply));
  return ALWAYS_TRUE;
}

// Truncating strings or bytes keeps order but not strictness: x < "abc" only proves trunc(x) <= trunc("abc").
function projectPrefix(pred: Predicate, field: BoundPartitionField): Expression {
  const { fieldId, apply } = field;
  if (isSetPredicate(pred)) return pred.op === 'in' ? inOf(fieldId, pred.values.map(apply)) : ALWAYS_TRUE;
  if (!isComparison(pred)) return ALWAYS_TRUE;
  switch (pred.op) {
    case 'lt':
    case 'ltEq':
      return { op: 'ltEq', fieldId, value: apply(pred.value) };
    case 'gt':
    case 'gtEq':
      return { op: 'gtEq', fieldId, value: apply(pred.value) };
    case 'eq':
      return { op: 'eq', fieldId, value: apply(pred.value) };
    default:
      return ALWAYS_TRUE;
  }
}

const RANGES: Record<string, readonly [bigint, bigint]> = {
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  date: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  time: [-(2n ** 63n), 2n ** 63n - 1n],
  timestamp: [-(2n ** 63n), 2n ** 63n - 1n],
  timestamptz: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * Order-preserving transforms of integers (truncate of int/long/decimal, and the date/time transforms): strict
 * bounds become closed ones on the neighbouring source value first (x < 10 is x <= 9), then are transformed.
 */
function projectRange(pred: Predicate, field: BoundPartitionField): Expression {
  const { fieldId, apply } = field;
  if (isSetPredicate(pred)) return pred.op === 'in' ? inOf(fieldId, pred.values.map(apply)) : ALWAYS_TRUE;
  if (!isComparison(pred)) return ALWAYS_TRUE;
  const kind = primitiveKind(field.sourceType);
  const asSource = (v: bigint): Value => (kind === 'int' || kind === 'date' ? Number(v) : v);
  const boundary = BigInt(pred.value as bigint | number);
  const range = RANGES[kind];
  switch (pred.op) {
    case 'lt':
      // Nothing is below the type's minimum, so no partition can match.
      if (range && boundary <= range[0]) return ALWAYS_FALSE;
      return { op: 'ltEq', fieldId, value: apply(asSource(boundary - 1n)) };
    case 'ltEq':
      return { op: 'ltEq', fieldId, value: apply(asSource(boundary)) };
    case 'gt':
      if (range && boundary >= range[1]) return ALWAYS_FALSE;
      return { op: 'gtEq', fieldId, value: apply(asSource(boundary + 1n)) };
    case 'gtEq':
      return { op: 'gtEq', fieldId, value: apply(asSource(boundary)) };
    case 'eq':
      return { op: 'eq', fieldId, value: apply(asSource(boundary)) };
    default:
      return ALWAYS_TRUE;
  }
}

function inOf(fieldId: number, values: Value[]): Expression {
  const unique = dedupe(values);
  return unique.length === 1 ? { op: 'eq', fieldId, value: unique[0]! } : { op: 'in', fieldId, values: unique };
}

function dedupe(values: Value[]): Value[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = v instanceof Uint8Array ? `b:${Buffer.from(v).toString('hex')}` : `${typeof v}:${String(v as PrimitiveValue)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Iceberg 0.10 and earlier wrote date/time partition values one too large before 1970 (day(1969-12-31 10:00) as 0,
 * not -1). Java widens inclusive projections of negative values to also cover that value, so files written by
 * those versions are not skipped; doing the same keeps our pruning identical to Java's on such tables.
 */
function fixPreEpoch(projected: Expression): Expression {
  if (isSetPredicate(projected)) {
    if (projected.op !== 'in') return projected;
    const values = projected.values as number[];
    if (!values.some((v) => v < 0)) return projected;
    return inOf(projected.fieldId, [...values, ...values.filter((v) => v < 0).map((v) => v + 1)]);
  }
  if (!isComparison(projected)) return projected;
  const v = projected.value as number;
  if (v >= 0) return projected;
  switch (projected.op) {
    case 'lt':
    case 'ltEq':
      return { ...projected, value: v + 1 };
    case 'eq':
      return { op: 'in', fieldId: projected.fieldId, values: [v, v + 1] };
    default:
      return projected;
  }
}
