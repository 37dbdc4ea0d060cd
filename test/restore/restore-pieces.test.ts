/** The pure pieces of restore: parsing a point in time, choosing the snapshot, COPY text escaping, backup names. */
import { describe, expect, it } from 'vitest';
import { encodeRow, escapeCopyText, fieldEncoder, unrestorableReason } from '../../shared/restore/copy-text';
import { parseRollbackRequest } from '../../shared/restore/rollback-request';
import { parseRestoreRequest, tableMode } from '../../shared/restore/restore-run';
import { backupTableName } from '../../shared/restore/restore-target';
import { chooseSnapshot, parseAsOf } from '../../shared/restore/snapshot-choice';
import type { TableMetadata } from '../../shared/iceberg/spec/table-metadata';
import type { Snapshot } from '../../shared/iceberg/spec/snapshot';

function snapshot(id: bigint, parent: bigint | undefined, at: number): Snapshot {
  return {
    'snapshot-id': id,
    ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
    'sequence-number': id,
    'timestamp-ms': at,
    'manifest-list': `m${id}`,
    summary: { operation: 'append' },
  };
}

/** Snapshots 1 <- 2 <- 3 (current) and 4, a child of 1 that a rollback left off the current history. */
const METADATA = {
  'current-snapshot-id': 3n,
  snapshots: [snapshot(1n, undefined, 1000), snapshot(2n, 1n, 2000), snapshot(3n, 2n, 3000), snapshot(4n, 1n, 2500)],
  'snapshot-log': [],
} as unknown as TableMetadata;

describe('parseAsOf', () => {
  it('reads snapshot ids exactly, and times only with a zone', () => {
    expect(parseAsOf('9223372036854775807')).toEqual({ snapshotId: 9223372036854775807n });
    expect(parseAsOf('-5')).toEqual({ snapshotId: -5n });
    expect(parseAsOf('2026-12-01T10:00:00Z')).toEqual({ timestampMs: Date.UTC(2026, 11, 1, 10) });
    expect(parseAsOf('2026-12-01T10:00:00.5+01:00')).toEqual({ timestampMs: Date.UTC(2026, 11, 1, 9, 0, 0, 500) });
    expect(parseAsOf('2026-12-01')).toEqual({ timestampMs: Date.UTC(2026, 11, 1) });
    expect(() => parseAsOf('2026-12-01T10:00:00')).toThrow(/with a zone/);
    expect(() => parseAsOf('9223372036854775808')).toThrow(/out of range/);
    expect(() => parseAsOf('yesterday')).toThrow(/snapshot id or an ISO 8601 time/);
  });
});

