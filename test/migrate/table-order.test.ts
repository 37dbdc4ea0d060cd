import { describe, expect, it } from 'vitest';
import { orderByForeignKeys } from '../../shared/migrate/table-order';

describe('foreign-key order', () => {
  it('puts referenced tables first and keeps a cycle together', () => {
    const { order, cycles } = orderByForeignKeys(
      ['rental', 'store', 'staff', 'address', 'city', 'country', 'payment'],
      [
        { from: 'rental', to: 'staff' },
        { from: 'payment', to: 'rental' },
        { from: 'store', to: 'staff' },
        { from: 'staff', to: 'store' },
        { from: 'staff', to: 'address' },
        { from: 'store', to: 'address' },
        { from: 'address', to: 'city' },
        { from: 'city', to: 'country' },
        { from: 'payment', to: 'payment' },
      ],
    );
    expect(cycles).toEqual([['staff', 'store']]);
    const at = (t: string) => order.indexOf(t);
    expect(order).toHaveLength(7);
    expect(at('country')).toBeLessThan(at('city'));
    expect(at('city')).toBeLessThan(at('address'));
    expect(at('address')).toBeLessThan(Math.min(at('store'), at('staff')));
    expect(Math.abs(at('store') - at('staff'))).toBe(1);
    expect(Math.max(at('store'), at('staff'))).toBeLessThan(at('rental'));
    expect(at('rental')).toBeLessThan(at('payment'));
  });

  it('handles long chains without recursion and ignores references outside the set', () => {
    const tables = Array.from({ length: 20_000 }, (_, i) => `t${String(i).padStart(5, '0')}`);
    const edges = tables.slice(1).map((t, i) => ({ from: t, to: tables[i]! }));
    edges.push({ from: 't00000', to: 'elsewhere' });
    const { order, cycles } = orderByForeignKeys(tables, edges);
    expect(order).toEqual(tables);
    expect(cycles).toEqual([]);
  });
});
