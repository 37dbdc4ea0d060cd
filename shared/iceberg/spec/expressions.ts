/**
 * Bound filter expressions for scan planning. Predicates name a field by id and carry literals already in the
 * field's value representation (values.ts), so evaluators never parse or coerce per row or per file.
 *
 * NaN is not a literal: `eq NaN` binds to `isNaN`, and the other comparisons refuse it.
 */
import { ValidationError } from '../../errors';
import type { Schema } from './schema';
import { indexFields } from './schema';
import { type PrimitiveType, type StructType, decimalParams, fixedLength, isPrimitive, primitiveKind } from './types';
import { type PrimitiveValue, type Value, parseDecimal, uuidFromBytes } from './values';

/** Comparison operators. */
export type ComparisonOp = 'eq' | 'notEq' | 'lt' | 'ltEq' | 'gt' | 'gtEq';
/** Set membership operators. */
export type SetOp = 'in' | 'notIn';
/** Operators without a literal. */
export type UnaryOp = 'isNull' | 'notNull' | 'isNaN' | 'notNaN';

/** `field <op> value`. */
export interface ComparisonPredicate {
  op: ComparisonOp;
  fieldId: number;
  value: Value;
}

/** `field [not] in (values)`. */
export interface SetPredicate {
  op: SetOp;
  fieldId: number;
  values: Value[];
}

/** `field is [not] null` / `field is [not] NaN`. */
export interface UnaryPredicate {
  op: UnaryOp;
  fieldId: number;
}

/** A predicate on one field. */
export type Predicate = ComparisonPredicate | SetPredicate | UnaryPredicate;

/** A filter expression. */
export type Expression =
  { op: 'and' | 'or'; left: Expression; right: Expression } | { op: 'not'; child: Expression } | { op: 'true' } | { op: 'false' } | Predicate;

/** The expression every row satisfies. */
export const ALWAYS_TRUE: Expression = Object.freeze({ op: 'true' }) as Expression;
/** The expression no row satisfies. */
export const ALWAYS_FALSE: Expression = Object.freeze({ op: 'false' }) as Expression;

const COMPARISON_OPS = new Set<string>(['eq', 'notEq', 'lt', 'ltEq', 'gt', 'gtEq']);
const SET_OPS = new Set<string>(['in', 'notIn']);
const UNARY_OPS = new Set<string>(['isNull', 'notNull', 'isNaN', 'notNaN']);

/** True for predicates (as opposed to and/or/not/true/false). */
export function isPredicate(expr: Expression): expr is Predicate {
  return 'fieldId' in expr;
}

/** True for comparison predicates. */
export function isComparison(expr: Expression): expr is ComparisonPredicate {
  return COMPARISON_OPS.has(expr.op);
}

/** True for set predicates. */
export function isSetPredicate(expr: Expression): expr is SetPredicate {
  return SET_OPS.has(expr.op);
}

/** Conjunction, simplified: `true` operands vanish and any `false` operand makes the result `false`. */
export function and(...exprs: Expression[]): Expression {
  let result: Expression = ALWAYS_TRUE;
  for (const expr of exprs) {
    if (expr.op === 'false') return ALWAYS_FALSE;
    if (expr.op === 'true') continue;
    result = result.op === 'true' ? expr : { op: 'and', left: result, right: expr };
  }
  return result;
}

/** Disjunction, simplified: `false` operands vanish and any `true` operand makes the result `true`. */
export function or(...exprs: Expression[]): Expression {
  let result: Expression = ALWAYS_FALSE;
  for (const expr of exprs) {
    if (expr.op === 'true') return ALWAYS_TRUE;
    if (expr.op === 'false') continue;
    result = result.op === 'false' ? expr : { op: 'or', left: result, right: expr };
  }
  return result;
}

/** Negation, simplified for constants and double negation. */
export function not(expr: Expression): Expression {
  if (expr.op === 'true') return ALWAYS_FALSE;
  if (expr.op === 'false') return ALWAYS_TRUE;
  if (expr.op === 'not') return expr.child;
  return { op: 'not', child: expr };
}

const NEGATED: Record<Predicate['op'], Predicate['op']> = {
  eq: 'notEq',
  notEq: 'eq',
  lt: 'gtEq',
  gtEq: 'lt',
  ltEq: 'gt',
  gt: 'ltEq',
  in: 'notIn',
  notIn: 'in',
  isNull: 'notNull',
  notNull: 'isNull',
  isNaN: 'notNaN',
  notNaN: 'isNaN',
};

/** The predicate matching exactly the rows the given one rejects (nulls and NaN stay unknown either way). */
export function negatePredicate(pred: Predicate): Predicate {
  return { ...pred, op: NEGATED[pred.op] } as Predicate;
}

/** Pushes every `not` down to the predicates (De Morgan), which inclusive evaluation and projection require. */
export function rewriteNot(expr: Expression): Expression {
  switch (expr.op) {
    case 'and':
      return and(rewriteNot(expr.left), rewriteNot(expr.right));
    case 'or':
      return or(rewriteNot(expr.left), rewriteNot(expr.right));
    case 'not':
      return negate(expr.child);
    default:
      return expr;
  }
}

function negate(expr: Expression): Expression {
  switch (expr.op) {
    case 'true':
      return ALWAYS_FALSE;
    case 'false':
      return ALWAYS_TRUE;
    case 'and':
      return or(negate(expr.left), negate(expr.right));
    case 'or':
      return and(negate(expr.left), negate(expr.right));
    case 'not':
      return rewriteNot(expr.child);
    default:
      return negatePredicate(expr);
  }
}

