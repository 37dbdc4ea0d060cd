import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings } from '../../shared/config/settings';

const KEY = 'c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=';

describe('settings', () => {
  it('defaults to a local warehouse under the working directory and freezes the result', () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({ warehouse: path.resolve('.icebridge/warehouse'), taskHub: 'icebridge', storage: {} });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('resolves a relative warehouse against the app root, as func start and serve need, and keeps URLs', () => {
    const hosted = { FUNCTIONS_WORKER_RUNTIME: 'node', ICEBRIDGE_TASK_HUB: 'icebridge' };
    expect(loadSettings({ ...hosted, ICEBRIDGE_WAREHOUSE: '.icebridge/warehouse', AzureWebJobsScriptRoot: '/srv/app' }).warehouse).toBe(
      '/srv/app/.icebridge/warehouse',
    );
    expect(loadSettings({ ...hosted, ICEBRIDGE_WAREHOUSE: 'wh' }).warehouse).toBe(path.resolve('wh'));
    expect(loadSettings({ ICEBRIDGE_WAREHOUSE: 'file:///data/wh' }).warehouse).toBe('file:///data/wh');
    expect(loadSettings({ ICEBRIDGE_WAREHOUSE: 'memory://wh' }).warehouse).toBe('memory://wh');
  });

  it('refuses anything but abfss:// on Azure, naming the setting', () => {
    const azure = {
      WEBSITE_INSTANCE_ID: 'abc123',
      FUNCTIONS_WORKER_RUNTIME: 'node',
      ICEBRIDGE_TASK_HUB: 'icebridge',
      ICEBRIDGE_STORAGE_ACCOUNT: 'acct',
      ICEBRIDGE_STORAGE_KEY: KEY,
    };
    for (const warehouse of [undefined, '.icebridge/warehouse', '/home/site/wh', 'file:///home/wh']) {
      expect(() => loadSettings({ ...azure, ...(warehouse ? { ICEBRIDGE_WAREHOUSE: warehouse } : {}) })).toThrow(/ICEBRIDGE_WAREHOUSE must be an abfss:\/\//);
    }
    expect(loadSettings({ ...azure, ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct.dfs.core.windows.net/wh' }).warehouse).toBe(
      'abfss://lake@acct.dfs.core.windows.net/wh',
    );
  });

  it('needs the task hub under a Functions host, where host.json has no default for it', () => {
    expect(() => loadSettings({ FUNCTIONS_WORKER_RUNTIME: 'node' })).toThrow(/ICEBRIDGE_TASK_HUB is not set/);
    expect(loadSettings({ FUNCTIONS_WORKER_RUNTIME: 'node', ICEBRIDGE_TASK_HUB: 'hub1' }).taskHub).toBe('hub1');
    expect(loadSettings({}).taskHub).toBe('icebridge');
  });

  it("accepts task hub names by Durable's rule: 3-45 letters and digits, starting with a letter", () => {
    expect(loadSettings({ ICEBRIDGE_TASK_HUB: `a${'b'.repeat(44)}` }).taskHub).toHaveLength(45);
    for (const bad of [`a${'b'.repeat(45)}`, 'ab', '1hub', 'my-hub', 'my_hub']) {
      expect(() => loadSettings({ ICEBRIDGE_TASK_HUB: bad }), bad).toThrow(/ICEBRIDGE_TASK_HUB must be 3-45/);
    }
  });

  it('reads account-key credentials and never shows the key', () => {
    const settings = loadSettings({
      ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct.dfs.core.windows.net/wh',
      ICEBRIDGE_STORAGE_ACCOUNT: 'acct',
      ICEBRIDGE_STORAGE_KEY: KEY,
    });
    expect(settings.storage.azure?.accounts).toEqual([{ accountName: 'acct', accountKey: KEY }]);
    expect(JSON.stringify(describeSettings(settings))).not.toContain(KEY);
    expect(describeSettings(settings).storageCredentials).toBe('account key for acct');
  });

  it('refuses an Azure warehouse without credentials and half-set keys, naming settings not values', () => {
    expect(() => loadSettings({ ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct.dfs.core.windows.net/wh' })).toThrow(/ICEBRIDGE_STORAGE_CONNECTION_STRING/);
    try {
      loadSettings({ ICEBRIDGE_STORAGE_KEY: KEY });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/must be set together/);
      expect(String(error)).not.toContain(KEY);
    }
    expect(() => loadSettings({ ICEBRIDGE_TASK_HUB: 'bad hub!' })).toThrow(/ICEBRIDGE_TASK_HUB/);
  });

  it('takes a postgres:// or postgresql:// source URL and refuses any other, naming the setting not the value', () => {
    expect(loadSettings({ ICEBRIDGE_SOURCE_URL: 'postgresql://u@h/db' }).sourceUrl).toBe('postgresql://u@h/db');
    expect(loadSettings({ ICEBRIDGE_SOURCE_URL: 'postgres://u@h/db' }).sourceUrl).toBe('postgres://u@h/db');
    const error = (() => {
      try {
        return loadSettings({ ICEBRIDGE_SOURCE_URL: `mysql://root:${KEY}@h/db` });
      } catch (e) {
        return e;
      }
    })();
    expect(String(error)).toBe('ValidationError: ICEBRIDGE_SOURCE_URL must be a postgres:// or postgresql:// URL');
  });
});
