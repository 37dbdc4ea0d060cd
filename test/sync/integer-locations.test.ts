/**
 * The open-addressing table of integer keys under the key index: after inserts, deletes and re-inserts in any mix
 * (negative keys, keys up to ±2^53, keys equal in their low 32 bits), through growth and rebuilds, it holds exactly
 * what a Map holds.
 */
import { describe, expect, it } from 'vitest';
import { IntegerLocations } from '../../shared/sync/integer-locations';

describe('the integer locations table', () => {
  it('holds what a Map holds through inserts, deletes, re-inserts and growth', () => {
    const table = new IntegerLocations();
    const oracle = new Map<number, [number, number]>();
    let seed = 12345;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const keyAt = (i: number): number => [i, -i, i * 4294967296, Number.MAX_SAFE_INTEGER - i, Number.MIN_SAFE_INTEGER + i, i * 1024][i % 6]!;
    for (let round = 0; round < 60_000; round++) {
      const key = keyAt(Math.floor(random() * 20_000));
      const cell = table.find(key);
      const known = oracle.get(key);
      expect(cell >= 0).toBe(known !== undefined);
      if (known) {
        expect([table.fileAt(cell), table.positionAt(cell)]).toEqual(known);
        if (random() < 0.6) {
          table.delete(cell);
          oracle.delete(key);
        }
      } else {
        const value: [number, number] = [Math.floor(random() * 100), Math.floor(random() * 1e12)];
        table.insert(key, value[0], value[1]);
        oracle.set(key, value);
      }
    }
    expect(table.size).toBe(oracle.size);
    for (const [key, value] of oracle) {
      const cell = table.find(key);
      expect([table.fileAt(cell), table.positionAt(cell)]).toEqual(value);
    }
    expect(table.find(0.5)).toBe(-1);
  });
});