describe('chooseSnapshot', () => {
  it('takes the newest ancestor of the current snapshot at or before the time, never a snapshot off the current history', () => {
    expect(chooseSnapshot(METADATA, { timestampMs: 2999 }, 't')['snapshot-id']).toBe(2n);
    // Snapshot 4 (2500) was current once, but is not in the table's history now.
    expect(chooseSnapshot(METADATA, { timestampMs: 2600 }, 't')['snapshot-id']).toBe(2n);
    expect(chooseSnapshot(METADATA, { timestampMs: 1000 }, 't')['snapshot-id']).toBe(1n);
    expect(chooseSnapshot(METADATA, { snapshotId: 4n }, 't')['snapshot-id']).toBe(4n);
  });

  it('names the earliest snapshot when the time is before it, and what exists when an id does not', () => {
    expect(() => chooseSnapshot(METADATA, { timestampMs: 999 }, 'ns.t')).toThrow(
      'ns.t has no snapshot as of 1970-01-01T00:00:00.999Z: the earliest available is 1 of 1970-01-01T00:00:01.000Z',
    );
    expect(() => chooseSnapshot(METADATA, { snapshotId: 7n }, 'ns.t')).toThrow(
      /ns\.t has no snapshot 7; the current one and its ancestors, newest first: 3 \(/,
    );
  });
});

describe('COPY text', () => {
  it('escapes backslash, newline, carriage return and tab, and writes NULL as \\N', () => {
    expect(escapeCopyText('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
    expect(escapeCopyText('\\N')).toBe('\\\\N');
    const encoders = [
      fieldEncoder({ kind: 'text' }),
      fieldEncoder({ kind: 'bytea' }),
      fieldEncoder({ kind: 'decimal', precision: 10, scale: 2, checked: false }),
    ];
    expect(encodeRow(encoders, ['x\ty', new Uint8Array([0, 255]), -5n])).toBe('x\\ty\t\\\\x00ff\t-0.05\n');
    expect(encodeRow(encoders, [null, null, null])).toBe('\\N\t\\N\t\\N\n');
  });

  it('prints each kind as PostgreSQL reads it back', () => {
    expect(fieldEncoder({ kind: 'float4' })(Math.fround(0.1))).toBe('0.1');
    expect(fieldEncoder({ kind: 'float8' })(-0)).toBe('-0');
    expect(fieldEncoder({ kind: 'timestamptz' })(1n)).toBe('1970-01-01 00:00:00.000001+00');
    expect(fieldEncoder({ kind: 'date' })(-2440588)).toBe('4714-11-24 BC');
    expect(fieldEncoder({ kind: 'array', element: { kind: 'text' } })(['a,b', null, ''])).toBe('{"a,b",NULL,""}');
  });

  it('refuses ±infinity stand-ins, also inside arrays and rows', () => {
    expect(unrestorableReason({ kind: 'date' })).toBeUndefined();
    expect(unrestorableReason({ kind: 'array', element: { kind: 'timestamp', infinity: { positive: 1n, negative: -1n } } })).toMatch(/stand-in/);
  });
});

describe('backupTableName', () => {
  it('keeps the stamp within 63 bytes, cutting the table name on a character boundary', () => {
    expect(backupTableName('orders', new Date('2026-12-06T07:30:05Z'))).toBe('orders_icebridge_backup_20261206073005');
    const name = backupTableName('ü'.repeat(40), new Date('2026-12-06T07:30:05Z'));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name.endsWith('_icebridge_backup_20261206073005')).toBe(true);
  });
});

describe('parseRollbackRequest', () => {
  it('takes a snapshot id as a string or a time, a reason, and stopSync', () => {
    expect(parseRollbackRequest({ snapshotId: '123', reason: 'r' })).toEqual({ to: { snapshotId: 123n }, reason: 'r', stopSync: false });
    expect(parseRollbackRequest({ timestamp: '2026-12-01T00:00:00Z', reason: 'r', stopSync: true }).stopSync).toBe(true);
    expect(() => parseRollbackRequest({ snapshotId: 123, reason: 'r' })).toThrow(/decimal string/);
    expect(() => parseRollbackRequest({ timestamp: '5', reason: 'r' })).toThrow(/ISO 8601/);
    expect(() => parseRollbackRequest({ snapshotId: '1', reason: 'r', force: true })).toThrow(/unknown field "force"/);
  });
});

describe('parseRestoreRequest', () => {
  const id = () => 'restore-x';

  it('defaults the schema and namespace, keeps ids as strings, and gives each table its target', () => {
    expect(parseRestoreRequest({ table: 'film', asOf: '9223372036854775807', into: 'film_old' }, id)).toEqual({
      restoreId: 'restore-x',
      schema: 'public',
      namespace: 'public',
      tables: ['film'],
      asOf: { snapshotId: '9223372036854775807' },
      mode: { into: 'film_old' },
    });
    const several = parseRestoreRequest(
      { idempotencyKey: 'k1', schema: 's', tables: '*', asOf: '2026-12-01T00:00:00Z', intoSuffix: '_old', batchRows: 10 },
      id,
    );
    expect(several).toMatchObject({ restoreId: 'k1', namespace: 's', asOf: { timestampMs: Date.UTC(2026, 11, 1) }, batchRows: 10 });
    expect(several.tables).toBeUndefined();
    expect(tableMode(several.mode, 'film')).toEqual({ into: 'film_old' });
  });

  it('refuses what does not fit together', () => {
    expect(() => parseRestoreRequest({ tables: ['a', 'b'], asOf: '1', into: 'x' }, id)).toThrow(/use intoSuffix/);
    expect(() => parseRestoreRequest({ table: 'a', asOf: '1', replace: true, batchRows: 5 }, id)).toThrow(/always one transaction/);
    expect(() => parseRestoreRequest({ table: 'a', asOf: 1, replace: true }, id)).toThrow(/asOf must be/);
    expect(() => parseRestoreRequest({ table: 'a', tables: ['b'], asOf: '1', replace: true }, id)).toThrow(/exactly one of table and tables/);
  });
});
