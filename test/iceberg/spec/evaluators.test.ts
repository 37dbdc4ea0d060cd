import { describe, expect, it } from 'vitest';
import { truncateStringLower, truncateStringUpper } from '../../../shared/iceberg/spec/compare';
import { serializeValue } from '../../../shared/iceberg/spec/conversions';
import {
  IN_PREDICATE_LIMIT,
  InclusiveMetricsEvaluator,
  StrictMetricsEvaluator,
  evaluatePartition,
  evaluateRow,
  manifestMightMatch,
} from '../../../shared/iceberg/spec/evaluators';
import { type Expression, and, bindByName, not, or } from '../../../shared/iceberg/spec/expressions';
import { type DataFile, DataFileContent, type FieldSummary } from '../../../shared/iceberg/spec/manifest';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { PrimitiveType, StructType } from '../../../shared/iceberg/spec/types';
import type { Value } from '../../../shared/iceberg/spec/values';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
  { id: 3, name: 'score', required: false, type: 'double' },
  { id: 4, name: 'loc', required: false, type: { type: 'struct', fields: [{ id: 5, name: 'city', required: false, type: 'string' }] } },
  { id: 6, name: 'blob', required: false, type: 'binary' },
  { id: 7, name: 'amount', required: false, type: 'decimal(9, 2)' },
]);
const bind = bindByName;

describe('evaluateRow', () => {
  const row = (id: Value, name: Value, score: Value, city: Value = null): Value[] => [id, name, score, [city], null, null];

  it('evaluates comparisons, sets and nested fields', () => {
    const r = row(5n, 'abc', 1.5, 'Paris');
    expect(evaluateRow(bind(schema, 'id', 'eq', 5), schema, r)).toBe(true);
    expect(evaluateRow(bind(schema, 'id', 'lt', 5), schema, r)).toBe(false);
    expect(evaluateRow(bind(schema, 'name', 'gt', 'ab'), schema, r)).toBe(true);
    expect(evaluateRow(bind(schema, 'loc.city', 'in', ['Paris', 'Rome']), schema, r)).toBe(true);
    expect(evaluateRow(bind(schema, 'loc.city', 'notIn', ['Paris', 'Rome']), schema, r)).toBe(false);
    expect(evaluateRow(and(bind(schema, 'id', 'gtEq', 5), bind(schema, 'score', 'ltEq', 1.5)), schema, r)).toBe(true);
    // writers may hand longs over as numbers
    expect(evaluateRow(bind(schema, 'id', 'in', [4, 5]), schema, row(5, 'abc', 1.5))).toBe(true);
  });

  it('treats comparisons with null as unknown, also under not', () => {
    const r = row(5n, null, null, null);
    expect(evaluateRow(bind(schema, 'name', 'eq', 'a'), schema, r)).toBe(false);
    expect(evaluateRow(bind(schema, 'name', 'notEq', 'a'), schema, r)).toBe(false);
    expect(evaluateRow(not(bind(schema, 'name', 'eq', 'a')), schema, r)).toBe(false);
    expect(evaluateRow(bind(schema, 'name', 'notIn', ['a', 'b']), schema, r)).toBe(false);
    expect(evaluateRow(bind(schema, 'name', 'isNull'), schema, r)).toBe(true);
    expect(evaluateRow(or(bind(schema, 'name', 'eq', 'a'), bind(schema, 'id', 'eq', 5)), schema, r)).toBe(true);
    expect(evaluateRow(not(and(bind(schema, 'name', 'eq', 'a'), bind(schema, 'id', 'eq', 6))), schema, r)).toBe(true);
    // a null struct makes its fields null
    expect(evaluateRow(bind(schema, 'loc.city', 'isNull'), schema, [1n, null, null, null, null, null])).toBe(true);
  });

  it('treats NaN like null in comparisons; -0.0 equals 0.0', () => {
    const nan = row(1n, 'x', NaN);
    expect(evaluateRow(bind(schema, 'score', 'lt', 5), schema, nan)).toBe(false);
    expect(evaluateRow(bind(schema, 'score', 'gtEq', 5), schema, nan)).toBe(false);
    expect(evaluateRow(not(bind(schema, 'score', 'lt', 5)), schema, nan)).toBe(false);
    expect(evaluateRow(bind(schema, 'score', 'isNaN'), schema, nan)).toBe(true);
    expect(evaluateRow(bind(schema, 'score', 'notNaN'), schema, nan)).toBe(false);
    expect(evaluateRow(bind(schema, 'score', 'notNaN'), schema, row(1n, 'x', null))).toBe(true);
    expect(evaluateRow(bind(schema, 'score', 'eq', 0), schema, row(1n, 'x', -0))).toBe(true);
    expect(evaluateRow(bind(schema, 'score', 'in', [0, 1]), schema, row(1n, 'x', -0))).toBe(true);
  });

  it('compares binary and decimals', () => {
    const r: Value[] = [1n, null, null, null, Uint8Array.of(1, 2), 1230n];
    expect(evaluateRow(bind(schema, 'blob', 'in', [Uint8Array.of(1, 2), Uint8Array.of(3)]), schema, r)).toBe(true);
    expect(evaluateRow(bind(schema, 'blob', 'gt', Uint8Array.of(1)), schema, r)).toBe(true);
    expect(evaluateRow(bind(schema, 'amount', 'eq', '12.30'), schema, r)).toBe(true);
  });
});

