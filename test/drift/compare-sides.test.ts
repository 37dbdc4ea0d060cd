import { describe, expect, it } from 'vitest';
import { compareSides } from '../../shared/drift/compare-sides';
import type { DriftColumn, DriftSide, DriftTable } from '../../shared/drift/drift-model';
import type { IcebergType } from '../../shared/iceberg/spec/types';

function col(name: string, pgType: string | null, icebergType: IcebergType, extra: Partial<DriftColumn> = {}): DriftColumn {
  return { name, pgType, typmod: -1, icebergType, notNull: false, ...(pgType === null ? {} : { default: null, identity: null }), ...extra };
}

function tbl(name: string, columns: DriftColumn[], extra: Partial<DriftTable> = {}): DriftTable {
  return { schema: 'public', name, columns, ...extra };
}

const side = (kind: DriftSide['kind'], tables: DriftTable[]): DriftSide => ({ kind, label: kind, tables });
const keyed = { primaryKey: ['id'], replicaIdentity: { mode: 'default' as const, columns: ['id'] } };
const id = col('id', 'integer', 'int', { notNull: true });

describe('comparing two sides', () => {
  it('says a table was renamed only when exactly one table fits', () => {
    const a = tbl('a', [id]);
    const b = tbl('b', [id]);
    const renamed = compareSides(side('postgres', [a]), side('postgres', [tbl('c', [id])]));
    expect(renamed.map((f) => [f.kind, f.fix.sql])).toEqual([['table-renamed', 'ALTER TABLE "public"."c" RENAME TO "a"']]);
    // Two dropped tables of the same shape: which one became c cannot be told.
    const ambiguous = compareSides(side('postgres', [a, b]), side('postgres', [tbl('c', [id])]));
    expect(ambiguous.map((f) => `${f.kind} ${f.table}`)).toEqual(['table-dropped public.a', 'table-dropped public.b', 'table-added public.c']);
  });

  it('says when change capture stops on an added column', () => {
    const before = side('postgres', [tbl('t', [id], keyed)]);
    const added = (extra: Partial<DriftColumn>, table: Partial<DriftTable> = keyed) =>
      compareSides(before, side('postgres', [tbl('t', [id, col('n', 'integer', 'int', extra)], table)])).find((f) => f.kind === 'column-added')!;
    expect(added({}).fix.syncStops).toBe(false);
    expect(added({ default: '0' }).fix.syncStops).toBe(true);
    expect(added({ identity: 'always' }).fix.syncStops).toBe(true);
    expect(added({}, { primaryKey: null, replicaIdentity: { mode: 'full', columns: [] } }).fix.syncStops).toBe(true);
    expect(added({}, { primaryKey: null, replicaIdentity: { mode: 'default', columns: [] } }).fix.syncStops).toBe(true);
    expect(added({ default: '0' }).fix).toMatchObject({
      sql: 'ALTER TABLE "public"."t" ADD COLUMN "n" integer DEFAULT 0',
      sqlSide: 'before',
      iceberg: 'add-column "n" int optional',
    });
  });

  it('judges retypes by what Iceberg can promote', () => {
    const retype = (from: DriftColumn, to: DriftColumn) => compareSides(side('iceberg', [tbl('t', [from])]), side('postgres', [tbl('t', [to])]))[0]!;
    const held = (type: IcebergType) => col('x', null, type, { fieldId: 3 });
    expect(retype(held('decimal(6, 2)'), col('x', 'numeric(8,2)', 'decimal(8, 2)'))).toMatchObject({
      kind: 'type-widened',
      severity: 'safe',
      fix: { iceberg: 'update-column id=3 "x" decimal(6, 2) -> decimal(8, 2)' },
    });
    expect(retype(held('decimal(6, 2)'), col('x', 'numeric(6,3)', 'decimal(6, 3)'))).toMatchObject({ kind: 'type-changed', severity: 'unsafe' });
    expect(retype(held('decimal(8, 2)'), col('x', 'numeric(6,2)', 'decimal(6, 2)'))).toMatchObject({ kind: 'type-changed', severity: 'unsafe' });
    expect(retype(held('double'), col('x', 'real', 'float'))).toMatchObject({ kind: 'type-changed', severity: 'unsafe' });
    expect(retype(held('long'), col('x', 'text', 'string')).fix.iceberg).toBeUndefined();
  });

  it('makes a required Iceberg column optional when the source column takes nulls', () => {
    const [f] = compareSides(
      side('iceberg', [tbl('t', [col('x', null, 'int', { fieldId: 2, notNull: true })])]),
      side('postgres', [tbl('t', [col('x', 'integer', 'int')])]),
    );
    expect(f).toMatchObject({
      kind: 'nullability-changed',
      severity: 'safe',
      fix: { iceberg: 'make-optional id=2 "x"', sql: 'ALTER TABLE "public"."t" ALTER COLUMN "x" SET NOT NULL' },
    });
  });

  it('never echoes a recorded default that could end the statement into SQL', () => {
    const recorded = side('registry', [tbl('t', [col('x', 'integer', 'int', { default: '0; DROP TABLE t; --' })])]);
    const [f] = compareSides(recorded, side('postgres', [tbl('t', [col('x', 'integer', 'int')])]));
    expect(f!.kind).toBe('default-changed');
    expect(f!.fix.sql).toBeUndefined();
  });

  it('restores a dropped primary key and reports the replica identity it took with it', () => {
    const findings = compareSides(
      side('postgres', [tbl('t', [id], keyed)]),
      side('postgres', [tbl('t', [id], { primaryKey: null, replicaIdentity: { mode: 'default', columns: [] } })]),
    );
    expect(findings.map((f) => [f.kind, f.severity, f.fix.sql, f.fix.syncStops])).toEqual([
      ['primary-key-changed', 'unsafe', 'ALTER TABLE "public"."t" ADD PRIMARY KEY ("id")', false],
      ['replica-identity-changed', 'unsafe', undefined, true],
    ]);
  });
});
