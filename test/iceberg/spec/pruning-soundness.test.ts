/**
 * Pruning must never drop a matching row. For random rows and random filters, whenever some row of a group matches
 * the filter: the group's file metrics (with truncated string bounds), the projected partition filter on each
 * matching row's partition tuple, and the manifest summary of the group's partitions must all say "might match".
 */
import { describe, expect, it } from 'vitest';
import { compareValues, truncateStringLower, truncateStringUpper } from '../../../shared/iceberg/spec/compare';
import { serializeValue } from '../../../shared/iceberg/spec/conversions';
import { InclusiveMetricsEvaluator, evaluatePartition, evaluateRow, manifestMightMatch } from '../../../shared/iceberg/spec/evaluators';
import { type ComparisonOp, type Expression, type SetOp, type UnaryOp, and, bindByName, not, or } from '../../../shared/iceberg/spec/expressions';
import { type DataFile, DataFileContent, type FieldSummary } from '../../../shared/iceberg/spec/manifest';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { partitionType, partitionValues } from '../../../shared/iceberg/spec/partition-type';
import { projectInclusive } from '../../../shared/iceberg/spec/projection';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { PrimitiveType } from '../../../shared/iceberg/spec/types';
import type { PrimitiveValue, Row, Value } from '../../../shared/iceberg/spec/values';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'ts', required: false, type: 'timestamptz' },
  { id: 3, name: 'name', required: false, type: 'string' },
  { id: 4, name: 'score', required: false, type: 'double' },
  { id: 5, name: 'd', required: false, type: 'date' },
  { id: 6, name: 'amount', required: false, type: 'decimal(9, 2)' },
  { id: 7, name: 'small', required: false, type: 'int' },
]);
const columns = ['id', 'ts', 'name', 'score', 'd', 'amount', 'small'] as const;
const types: PrimitiveType[] = ['long', 'timestamptz', 'string', 'double', 'date', 'decimal(9, 2)', 'int'];

const pf = (sourceId: number, fieldId: number, transform: string) => ({
  'source-id': sourceId,
  'field-id': fieldId,
  name: `p${fieldId}`,
  transform,
});
const spec: PartitionSpec = {
  'spec-id': 1,
  fields: [
    pf(7, 1000, 'identity'),
    pf(1, 1001, 'bucket[4]'),
    pf(3, 1002, 'truncate[2]'),
    pf(2, 1003, 'day'),
    pf(2, 1004, 'hour'),
    pf(5, 1005, 'month'),
    pf(2, 1006, 'year'),
    pf(6, 1007, 'truncate[100]'),
    pf(7, 1008, 'truncate[10]'),
    pf(4, 1009, 'identity'),
    pf(5, 1010, 'year'),
    pf(2, 1011, 'month'),
  ],
};
const ptype = partitionType(spec, schema);

const HOUR = 3_600_000_000n;
const NAMES = ['a', 'ab', 'abc', 'abd', 'ab😀', 'b', 'é', '😀', '\uffff', ''];

function randomValue(rand: () => number, column: number, allowNull: boolean): Value {
  if (allowNull && rand() < 0.15) return null;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  switch (column) {
    case 0:
      return BigInt(int(-50, 50));
    case 1:
      return BigInt(int(-80, 80)) * HOUR + pick([0n, 1n, -1n, HOUR / 2n, 999_999n]);
    case 2:
      return pick(NAMES);
    case 3:
      return pick([-1, -0, 0, 1.5, NaN, 2, -3.25]);
    case 4:
      return int(-800, 800);
    case 5:
      return BigInt(int(-1000, 1000));
    default:
      return int(-25, 25);
  }
}

function randomRow(rand: () => number): Row {
  return columns.map((_, i) => randomValue(rand, i, i !== 0));
}

function randomPredicate(rand: () => number): Expression {
  const column = Math.floor(rand() * columns.length);
  const name = columns[column]!;
  const literal = (): Value => {
    let v: Value;
    do v = randomValue(rand, column, false);
    while (typeof v === 'number' && Number.isNaN(v));
    return v;
  };
  const r = rand();
  if (r < 0.1) return bindByName(schema, name, (rand() < 0.5 ? 'isNull' : 'notNull') as UnaryOp);
  if (r < 0.15 && column === 3) return bindByName(schema, name, (rand() < 0.5 ? 'isNaN' : 'notNaN') as UnaryOp);
  if (r < 0.3) {
    return bindByName(schema, name, (rand() < 0.7 ? 'in' : 'notIn') as SetOp, [literal(), literal(), literal()]);
  }
  const ops: ComparisonOp[] = ['eq', 'notEq', 'lt', 'ltEq', 'gt', 'gtEq'];
  return bindByName(schema, name, ops[Math.floor(rand() * ops.length)]!, literal());
}

