/**
 * One contract for both flag stores: the local file (the default) and App Configuration, the latter through an
 * HTTP STAND-IN that speaks the documented REST API and checks HMAC signatures (no App Configuration emulator
 * installs here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppConfigurationFlagStore } from '../../shared/flags/app-configuration-store';
import { percentageFlag, switchFlag } from '../../shared/flags/feature-flag';
import { FlagConflictError, type FlagStore } from '../../shared/flags/flag-store';
import { LocalFlagStore } from '../../shared/flags/local-flag-store';
import { type AppConfigurationStandIn, startAppConfigurationStandIn } from './app-configuration-stand-in';

let standIn: AppConfigurationStandIn;
const dirs: string[] = [];

beforeAll(async () => {
  standIn = await startAppConfigurationStandIn();
});
afterAll(async () => {
  await standIn.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
/** Each test gets a fresh store: a new file, or new flag names in the shared stand-in. */
const stores: [string, () => { store: FlagStore; prefix: string }][] = [
  [
    'local file',
    () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-'));
      dirs.push(dir);
      return { store: new LocalFlagStore(path.join(dir, 'flags.json')), prefix: '' };
    },
  ],
  ['App Configuration (stand-in)', () => ({ store: new AppConfigurationFlagStore({ connectionString: standIn.connectionString }), prefix: `t${++counter}-` })],
];

describe.each(stores)('flag store contract: %s', (_kind, make) => {
  it('creates a flag only when absent, reads it back, and lists it', async () => {
    const { store, prefix } = make();
    const name = `${prefix}use-iceberg-storage`;
    expect(await store.get(name)).toBeUndefined();
    const created = await store.put(switchFlag(name, true), undefined, 'absent');
    expect(created).toMatchObject({ name, label: undefined, flag: { id: name, enabled: true } });
    expect(created.etag).not.toBe('');
    expect(created.etag.startsWith('-')).toBe(false); // `--if-match <etag>` must parse as a value
    expect(await store.get(name)).toEqual(created);
    await expect(store.put(switchFlag(name, false), undefined, 'absent')).rejects.toBeInstanceOf(FlagConflictError);
    expect((await store.list()).filter((f) => f.name === name)).toEqual([created]);
  });

  it('writes only at the etag read: a stale etag is refused and changes nothing', async () => {
    const { store, prefix } = make();
    const name = `${prefix}iceberg-read-percentage`;
    const first = await store.put(percentageFlag(name, 10), undefined, 'absent');
    const second = await store.put(percentageFlag(name, 50), undefined, { etag: first.etag });
    expect(second.etag).not.toBe(first.etag);
    await expect(store.put(percentageFlag(name, 100), undefined, { etag: first.etag })).rejects.toThrow(/changed since it was read/);
    expect((await store.get(name))?.flag).toEqual(percentageFlag(name, 50));
  });

  it('two racing flips from the same read: exactly one wins, the other is refused', async () => {
    const { store, prefix } = make();
    const name = `${prefix}use-iceberg-as-primary`;
    const read = await store.put(switchFlag(name, false), undefined, 'absent');
    const results = await Promise.allSettled([
      store.put(switchFlag(name, true, 'operator a'), undefined, { etag: read.etag }),
      store.put(switchFlag(name, true, 'operator b'), undefined, { etag: read.etag }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(FlagConflictError);
    expect((refused[0]!.reason as FlagConflictError).code).toBe('PRECONDITION_FAILED');
  });

  it('keeps a per-table override under its label, apart from the default', async () => {
    const { store, prefix } = make();
    const name = `${prefix}dual-write-mode`;
    await store.put(switchFlag(name, false), undefined, 'absent');
    const override = await store.put(switchFlag(name, true), 'public.orders', 'absent');
    expect(override.label).toBe('public.orders');
    expect((await store.get(name))?.flag.enabled).toBe(false);
    expect((await store.get(name, 'public.orders'))?.flag.enabled).toBe(true);
    expect((await store.list()).filter((f) => f.name === name).map((f) => f.label ?? null)).toEqual(expect.arrayContaining([null, 'public.orders']));
  });

  it('refuses a flag document it could not evaluate as written', async () => {
    const { store, prefix } = make();
    const name = `${prefix}validate-dual-writes`;
    const bad = { id: name, enabled: true, conditions: { client_filters: [{ name: 'Microsoft.Percentage', parameters: { Value: 150 } }] } };
    await expect(store.put(bad as never, undefined, 'absent')).rejects.toThrow(/Value must be a number from 0 to 100, found 150/);
    expect(await store.get(name)).toBeUndefined();
  });
});

describe('App Configuration store', () => {
  it('refuses a wrongly signed request and never repeats the secret', async () => {
    const secret = /Secret=([^;]+)/.exec(standIn.connectionString)![1]!;
    const wrong = standIn.connectionString.replace(secret, Buffer.from('not the secret').toString('base64'));
    const store = new AppConfigurationFlagStore({ connectionString: wrong });
    const failure = await store.get('use-iceberg-storage').then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/HTTP 401/);
    expect(failure?.message).not.toContain(secret);
    expect(failure?.message).not.toContain('not the secret');
    expect(store.description).toMatch(/^App Configuration 127\.0\.0\.1:\d+$/);
  });
});

describe('local flag store', () => {
  it('names the file and the fault of a damaged file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'icebridge-flags-'));
    dirs.push(dir);
    const file = path.join(dir, 'flags.json');
    writeFileSync(file, '{"items": 3}');
    await expect(new LocalFlagStore(file).list()).rejects.toThrow(`local flags file ${file} must hold {"items": [...]}`);
    const planted = { key: '.appconfig.featureflag/x', label: null, value: '{"id":"x","enabled":"yes"}', etag: 'e', last_modified: 'now' };
    writeFileSync(file, JSON.stringify({ items: [planted] }));
    await expect(new LocalFlagStore(file).get('x')).rejects.toThrow('flag x: "enabled" must be true or false');
  });
});