const counts = (entries: Array<[number, number]>) => new Map(entries.map(([k, v]) => [k, BigInt(v)]));
const file = (over: Partial<DataFile>): DataFile => ({
  content: DataFileContent.Data,
  filePath: 'f.parquet',
  fileFormat: 'PARQUET',
  partition: [],
  recordCount: 10n,
  fileSizeInBytes: 100n,
  ...over,
});
const bounds = (type: PrimitiveType, entries: Array<[number, Value]>) => new Map(entries.map(([id, v]) => [id, serializeValue(type, v)]));

describe('InclusiveMetricsEvaluator', () => {
  const might = (expr: Expression, f: DataFile) => new InclusiveMetricsEvaluator(expr, schema).mightMatch(f);

  it('skips empty files and keeps files without metrics', () => {
    expect(might(bind(schema, 'id', 'eq', 1), file({ recordCount: 0n }))).toBe(false);
    expect(might(bind(schema, 'id', 'eq', 1), file({}))).toBe(true);
    expect(might(bind(schema, 'name', 'isNull'), file({}))).toBe(true);
  });

  it('uses long bounds, including 4-byte bounds of promoted columns', () => {
    const f = file({ lowerBounds: bounds('long', [[1, 10n]]), upperBounds: new Map([[1, serializeValue('int', 20)]]) });
    expect(might(bind(schema, 'id', 'lt', 10), f)).toBe(false);
    expect(might(bind(schema, 'id', 'ltEq', 10), f)).toBe(true);
    expect(might(bind(schema, 'id', 'gt', 20), f)).toBe(false);
    expect(might(bind(schema, 'id', 'gtEq', 20), f)).toBe(true);
    expect(might(bind(schema, 'id', 'eq', 21), f)).toBe(false);
    expect(might(bind(schema, 'id', 'eq', 15), f)).toBe(true);
    expect(might(bind(schema, 'id', 'in', [1, 30]), f)).toBe(false);
    expect(might(bind(schema, 'id', 'in', [1, 15]), f)).toBe(true);
    expect(might(bind(schema, 'id', 'notEq', 15), file({ ...f, lowerBounds: bounds('long', [[1, 15n]]), upperBounds: bounds('long', [[1, 15n]]) }))).toBe(true);
    expect(might(not(bind(schema, 'id', 'lt', 10)), f)).toBe(true);
    expect(might(not(bind(schema, 'id', 'gtEq', 10)), f)).toBe(false);
    const many = Array.from({ length: IN_PREDICATE_LIMIT + 1 }, (_, i) => 100 + i);
    expect(might(bind(schema, 'id', 'in', many), f)).toBe(true);
  });

  it('never excludes a file by a truncated string bound it might match', () => {
    // The file holds "abcdef" and "abcxyz"; bounds truncated to 3 code points: lower "abc", upper "abd".
    const values = ['abcdef', 'abcxyz'];
    const lower = truncateStringLower(values[0]!, 3);
    const upper = truncateStringUpper(values[1]!, 3)!;
    expect([lower, upper]).toEqual(['abc', 'abd']);
    const f = file({ lowerBounds: bounds('string', [[2, lower]]), upperBounds: bounds('string', [[2, upper]]) });
    for (const v of values) {
      for (const op of ['eq', 'ltEq', 'gtEq'] as const) expect(might(bind(schema, 'name', op, v), f), `${op} ${v}`).toBe(true);
    }
    expect(might(bind(schema, 'name', 'eq', 'abd'), f)).toBe(true);
    expect(might(bind(schema, 'name', 'lt', 'abcdef'), f)).toBe(true);
    expect(might(bind(schema, 'name', 'eq', 'abe'), f)).toBe(false);
    expect(might(bind(schema, 'name', 'eq', 'ab'), f)).toBe(false);
    expect(might(bind(schema, 'name', 'lt', 'abc'), f)).toBe(false);
    expect(might(bind(schema, 'name', 'gt', 'abd'), f)).toBe(false);
    expect(might(bind(schema, 'name', 'in', ['aaa', 'zzz']), f)).toBe(false);
    expect(might(bind(schema, 'name', 'in', ['abcq', 'zzz']), f)).toBe(true);
  });

  it('orders truncated bounds by code point, beyond the BMP too', () => {
    const lower = truncateStringLower('😀a', 1);
    const upper = truncateStringUpper('😀z', 1)!;
    expect(upper).toBe('😁');
    const f = file({ lowerBounds: bounds('string', [[2, lower]]), upperBounds: bounds('string', [[2, upper]]) });
    expect(might(bind(schema, 'name', 'eq', '😀a'), f)).toBe(true);
    // U+FFFF sorts below U+1F600 by code point although its UTF-16 unit is larger.
    expect(might(bind(schema, 'name', 'eq', '\uffff'), f)).toBe(false);
  });

  it('uses null counts', () => {
    const allNull = file({ valueCounts: counts([[2, 10]]), nullValueCounts: counts([[2, 10]]) });
    expect(might(bind(schema, 'name', 'eq', 'a'), allNull)).toBe(false);
    expect(might(bind(schema, 'name', 'notNull'), allNull)).toBe(false);
    expect(might(bind(schema, 'name', 'isNull'), allNull)).toBe(true);
    expect(might(bind(schema, 'name', 'notEq', 'a'), allNull)).toBe(true);
    const noNull = file({ valueCounts: counts([[2, 10]]), nullValueCounts: counts([[2, 0]]) });
    expect(might(bind(schema, 'name', 'isNull'), noNull)).toBe(false);
    expect(might(not(bind(schema, 'name', 'notNull')), noNull)).toBe(false);
  });

  it('follows Java on NaN counts and NaN bounds', () => {
    const allNaN = file({ valueCounts: counts([[3, 10]]), nullValueCounts: counts([[3, 0]]), nanValueCounts: counts([[3, 10]]) });
    expect(might(bind(schema, 'score', 'lt', 1), allNaN)).toBe(false);
    expect(might(bind(schema, 'score', 'eq', 1), allNaN)).toBe(false);
    expect(might(bind(schema, 'score', 'notNaN'), allNaN)).toBe(false);
    expect(might(bind(schema, 'score', 'isNaN'), allNaN)).toBe(true);
    const noNaN = file({ valueCounts: counts([[3, 10]]), nanValueCounts: counts([[3, 0]]) });
    expect(might(bind(schema, 'score', 'isNaN'), noNaN)).toBe(false);
    const nullsOnly = file({ valueCounts: counts([[3, 10]]), nullValueCounts: counts([[3, 10]]) });
    expect(might(bind(schema, 'score', 'isNaN'), nullsOnly)).toBe(false);
    // A NaN bound (ORC) says nothing about the other values.
    const nanBounds = file({ lowerBounds: bounds('double', [[3, NaN]]), upperBounds: bounds('double', [[3, NaN]]) });
    expect(might(bind(schema, 'score', 'lt', 1), nanBounds)).toBe(true);
    expect(might(bind(schema, 'score', 'gt', 1), nanBounds)).toBe(true);
    expect(might(bind(schema, 'score', 'eq', 1), nanBounds)).toBe(true);
  });

  it('treats -0.0 and 0.0 bounds as equal to 0', () => {
    const f = file({ lowerBounds: bounds('double', [[3, -0]]), upperBounds: bounds('double', [[3, -0]]) });
    expect(might(bind(schema, 'score', 'eq', 0), f)).toBe(true);
    expect(might(bind(schema, 'score', 'gtEq', 0), f)).toBe(true);
  });

  it('compares decimal bounds on unscaled values', () => {
    const f = file({ lowerBounds: bounds('decimal(9, 2)', [[7, 1000n]]), upperBounds: bounds('decimal(9, 2)', [[7, 2000n]]) });
    expect(might(bind(schema, 'amount', 'gt', '20.00'), f)).toBe(false);
    expect(might(bind(schema, 'amount', 'eq', '15.5'), f)).toBe(true);
  });
});

