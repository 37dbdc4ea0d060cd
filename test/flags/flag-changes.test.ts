import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlagAuditTrail } from '../../shared/flags/audit-trail';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { type RollbackAlert, flagFromValue, rollbackToPostgres, setFlag } from '../../shared/flags/flag-changes';
import { FlagConflictError, type FlagStore } from '../../shared/flags/flag-store';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { createFileIO } from '../../shared/iceberg/io';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(): { store: LocalFlagStore; audit: FlagAuditTrail; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-'));
  dirs.push(dir);
  const root = path.join(dir, 'audit');
  return { store: new LocalFlagStore(path.join(dir, 'flags.json')), audit: new FlagAuditTrail(createFileIO(root), root), dir };
}

const alice = { actor: 'alice', reason: 'shift 10% of reads' };

describe('setFlag', () => {
  it('writes, records who, when, why, before and after, and does nothing when the flag already holds the value', async () => {
    const { store, audit } = setup();
    const name = ICEBRIDGE_FLAGS.icebergReadPercentage;
    const first = await setFlag(store, audit, { name, flag: flagFromValue(name, '10') }, alice);
    expect(first).toMatchObject({ changed: true, before: null, after: percentageFlag(name, 10) });
    const again = await setFlag(store, audit, { name, flag: flagFromValue(name, '10%') }, alice);
    expect(again.changed).toBe(false);
    await setFlag(store, audit, { name, flag: flagFromValue(name, '50') }, { actor: 'bob', reason: 'half' });
    const history = await audit.history({ flag: name });
    expect(history.map((e) => [e.actor, e.reason, e.before?.conditions?.client_filters, e.after.conditions?.client_filters])).toEqual([
      ['alice', 'shift 10% of reads', undefined, [{ name: 'Microsoft.Percentage', parameters: { Value: 10 } }]],
      ['bob', 'half', [{ name: 'Microsoft.Percentage', parameters: { Value: 10 } }], [{ name: 'Microsoft.Percentage', parameters: { Value: 50 } }]],
    ]);
    expect(Date.parse(history[0]!.at)).not.toBeNaN();
  });

  it('refuses a change without a reason, and one made at an etag that moved on', async () => {
    const { store, audit } = setup();
    const name = ICEBRIDGE_FLAGS.useIcebergStorage;
    await expect(setFlag(store, audit, { name, flag: switchFlag(name, true) }, { actor: 'a', reason: ' ' })).rejects.toThrow('a reason is required');
    const read = await setFlag(store, audit, { name, flag: switchFlag(name, true) }, alice);
    await setFlag(store, audit, { name, flag: switchFlag(name, false) }, alice);
    await expect(setFlag(store, audit, { name, flag: switchFlag(name, true), ifMatch: read.etag }, alice)).rejects.toBeInstanceOf(FlagConflictError);
    expect((await store.get(name))?.flag.enabled).toBe(false);
    expect(await audit.history()).toHaveLength(2);
  });
});

describe('rollbackToPostgres', () => {
  async function cutOver(store: FlagStore): Promise<void> {
    await store.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true), undefined, 'absent');
    await store.put(percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 50), undefined, 'absent');
    await store.put(switchFlag(ICEBRIDGE_FLAGS.useIcebergAsPrimary, true), 'public.orders', 'absent');
    await store.put(switchFlag('unrelated-feature', true), undefined, 'absent');
  }

  it('puts every icebridge flag back to PostgreSQL in one audited operation, raises an alert, and is idempotent', async () => {
    const { store, audit } = setup();
    await cutOver(store);
    const alerts: RollbackAlert[] = [];
    const result = await rollbackToPostgres(store, audit, { actor: 'oncall', reason: 'errors on Iceberg reads' }, (a) => alerts.push(a));
    expect(result.audited).toBe(true);
    expect(result.flags.filter((f) => f.changed).map((f) => [f.name, f.label ?? null])).toEqual(
      expect.arrayContaining([
        ['use-iceberg-storage', null],
        ['iceberg-read-percentage', null],
        ['use-iceberg-as-primary', 'public.orders'],
      ]),
    );
    for (const f of await store.list()) expect(f.flag.enabled).toBe(f.name === 'unrelated-feature');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ event: 'icebridge.emergency-rollback', actor: 'oncall', reason: 'errors on Iceberg reads' });
    expect((await audit.history()).filter((e) => e.action === 'rollback')).toHaveLength(3);

    const again = await rollbackToPostgres(store, audit, { actor: 'oncall', reason: 'again' }, (a) => alerts.push(a));
    expect(again.flags.every((f) => !f.changed)).toBe(true);
    expect((await audit.history()).filter((e) => e.action === 'rollback')).toHaveLength(3);
  });

  it('wins a race with an operator flipping a flag back on', async () => {
    const { store, audit } = setup();
    await cutOver(store);
    // A store whose first write of each flag meets a flip made a moment earlier by someone else.
    const racing: FlagStore = Object.create(store) as FlagStore;
    const raced = new Set<string>();
    racing.put = async (flag, label, condition) => {
      const id = `${flag.id}|${label ?? ''}`;
      if (!raced.has(id) && condition !== 'absent') {
        raced.add(id);
        await store.put(switchFlag(flag.id, true, 'operator'), label, condition);
      }
      return store.put(flag, label, condition);
    };
    const result = await rollbackToPostgres(racing, audit, { actor: 'oncall', reason: 'race' }, () => undefined);
    expect(raced.size).toBe(3);
    expect(result.flags.every((f) => f.after.enabled === false)).toBe(true);
    for (const f of await store.list()) if (f.name !== 'unrelated-feature') expect(f.flag.enabled).toBe(false);
  });

  it('flips the flags even when the audit trail cannot be written, and puts the entries in the alert', async () => {
    const { store, dir } = setup();
    await cutOver(store);
    // The audit root lies under a regular file: every write fails, as an unreachable storage account would.
    const blocked = path.join(dir, 'flags.json', 'audit');
    const audit = new FlagAuditTrail(createFileIO(blocked), blocked);
    const alerts: RollbackAlert[] = [];
    const result = await rollbackToPostgres(store, audit, { actor: 'oncall', reason: 'storage down' }, (a) => alerts.push(a));
    expect(result.audited).toBe(false);
    for (const f of await store.list()) if (f.name !== 'unrelated-feature') expect(f.flag.enabled).toBe(false);
    expect(alerts[0]?.auditError).toMatch(/could not be written/);
    expect(alerts[0]?.entries).toHaveLength(3);
  });
});