function randomExpression(rand: () => number, depth: number): Expression {
  const r = rand();
  if (depth === 0 || r < 0.4) return randomPredicate(rand);
  if (r < 0.6) return not(randomExpression(rand, depth - 1));
  const left = randomExpression(rand, depth - 1);
  const right = randomExpression(rand, depth - 1);
  return r < 0.8 ? and(left, right) : or(left, right);
}

const isNaNValue = (v: Value) => typeof v === 'number' && Number.isNaN(v);

// Bounds as a writer computes them; strings truncated to 2 code points to exercise truncated bounds.
function boundsOf(values: Value[], type: PrimitiveType): { lower?: Value; upper?: Value } {
  const present = values.filter((v) => v !== null && !isNaNValue(v));
  if (present.length === 0) return {};
  const sorted = [...present].sort((a, b) => compareValues(type, a, b));
  let lower = sorted[0]!;
  let upper: Value | undefined = sorted[sorted.length - 1]!;
  if (type === 'string') {
    lower = truncateStringLower(lower as string, 2);
    upper = truncateStringUpper(upper as string, 2);
  }
  return upper === undefined ? { lower } : { lower, upper };
}

function dataFileOf(rows: Row[]): DataFile {
  const file: DataFile = {
    content: DataFileContent.Data,
    filePath: 'f',
    fileFormat: 'PARQUET',
    partition: [],
    recordCount: BigInt(rows.length),
    fileSizeInBytes: 1n,
    valueCounts: new Map(),
    nullValueCounts: new Map(),
    nanValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
  };
  types.forEach((type, i) => {
    const id = i + 1;
    const values = rows.map((row) => row[i]!);
    file.valueCounts!.set(id, BigInt(values.length));
    file.nullValueCounts!.set(id, BigInt(values.filter((v) => v === null).length));
    if (type === 'double') file.nanValueCounts!.set(id, BigInt(values.filter(isNaNValue).length));
    const { lower, upper } = boundsOf(values, type);
    if (lower !== undefined) file.lowerBounds!.set(id, serializeValue(type, lower));
    if (upper !== undefined) file.upperBounds!.set(id, serializeValue(type, upper));
  });
  return file;
}

function summariesOf(partitions: Value[][]): FieldSummary[] {
  return ptype.fields.map((field, i) => {
    const type = field.type as PrimitiveType;
    const values = partitions.map((p) => p[i]!);
    const summary: FieldSummary = { containsNull: values.some((v) => v === null) };
    if (type === 'double') summary.containsNan = values.some(isNaNValue);
    const present = values.filter((v) => v !== null && !isNaNValue(v)).sort((a, b) => compareValues(type, a, b));
    if (present.length > 0) {
      summary.lowerBound = serializeValue(type, present[0]!);
      summary.upperBound = serializeValue(type, present[present.length - 1]!);
    }
    return summary;
  });
}

describe('pruning soundness', () => {
  it('never prunes a file, partition or manifest holding a matching row', () => {
    const rand = prng(20240611);
    let matchedGroups = 0;
    let prunedFiles = 0;
    let prunedPartitions = 0;
    let prunedManifests = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const expr = randomExpression(rand, 3);
      const rows = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => randomRow(rand));
      const matches = rows.map((row) => evaluateRow(expr, schema, row));
      const fileMight = new InclusiveMetricsEvaluator(expr, schema).mightMatch(dataFileOf(rows));
      const projected = projectInclusive(expr, spec, schema);
      const partitions = rows.map((row) => partitionValues(spec, schema, row));
      const manifestMight = manifestMightMatch(projected, ptype, summariesOf(partitions));
      if (!fileMight) prunedFiles++;
      if (!manifestMight) prunedManifests++;
      rows.forEach((row, i) => {
        const partitionMight = evaluatePartition(projected, ptype, partitions[i]!);
        if (!partitionMight) prunedPartitions++;
        if (matches[i] && !partitionMight) {
          expect.fail(`partition of ${String(row as PrimitiveValue[])} pruned by ${JSON.stringify(projected, big)}`);
        }
      });
      if (matches.some(Boolean)) {
        matchedGroups++;
        if (!fileMight) expect.fail(`file pruned by ${JSON.stringify(expr, big)}`);
        if (!manifestMight) expect.fail(`manifest pruned by ${JSON.stringify(projected, big)}`);
      }
    }
    // The test only means something if both outcomes occur often.
    expect(matchedGroups).toBeGreaterThan(500);
    expect(prunedFiles).toBeGreaterThan(300);
    expect(prunedPartitions).toBeGreaterThan(300);
    expect(prunedManifests).toBeGreaterThan(300);
  });
});

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