describe('StrictMetricsEvaluator', () => {
  const must = (expr: Expression, f: DataFile) => new StrictMetricsEvaluator(expr, schema).mustMatch(f);
  const ids = file({ lowerBounds: bounds('long', [[1, 10n]]), upperBounds: bounds('long', [[1, 20n]]), nullValueCounts: counts([[1, 0]]) });

  it('proves a key range holds every row only from exact bounds of a column without nulls', () => {
    expect(must(and(bind(schema, 'id', 'gtEq', 10), bind(schema, 'id', 'lt', 21)), ids)).toBe(true);
    expect(must(and(bind(schema, 'id', 'gtEq', 10), bind(schema, 'id', 'lt', 20)), ids)).toBe(false);
    expect(must(and(bind(schema, 'id', 'gtEq', 11), bind(schema, 'id', 'lt', 21)), ids)).toBe(false);
    expect(must(bind(schema, 'id', 'gt', 9), ids)).toBe(true);
    expect(must(bind(schema, 'id', 'gt', 10), ids)).toBe(false);
    expect(must(bind(schema, 'id', 'ltEq', 20), ids)).toBe(true);
    expect(must(bind(schema, 'id', 'ltEq', 19), ids)).toBe(false);
    expect(must(or(bind(schema, 'id', 'lt', 5), bind(schema, 'id', 'gtEq', 10)), ids)).toBe(true);
    expect(must(bind(schema, 'id', 'eq', 10), ids)).toBe(false);
    // A negation is pushed down first: not (id < 5) is id >= 5.
    expect(must(not(bind(schema, 'id', 'lt', 5)), ids)).toBe(true);
    expect(must(not(bind(schema, 'id', 'lt', 11)), ids)).toBe(false);
    const one = file({ lowerBounds: bounds('long', [[1, 15n]]), upperBounds: bounds('long', [[1, 15n]]), nullValueCounts: counts([[1, 0]]) });
    expect(must(bind(schema, 'id', 'eq', 15), one)).toBe(true);
    expect(must(bind(schema, 'id', 'notNull'), one)).toBe(true);
  });

  it('proves nothing from missing metrics, nulls, sets, truncatable or NaN-holding types', () => {
    const range = and(bind(schema, 'id', 'gtEq', 0), bind(schema, 'id', 'lt', 100));
    expect(must(range, file({ lowerBounds: ids.lowerBounds!, upperBounds: ids.upperBounds! }))).toBe(false);
    expect(must(range, file({ ...ids, nullValueCounts: counts([[1, 1]]) }))).toBe(false);
    expect(must(range, file({ ...ids, upperBounds: new Map() }))).toBe(false);
    expect(must(bind(schema, 'id', 'in', [10, 20]), ids)).toBe(false);
    expect(must(bind(schema, 'id', 'notEq', 5), ids)).toBe(false);
    const names = file({ lowerBounds: bounds('string', [[2, 'a']]), upperBounds: bounds('string', [[2, 'b']]), nullValueCounts: counts([[2, 0]]) });
    expect(must(bind(schema, 'name', 'lt', 'c'), names)).toBe(false);
    const scores = file({ lowerBounds: bounds('double', [[3, 1]]), upperBounds: bounds('double', [[3, 2]]), nullValueCounts: counts([[3, 0]]) });
    expect(must(bind(schema, 'score', 'lt', 3), scores)).toBe(false);
    const amounts = file({
      lowerBounds: bounds('decimal(9, 2)', [[7, 1000n]]),
      upperBounds: bounds('decimal(9, 2)', [[7, 2000n]]),
      nullValueCounts: counts([[7, 0]]),
    });
    expect(must(bind(schema, 'amount', 'ltEq', '20.00'), amounts)).toBe(true);
    expect(must(bind(schema, 'amount', 'lt', '20.00'), amounts)).toBe(false);
  });
});

