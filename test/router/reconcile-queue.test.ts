/**
 * The reconciliation queue's entries: every value kind comes back as it was written (bigints, bytes, maps,
 * non-finite numbers), entries are never overwritten and list oldest first, a removed entry is gone, and a file
 * that is not an entry is refused rather than applied.
 */
import { describe, expect, it } from 'vitest';
import { HadoopCatalog } from '../../shared/iceberg/catalog/hadoop-catalog';
import { MemoryFileIO } from '../../shared/iceberg/io';
import { type ReconcileEntry, ReconcileQueue, decodeEntry, encodeEntry, reconcileLocation } from '../../shared/router/reconcile-queue';

const TABLE = { namespace: ['public'], name: 'orders' };

function entry(at: string, key: ReconcileEntry['key']): ReconcileEntry {
  return { at, table: 'public.orders', iceberg: TABLE, source: 'iceberg', target: 'postgres', operation: 'save', key, error: 'connection refused' };
}

describe('reconciliation queue', () => {
  it('keeps every value kind exactly', () => {
    const key = [2n ** 70n, -5n, new Uint8Array([0, 255, 7]), new Map([['a', 1n]]), Number.NaN, -Infinity, 'text', null, true, 1.5, [1n, null]];
    expect(decodeEntry(encodeEntry(entry('2026-12-06T10:00:00.000Z', key)))).toEqual(entry('2026-12-06T10:00:00.000Z', key));
  });

  it('writes each entry once, lists them oldest first and removes an applied one', async () => {
    const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://wh');
    const queue = ReconcileQueue.of(catalog, TABLE);
    expect(queue.location).toBe(`${reconcileLocation(catalog, TABLE)}`);
    expect(queue.location).toBe('memory://wh/.icebridge/reconcile/public.orders');
    const later = await queue.add(entry('2026-12-06T10:00:02.000Z', [2n]));
    // Two failures in the same millisecond are two entries.
    await queue.add(entry('2026-12-06T10:00:01.000Z', [1n]));
    await queue.add(entry('2026-12-06T10:00:01.000Z', [1n]));
    expect(await queue.depth()).toBe(3);
    expect((await queue.entries()).map((e) => e.entry.key)).toEqual([[1n], [1n], [2n]]);
    await queue.remove(later);
    expect((await queue.entries()).map((e) => e.entry.key)).toEqual([[1n], [1n]]);
  });

  it('refuses a file that is not an entry', async () => {
    expect(() => decodeEntry('{"table":"public.orders","key":[1]}')).toThrow(/not a reconciliation entry/);
    expect(() => decodeEntry(encodeEntry({ ...entry('2026-12-06T10:00:00.000Z', [1n]), target: 'iceberg' }))).toThrow(/not a reconciliation entry/);
    const catalog = new HadoopCatalog(new MemoryFileIO(), 'memory://wh');
    const queue = ReconcileQueue.of(catalog, TABLE);
    await catalog.io.write(`${queue.location}/20261206T100000000Z-broken.json`, new TextEncoder().encode('{'));
    await expect(queue.entries()).rejects.toThrow(/reconciliation entry .*broken\.json cannot be read/);
  });
});
