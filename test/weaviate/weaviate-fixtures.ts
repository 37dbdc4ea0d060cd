/** Tables and changes the Weaviate tests share: an account and its opportunities. */
import type { FanoutChange, FanoutTable } from '../../shared/fanout/fanout-types';
import type { Value } from '../../shared/iceberg/spec/values';

/** `sales.account (id bigint primary key, name text)`. */
export const ACCOUNT: FanoutTable = {
  schema: 'sales',
  name: 'account',
  entity: 'Account',
  columns: [
    { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' },
    { name: 'name', type: 'string', nullable: false, sourceType: 'text' },
  ],
  key: ['id'],
  references: [],
};

/** `sales.opportunity`, with a foreign key to account and one column of each interesting type. */
export const OPPORTUNITY: FanoutTable = {
  schema: 'sales',
  name: 'opportunity',
  entity: 'Opportunity',
  columns: [
    { name: 'id', type: 'long', nullable: false, sourceType: 'bigint' },
    { name: 'account_id', type: 'long', nullable: true, sourceType: 'bigint' },
    { name: 'name', type: 'string', nullable: false, sourceType: 'text' },
    { name: 'description', type: 'string', nullable: true, sourceType: 'text' },
    { name: 'amount', type: 'decimal(12, 2)', nullable: true, sourceType: 'numeric(12,2)' },
    { name: 'counter', type: 'long', nullable: true, sourceType: 'bigint' },
    { name: 'closes', type: 'date', nullable: true, sourceType: 'date' },
    { name: 'updated', type: 'timestamptz', nullable: true, sourceType: 'timestamptz' },
    { name: 'tags', type: { type: 'list', 'element-id': 20, element: 'string', 'element-required': false }, nullable: true, sourceType: 'text[]' },
  ],
  key: ['id'],
  references: [{ name: 'opportunity_account_id_fkey', columns: ['account_id'], table: { schema: 'sales', name: 'account' } }],
};

/** An upsert of a row of `table` at `position`. */
export function upsert(table: FanoutTable, row: Value[], position: bigint, index = 0): FanoutChange {
  return {
    table,
    op: 'update',
    key: table.key.map((k) => row[table.columns.findIndex((c) => c.name === k)]!),
    row,
    position,
    index,
    committedAt: 0,
    origin: 'stream',
  };
}

/** A delete of the row of `key` at `position`. */
export function remove(table: FanoutTable, key: Value[], position: bigint, index = 0): FanoutChange {
  return { table, op: 'delete', key, row: undefined, position, index, committedAt: 0, origin: 'stream' };
}

/** An opportunity row: (id, account, name, description, amount, counter, closes, updated, tags). */
export function opportunity(id: number, account: number | null, name: string, description: string | null, counter: bigint | null = 7n): Value[] {
  return [BigInt(id), account === null ? null : BigInt(account), name, description, 123456n, counter, 20_000, 1_700_000_000_123_456n, ['hot', 'q4']];
}