describe('evaluatePartition and manifestMightMatch', () => {
  const ptype: StructType = {
    type: 'struct',
    fields: [
      { id: 1000, name: 'd', required: false, type: 'date' },
      { id: 1001, name: 'x', required: false, type: 'double' },
    ],
  };
  const eq = (fieldId: number, value: Value): Expression => ({ op: 'eq', fieldId, value });

  it('evaluates partition tuples by partition field id', () => {
    expect(evaluatePartition(eq(1000, 5), ptype, [5, null])).toBe(true);
    expect(evaluatePartition(eq(1000, 5), ptype, [null, null])).toBe(false);
    expect(evaluatePartition({ op: 'isNull', fieldId: 1001 }, ptype, [5, null])).toBe(true);
    expect(() => evaluatePartition(eq(1002, 5), ptype, [5, null])).toThrow(/not a partition field/);
  });

  const summary = (s: Partial<FieldSummary> & { lower?: Value; upper?: Value; type?: PrimitiveType }): FieldSummary => {
    const out: FieldSummary = { containsNull: s.containsNull ?? false };
    if (s.containsNan !== undefined) out.containsNan = s.containsNan;
    if (s.lower !== undefined) out.lowerBound = serializeValue(s.type ?? 'date', s.lower);
    if (s.upper !== undefined) out.upperBound = serializeValue(s.type ?? 'date', s.upper);
    return out;
  };

  it('keeps manifests without summaries', () => {
    expect(manifestMightMatch(eq(1000, 5), ptype, undefined)).toBe(true);
  });

  it('prunes by the summary bounds', () => {
    const s = [summary({ lower: 10, upper: 20 }), summary({ containsNull: true })];
    expect(manifestMightMatch(eq(1000, 5), ptype, s)).toBe(false);
    expect(manifestMightMatch(eq(1000, 15), ptype, s)).toBe(true);
    expect(manifestMightMatch({ op: 'lt', fieldId: 1000, value: 10 }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'gtEq', fieldId: 1000, value: 20 }, ptype, s)).toBe(true);
    expect(manifestMightMatch({ op: 'in', fieldId: 1000, values: [1, 25] }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'in', fieldId: 1000, values: [1, 12] }, ptype, s)).toBe(true);
    expect(manifestMightMatch({ op: 'isNull', fieldId: 1000 }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'notEq', fieldId: 1000, value: 15 }, ptype, s)).toBe(true);
    expect(manifestMightMatch(not(eq(1000, 15)), ptype, s)).toBe(true);
  });

  it('knows all-null partitions have no bounds', () => {
    const s = [summary({ containsNull: true }), summary({ containsNull: true, containsNan: false })];
    expect(manifestMightMatch(eq(1000, 5), ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'notNull', fieldId: 1000 }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'isNull', fieldId: 1000 }, ptype, s)).toBe(true);
    expect(manifestMightMatch({ op: 'notNull', fieldId: 1001 }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'isNaN', fieldId: 1001 }, ptype, s)).toBe(false);
  });

  it('handles NaN-only float partitions', () => {
    const s = [summary({}), summary({ containsNull: false, containsNan: true })];
    expect(manifestMightMatch({ op: 'notNaN', fieldId: 1001 }, ptype, s)).toBe(false);
    expect(manifestMightMatch({ op: 'isNaN', fieldId: 1001 }, ptype, s)).toBe(true);
    expect(manifestMightMatch({ op: 'notNull', fieldId: 1001 }, ptype, s)).toBe(true);
    // unknown NaN content: nulls and no bounds might still hide NaN
    const unknown = [summary({}), summary({ containsNull: true })];
    expect(manifestMightMatch({ op: 'notNull', fieldId: 1001 }, ptype, unknown)).toBe(true);
    expect(manifestMightMatch({ op: 'isNaN', fieldId: 1001 }, ptype, unknown)).toBe(true);
  });
});
