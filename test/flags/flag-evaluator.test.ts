import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { FlagEvaluator, stickyPercentile } from '../../shared/flags/flag-evaluator';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store(): LocalFlagStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-'));
  dirs.push(dir);
  return new LocalFlagStore(path.join(dir, 'flags.json'));
}

const keys = Array.from({ length: 2000 }, (_, i) => `customer-${i}`);

describe('flag evaluator', () => {
  it('sends nothing to Iceberg without flags', async () => {
    const decision = await new FlagEvaluator(store()).decide('public.orders', 'customer-1');
    expect(decision).toEqual({ readFromIceberg: false, validateReads: false, dualWrite: false, icebergPrimary: false });
  });

  it('routes about the read percentage of keys to Iceberg, the same keys every time', async () => {
    const flags = store();
    await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent');
    await flags.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 10), undefined, 'absent');
    const evaluator = new FlagEvaluator(flags);
    const first = await Promise.all(keys.map((k) => evaluator.decide('public.orders', k)));
    const second = await Promise.all(keys.map((k) => evaluator.decide('public.orders', k)));
    const share = first.filter((d) => d.readFromIceberg).length / keys.length;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
    expect(second).toEqual(first);
    // The decision is the documented hash, not chance.
    for (const [i, key] of keys.entries()) expect(first[i]!.readFromIceberg).toBe(stickyPercentile(key, ICEBRIDGE_FLAGS.icebergReadPercentage) < 10);
  });

  it('keeps the keys already on Iceberg there as the percentage grows', async () => {
    const flags = store();
    await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent');
    const at10 = await flags.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 10), undefined, 'absent');
    const ten = await Promise.all(keys.map((k) => new FlagEvaluator(flags).decide('t', k)));
    await flags.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 50), undefined, { etag: at10.etag });
    const fifty = await Promise.all(keys.map((k) => new FlagEvaluator(flags).decide('t', k)));
    for (const [i, d] of ten.entries()) if (d.readFromIceberg) expect(fifty[i]!.readFromIceberg).toBe(true);
  });

  it('lets the master switch override the percentage, and a table override the default', async () => {
    const flags = store();
    await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, false), undefined, 'absent');
    await flags.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 100), undefined, 'absent');
    await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), 'public.orders', 'absent');
    const evaluator = new FlagEvaluator(flags);
    expect((await evaluator.decide('public.customer', 'k')).readFromIceberg).toBe(false);
    expect((await evaluator.decide('public.orders', 'k')).readFromIceberg).toBe(true);
  });

  it('serves from its cache until the refresh interval, then sees a flip', async () => {
    const flags = store();
    const off = await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergAsPrimary, false), undefined, 'absent');
    let now = 0;
    const evaluator = new FlagEvaluator(flags, { refreshIntervalMs: 30_000, now: () => now });
    expect((await evaluator.decide('t', 'k')).icebergPrimary).toBe(false);
    await flags.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergAsPrimary, true), undefined, { etag: off.etag });
    now = 29_999;
    expect((await evaluator.decide('t', 'k')).icebergPrimary).toBe(false);
    now = 30_000;
    expect((await evaluator.decide('t', 'k')).icebergPrimary).toBe(true);
  });
});
