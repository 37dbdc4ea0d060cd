import { describe, expect, it } from 'vitest';
import { ABSENT, type ChangeEvent, UNCHANGED } from '../../shared/cdc/change-decoder';
import { tablesByName } from '../../shared/fanout/fanout-tables';
import type { FanoutTable } from '../../shared/fanout/fanout-types';
import { feedBatch } from '../../shared/fanout/feed-batch';

const doc: FanoutTable = {
  schema: 'public',
  name: 'doc',
  entity: 'Doc',
  columns: [
    { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' },
    { name: 'body', type: 'string', nullable: true, sourceType: 'text' },
  ],
  key: ['id'],
  references: [],
};
const tables = tablesByName([doc]);
const table = { schema: 'public', name: 'doc' };
const tx = (end: bigint, ...changes: ChangeEvent[]): ChangeEvent[] => [
  { kind: 'begin', finalLsn: end - 1n, commitTime: 0n, xid: 1 },
  ...changes,
  { kind: 'commit', commitLsn: end - 1n, endLsn: end, commitTime: 1_000_000n },
];
const change = (c: Extract<ChangeEvent, { kind: 'change' }>['change']): ChangeEvent => ({ kind: 'change', change: c });

describe('feedBatch', () => {
  it('numbers changes per transaction, skips what a table loaded, takes an unchanged value from an earlier change, gives 64-bit values as bigint', () => {
    const events = [
      ...tx(100n, change({ op: 'insert', table, after: [1n, 'old'] })),
      ...tx(
        200n,
        change({ op: 'insert', table, after: [2n, 'two'] }),
        change({ op: 'update', table, before: undefined, beforeKind: undefined, after: [2n, UNCHANGED] }),
      ),
    ];
    const batch = feedBatch(events, tables, () => 100n);
    expect(batch.through).toBe(200n);
    expect(batch.changes.map((c) => [c.op, c.key, c.row, c.position, c.index])).toEqual([
      ['insert', [2n], [2n, 'two'], 200n, 0],
      ['update', [2n], [2n, 'two'], 200n, 1],
    ]);
    expect(batch.changes[0]!.committedAt).toBe(946_684_801_000);
  });

  it('refuses an unchanged value it cannot know, naming table, column and key', () => {
    const events = tx(300n, change({ op: 'update', table, before: [5n, ABSENT], beforeKind: 'key', after: [5n, UNCHANGED] }));
    expect(() => feedBatch(events, tables, () => 0n)).toThrow(/table public\.doc, column body, key 5: .*REPLICA IDENTITY FULL/);
  });

  it('refuses a truncate of a fanned-out table and ignores other tables', () => {
    const other = { schema: 'public', name: 'other' };
    expect(feedBatch(tx(400n, change({ op: 'insert', table: other, after: [1n] })), tables, () => 0n).changes).toEqual([]);
    expect(() => feedBatch(tx(500n, change({ op: 'truncate', tables: [table], cascade: false, restartIdentity: false })), tables, () => 0n)).toThrow(
      /public\.doc was truncated/,
    );
  });
});