/** Binds `column <op>` (isNull, notNull, isNaN, notNaN) by column name; dotted names reach into structs. */
export function bindByName(schema: Schema | StructType, name: string, op: UnaryOp): Expression;
/** Binds `column <op> value` by column name, converting the literal to the column's value representation. */
export function bindByName(schema: Schema | StructType, name: string, op: ComparisonOp, value: Value): Expression;
/** Binds `column [not] in (values)` by column name. */
export function bindByName(schema: Schema | StructType, name: string, op: SetOp, values: Value[]): Expression;
export function bindByName(schema: Schema | StructType, name: string, op: Predicate['op'], arg?: Value | Value[]): Expression {
  const index = indexFields(schema);
  let field;
  for (const candidate of index.values()) if (candidate.path.join('.') === name) field = candidate;
  if (!field) throw new ValidationError(`cannot filter on ${JSON.stringify(name)}: no such column`);
  for (let parent = field.parentId; parent !== undefined; parent = index.get(parent)!.parentId) {
    const parentType = index.get(parent)!.type;
    if (typeof parentType !== 'string' && parentType.type !== 'struct') {
      throw new ValidationError(`cannot filter on ${name}: it is inside a ${parentType.type}`);
    }
  }
  if (!isPrimitive(field.type)) throw new ValidationError(`cannot filter on ${name}: it is a ${field.type.type}`);
  const type = field.type;
  const fieldId = field.id;
  const floating = primitiveKind(type) === 'float' || primitiveKind(type) === 'double';

  if (UNARY_OPS.has(op)) {
    if ((op === 'isNaN' || op === 'notNaN') && !floating) {
      throw new ValidationError(`${op} needs a float or double column; ${name} is ${type}`);
    }
    // A required column is never null, so these are decided here rather than per file.
    if (field.required && op === 'isNull') return ALWAYS_FALSE;
    if (field.required && op === 'notNull') return ALWAYS_TRUE;
    return { op: op as UnaryOp, fieldId };
  }
  if (SET_OPS.has(op)) {
    if (!Array.isArray(arg)) throw new ValidationError(`${op} on ${name} needs an array of values`);
    const values: Value[] = [];
    const seen = new Set<string>();
    for (const raw of arg) {
      const value = normalizeLiteral(type, raw, name);
      if (floating && Number.isNaN(value)) throw new ValidationError(`${op} on ${name} cannot list NaN; use isNaN`);
      const key = literalKey(value);
      if (seen.has(key)) continue;
      seen.add(key);
      values.push(value);
    }
    if (values.length === 0) return op === 'in' ? ALWAYS_FALSE : ALWAYS_TRUE;
    if (values.length === 1) return { op: op === 'in' ? 'eq' : 'notEq', fieldId, value: values[0]! };
    return { op: op as SetOp, fieldId, values };
  }
  if (!COMPARISON_OPS.has(op)) throw new ValidationError(`unknown operator ${JSON.stringify(op)}`);
  const value = normalizeLiteral(type, arg as Value, name);
  if (floating && Number.isNaN(value)) {
    if (op === 'eq') return { op: 'isNaN', fieldId };
    if (op === 'notEq') return { op: 'notNaN', fieldId };
    throw new ValidationError(`${op} on ${name} cannot compare with NaN; use isNaN or notNaN`);
  }
  return { op: op as ComparisonOp, fieldId, value };
}

function literalKey(value: Value): string {
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'number' && Object.is(value, -0)) return 'n:-0';
  return `${typeof value}:${String(value as PrimitiveValue)}`;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * Converts a literal to the value representation of a column type, or throws a ValidationError naming the column:
 * 64-bit kinds accept bigint or safe-integer numbers; decimals accept an unscaled bigint or exact decimal text;
 * floats are rounded to float32; uuids accept text (lower-cased) or 16 bytes. Null is refused (use isNull).
 */
export function normalizeLiteral(type: PrimitiveType, value: Value, column = 'the column'): Value {
  const bad = (why: string) => new ValidationError(`invalid literal for ${column} (${type}): ${why}`);
  if (value === null || value === undefined) throw bad('null is not a literal; use isNull or notNull');
  const kind = primitiveKind(type);
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('expected a boolean');
      return value;
    case 'int':
    case 'date': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < INT_MIN || n > INT_MAX) {
        throw bad(`expected a 32-bit integer${kind === 'date' ? ' (days from 1970-01-01)' : ''}`);
      }
      return n;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      if (typeof value === 'number' && !Number.isSafeInteger(value)) throw bad('a number must be a safe integer');
      if (typeof value !== 'bigint' && typeof value !== 'number') throw bad('expected a bigint');
      const v = BigInt(value);
      if (v < LONG_MIN || v > LONG_MAX) throw bad('out of the 64-bit range');
      return v;
    }
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw bad('expected a number');
      return kind === 'float' ? Math.fround(value) : value;
    case 'decimal': {
      const { precision, scale } = decimalParams(type)!;
      const unscaled = typeof value === 'bigint' ? value : typeof value === 'string' ? parseDecimal(value, scale) : undefined;
      if (unscaled === undefined) throw bad(`expected an unscaled bigint or decimal text with at most ${scale} decimals`);
      if ((unscaled < 0n ? -unscaled : unscaled) >= 10n ** BigInt(precision)) throw bad(`more than ${precision} digits`);
      return unscaled;
    }
    case 'string':
      if (typeof value !== 'string') throw bad('expected a string');
      return value;
    case 'uuid':
      if (value instanceof Uint8Array) return uuidFromBytes(value);
      if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
        throw bad('expected a UUID string');
      }
      return value.toLowerCase();
    case 'fixed':
    case 'binary':
      if (!(value instanceof Uint8Array)) throw bad('expected a Uint8Array');
      if (kind === 'fixed' && value.length !== fixedLength(type)) throw bad(`expected ${fixedLength(type)} bytes`);
      return value;
  }
}
