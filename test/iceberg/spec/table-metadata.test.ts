import { describe, expect, it } from 'vitest';
import { CommitConflictError, ValidationError } from '../../../shared/errors';
import { applyUpdates, checkRequirements, newTableMetadata } from '../../../shared/iceberg/spec/metadata-builder';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import type { Snapshot } from '../../../shared/iceberg/spec/snapshot';
import { parseTableMetadata, serializeTableMetadata, snapshotAsOf } from '../../../shared/iceberg/spec/table-metadata';

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'tags', required: false, type: { type: 'list', 'element-id': 3, element: 'string', 'element-required': false } },
]);

function snapshot(id: bigint, seq: bigint, ts: number, parent?: bigint): Snapshot {
  const s: Snapshot = { 'snapshot-id': id, 'sequence-number': seq, 'timestamp-ms': ts, 'manifest-list': `m/${id}.avro`, summary: { operation: 'append' } };
  if (parent !== undefined) s['parent-snapshot-id'] = parent;
  return s;
}

describe('table metadata', () => {
  const base = newTableMetadata({ uuid: '9c12d441-03fe-4693-9a96-a0705ddf69c1', location: 'memory://w/ns/t/', schema, nowMs: 1000 });

  it('creates v2 metadata with the spec defaults', () => {
    expect(base['format-version']).toBe(2);
    expect(base.location).toBe('memory://w/ns/t');
    expect(base['last-column-id']).toBe(3);
    expect(base['last-partition-id']).toBe(999);
    expect(base['current-snapshot-id']).toBeUndefined();
  });

  it('round-trips through JSON with 64-bit snapshot ids exact', () => {
    const big = 9_007_199_254_740_993n;
    const m = applyUpdates(
      base,
      [
        { action: 'add-snapshot', snapshot: snapshot(big, 1n, 2000) },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': big },
      ],
      { nowMs: 2000 },
    );
    const text = serializeTableMetadata(m);
    expect(text).toContain('"current-snapshot-id": 9007199254740993');
    const back = parseTableMetadata(text);
    expect(back).toEqual(m);
    expect(back['current-snapshot-id']).toBe(big);
  });

  it('writes -1 for no current snapshot and reads -1, null and absence as none', () => {
    expect(serializeTableMetadata(base)).toContain('"current-snapshot-id": -1');
    for (const form of ['-1', 'null']) {
      const text = serializeTableMetadata(base).replace('"current-snapshot-id": -1', `"current-snapshot-id": ${form}`);
      expect(parseTableMetadata(text)['current-snapshot-id']).toBeUndefined();
    }
  });

  it('keeps the snapshot log in time order and answers as-of queries', () => {
    let m = applyUpdates(
      base,
      [
        { action: 'add-snapshot', snapshot: snapshot(1n, 1n, 2000) },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 1n },
      ],
      { nowMs: 2000 },
    );
    m = applyUpdates(
      m,
      [
        { action: 'add-snapshot', snapshot: snapshot(2n, 2n, 3000, 1n) },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 2n },
      ],
      { nowMs: 3000 },
    );
    m = applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 1n }], { nowMs: 4000 });
    expect(m['snapshot-log'].map((e) => [e['timestamp-ms'], e['snapshot-id']])).toEqual([
      [2000, 1n],
      [3000, 2n],
      [4000, 1n],
    ]);
    expect(snapshotAsOf(m, 1999)).toBeUndefined();
    expect(snapshotAsOf(m, 2500)?.['snapshot-id']).toBe(1n);
    expect(snapshotAsOf(m, 3500)?.['snapshot-id']).toBe(2n);
    expect(snapshotAsOf(m, 9999)?.['snapshot-id']).toBe(1n);
  });

  it('refuses sequence numbers that do not increase and refs to unknown snapshots', () => {
    const m = applyUpdates(base, [{ action: 'add-snapshot', snapshot: snapshot(1n, 5n, 2000) }], { nowMs: 2000 });
    expect(() => applyUpdates(m, [{ action: 'add-snapshot', snapshot: snapshot(2n, 5n, 2000, 1n) }], { nowMs: 2000 })).toThrow(CommitConflictError);
    expect(() => applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 7n }], { nowMs: 1 })).toThrow(
      ValidationError,
    );
  });

  it('checks requirements against the base', () => {
    expect(() => checkRequirements(base, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }])).not.toThrow();
    expect(() => checkRequirements(base, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 1n }])).toThrow(CommitConflictError);
    expect(() => checkRequirements(base, [{ type: 'assert-create' }])).toThrow(CommitConflictError);
    expect(() => checkRequirements(undefined, [{ type: 'assert-create' }])).not.toThrow();
    expect(() => checkRequirements(base, [{ type: 'assert-current-schema-id', 'current-schema-id': 1 }])).toThrow(/current schema id/);
  });

  it('removing snapshots keeps the log a history of existing snapshots', () => {
    let m = base;
    for (const [id, parent] of [
      [1n, undefined],
      [2n, 1n],
      [3n, 2n],
    ] as const) {
      m = applyUpdates(
        m,
        [
          { action: 'add-snapshot', snapshot: snapshot(id, id, Number(id) * 1000, parent) },
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
        ],
        { nowMs: Number(id) * 1000 },
      );
    }
    m = applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': [2n] }], { nowMs: 5000 });
    expect(m.snapshots.map((s) => s['snapshot-id'])).toEqual([1n, 3n]);
    expect(m['snapshot-log'].map((e) => e['snapshot-id'])).toEqual([3n]);
    expect(() => applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': [3n] }], { nowMs: 6000 })).toThrow(/current snapshot/);
  });
});
